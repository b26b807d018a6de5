// `chartprov serve project|user|robot …`: flags in, library call, text or JSON out.
import { resolve } from 'node:path';
import { AccountExistsError, AccountNotFoundError, PassphraseRequiredError, UsageError } from '../../errors.js';
import { checkPassword } from '../../registry/auth/names.js';
import {
  addRegistryUser,
  checkRole,
  createRegistryProject,
  createRegistryRobot,
  deleteRegistryProject,
  deleteRegistryRobot,
  deleteRegistryUser,
  listRegistryProjects,
  listRegistryRobots,
  listRegistryUsers,
  registryUserExists,
  setRegistryProjectMember,
  setRegistryUserPassword,
  type RobotInfo,
} from '../../flows/serve-accounts.js';
import { defaultRegistryDataDir } from '../../flows/serve-config.js';
import { printJson, println } from '../output.js';
import type { OutputFormat } from '../output.js';
import { promptHidden, readStdin } from '../passphrase.js';

interface DataFlags {
  data?: string;
  output: OutputFormat;
}

function dataDir(flags: DataFlags): string {
  return flags.data !== undefined ? resolve(flags.data) : defaultRegistryDataDir();
}

/** Columns padded to their widest cell; the last one is not padded. */
function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) println(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

// ---- projects

export async function projectCreateCommand(name: string, flags: DataFlags & { public?: boolean }): Promise<number> {
  const project = await createRegistryProject({ dataDir: dataDir(flags), name, public: flags.public ?? false });
  if (flags.output === 'json') printJson(project);
  else println(`Created ${project.public ? 'public' : 'private'} project ${project.name}`);
  return 0;
}

export async function projectListCommand(flags: DataFlags): Promise<number> {
  const projects = await listRegistryProjects({ dataDir: dataDir(flags) });
  if (flags.output === 'json') printJson({ projects });
  else
    printTable(
      ['NAME', 'ACCESS', 'REPOSITORIES', 'CREATED', 'MEMBERS'],
      projects.map((p) => [
        p.name,
        p.public ? 'public' : 'private',
        String(p.repositories),
        p.createdAt.slice(0, 10),
        p.members.map((m) => `${m.user} (${m.role})`).join(', ') || '-',
      ]),
    );
  return 0;
}

export async function projectDeleteCommand(name: string, flags: DataFlags & { force?: boolean }): Promise<number> {
  const r = await deleteRegistryProject({ dataDir: dataDir(flags), name, force: flags.force ?? false });
  if (flags.output === 'json') printJson(r);
  else {
    println(`Deleted project ${r.name}`);
    if (r.repositories.length > 0) {
      println(
        `  with ${r.repositories.length} repositor${r.repositories.length === 1 ? 'y' : 'ies'} (${r.manifestsDeleted} manifests): ${r.repositories.join(', ')}`,
      );
      println('  their blobs stay on disk until chartprov serve gc (with the server stopped)');
    }
  }
  return 0;
}

export async function projectMemberCommand(
  project: string,
  user: string,
  role: string | undefined,
  flags: DataFlags & { remove?: boolean },
): Promise<number> {
  if (flags.remove && role !== undefined) throw new UsageError('give a ROLE or --remove, not both');
  if (!flags.remove && role === undefined)
    throw new UsageError('a ROLE is required (or --remove)', { hint: 'roles: projectAdmin, maintainer, developer, guest, limitedGuest' });
  const checked = role === undefined ? undefined : checkRole(role);
  await setRegistryProjectMember({ dataDir: dataDir(flags), project, user, role: checked });
  if (flags.output === 'json') printJson({ project, user, role: checked ?? null });
  else println(checked ? `${user} is now ${checked} of ${project}` : `${user} is no longer a member of ${project}`);
  return 0;
}

// ---- users

interface PasswordFlags extends DataFlags {
  passwordStdin?: boolean;
}

/** From --password-stdin (all of stdin minus the trailing newline, as docker login), else asked twice on a terminal. */
async function newPassword(name: string, flags: PasswordFlags): Promise<string> {
  if (flags.passwordStdin) {
    const password = (await readStdin()).replace(/\r?\n$/, '');
    if (password === '')
      throw new UsageError('the password on stdin is empty', {
        hint: 'pipe the password in: printf %s "$PASSWORD" | chartprov serve user …',
      });
    return password;
  }
  if (process.stdin.isTTY !== true)
    throw new UsageError('no password given and stdin is not a terminal to ask for one', { hint: 'pipe it in with --password-stdin' });
  const ask = async (prompt: string) => {
    try {
      return await promptHidden(prompt);
    } catch (err) {
      if (err instanceof PassphraseRequiredError)
        throw new UsageError('password entry cancelled', { hint: 'run again and type the password twice' });
      throw err;
    }
  };
  const first = checkPassword(await ask(`New password for ${name}: `));
  if ((await ask('Repeat the password: ')) !== first)
    throw new UsageError('the two passwords differ', { hint: 'run again and type the same password twice' });
  return first;
}

export async function userAddCommand(name: string, flags: PasswordFlags & { admin?: boolean }): Promise<number> {
  const dir = dataDir(flags);
  // Refuse before asking for a password that would be thrown away.
  if (await registryUserExists({ dataDir: dir, name }))
    throw new AccountExistsError(`user ${name} already exists`, { hint: `change the password with chartprov serve user passwd ${name}` });
  const user = await addRegistryUser({ dataDir: dir, name, password: await newPassword(name, flags), admin: flags.admin ?? false });
  if (flags.output === 'json') printJson(user);
  else println(`Added ${user.admin ? 'admin ' : ''}user ${user.name}`);
  return 0;
}

export async function userPasswdCommand(name: string, flags: PasswordFlags): Promise<number> {
  const dir = dataDir(flags);
  if (!(await registryUserExists({ dataDir: dir, name }))) throw new AccountNotFoundError(`user ${name} not found`);
  await setRegistryUserPassword({ dataDir: dir, name, password: await newPassword(name, flags) });
  if (flags.output === 'json') printJson({ name, passwordChanged: true });
  else println(`Changed the password of ${name}`);
  return 0;
}

export async function userDelCommand(name: string, flags: DataFlags): Promise<number> {
  await deleteRegistryUser({ dataDir: dataDir(flags), name });
  if (flags.output === 'json') printJson({ name, deleted: true });
  else println(`Deleted user ${name}`);
  return 0;
}

export async function userListCommand(flags: DataFlags): Promise<number> {
  const users = await listRegistryUsers({ dataDir: dataDir(flags) });
  if (flags.output === 'json') printJson({ users });
  else
    printTable(
      ['NAME', 'ADMIN', 'CREATED'],
      users.map((u) => [u.name, u.admin ? 'yes' : 'no', u.createdAt.slice(0, 10)]),
    );
  return 0;
}

// ---- robots

const access = (r: RobotInfo) => r.permissions.map((p) => `${p.project}:${p.actions.join(',')}`).join(' ');
const expires = (r: RobotInfo) => r.expiresAt?.slice(0, 10) ?? 'never';

export async function robotCreateCommand(
  name: string,
  flags: DataFlags & { project?: string[]; expiresDays?: string; description?: string },
): Promise<number> {
  if (!flags.project || flags.project.length === 0)
    throw new UsageError('a robot needs at least one --project PROJECT:pull[,push,delete]', {
      hint: 'e.g. --project charts:pull,push (PROJECT may be *)',
    });
  let expiresInDays: number | undefined;
  if (flags.expiresDays !== undefined) {
    expiresInDays = /^-?\d+$/.test(flags.expiresDays) ? Number(flags.expiresDays) : NaN;
    if (Number.isNaN(expiresInDays))
      throw new UsageError(`--expires-days must be a whole number of days, not ${JSON.stringify(flags.expiresDays)}`);
  }
  const { robot, secret } = await createRegistryRobot({
    dataDir: dataDir(flags),
    name,
    permissions: flags.project,
    ...(flags.description ? { description: flags.description } : {}),
    ...(expiresInDays !== undefined ? { expiresInDays } : {}),
  });
  // The one place besides a first start that prints a secret: it exists nowhere else.
  if (flags.output === 'json') printJson({ ...robot, secret });
  else {
    println(`name:    ${robot.name}`);
    println(`secret:  ${secret}`);
    println(`access:  ${access(robot)}`);
    println(`expires: ${expires(robot)}`);
    process.stderr.write(
      'note: the secret is shown only this once; store it now (log in with the name robot$… and the secret as password)\n',
    );
  }
  return 0;
}

export async function robotListCommand(flags: DataFlags): Promise<number> {
  const robots = await listRegistryRobots({ dataDir: dataDir(flags) });
  if (flags.output === 'json') printJson({ robots });
  else
    printTable(
      ['NAME', 'ACCESS', 'EXPIRES', 'DESCRIPTION'],
      robots.map((r) => [r.name, access(r), expires(r), r.description ?? '']),
    );
  return 0;
}

export async function robotDeleteCommand(name: string, flags: DataFlags): Promise<number> {
  await deleteRegistryRobot({ dataDir: dataDir(flags), name });
  const full = name.startsWith('robot$') ? name : `robot$${name}`;
  if (flags.output === 'json') printJson({ name: full, deleted: true });
  else println(`Deleted robot account ${full}`);
  return 0;
}
