/**
 * Projects, users and robot accounts of an embedded registry, managed on its
 * data folder directly: `chartprov serve project|user|robot …`. They work
 * while a server runs on the same folder (the accounts file is shared under
 * a lock and the server reloads it on change), so a change takes effect on
 * the next request.
 */
import { stat } from 'node:fs/promises';
import { AccountNotFoundError, FileNotFoundError, ServeConfigError, UsageError } from '../errors.js';
import { Accounts, type ProjectInfo, type RobotInfo, type UserInfo } from '../registry/auth/accounts.js';
import { PROJECT_ROLES, type ProjectRole, type RegistryAction, type RobotPermission } from '../registry/auth/model.js';
import { checkProjectName } from '../registry/auth/names.js';
import { createFilesystemStorage, type RegistryStorage } from '../registry/storage/index.js';

export type { ProjectInfo, ProjectRole, RobotInfo, RobotPermission, UserInfo };

export interface RegistryDataOptions {
  /** The registry's data folder (`chartprov serve --data`); it must exist. */
  dataDir: string;
}

/** The data folder must exist: a mistyped --data must not quietly make a second, empty registry. */
async function openAccounts(dataDir: string): Promise<Accounts> {
  await checkDataDir(dataDir);
  return Accounts.open(dataDir);
}

async function checkDataDir(dataDir: string): Promise<void> {
  const st = await stat(dataDir).catch(() => undefined);
  if (!st)
    throw new FileNotFoundError(dataDir, 'registry data folder', {
      hint: 'check --data, or start the registry once with chartprov serve --data DIR',
    });
  if (!st.isDirectory()) throw new ServeConfigError(`the registry data path ${dataDir} is not a folder`, { hint: 'check --data' });
}

// ---- projects

export interface ProjectSummary extends ProjectInfo {
  /** Repositories holding at least one manifest. */
  repositories: number;
}

export async function createRegistryProject(opts: RegistryDataOptions & { name: string; public?: boolean }): Promise<ProjectInfo> {
  const accounts = await openAccounts(opts.dataDir);
  return accounts.createProject({ name: opts.name, public: opts.public ?? false });
}

/** Every project with its members and how many repositories it holds. */
export async function listRegistryProjects(opts: RegistryDataOptions): Promise<ProjectSummary[]> {
  const accounts = await openAccounts(opts.dataDir);
  const storage = await createFilesystemStorage(opts.dataDir);
  const counts = new Map<string, number>();
  for (const repo of await repositoriesWithContent(storage)) {
    const project = repo.slice(0, repo.indexOf('/'));
    counts.set(project, (counts.get(project) ?? 0) + 1);
  }
  return accounts.listProjects().map((p) => ({ ...structuredClone(p), repositories: counts.get(p.name) ?? 0 }));
}

/**
 * The repositories of `project` that hold anything (a manifest or a tag).
 * Storage keeps a repository's folder after its last manifest is deleted;
 * such an empty one does not count.
 */
export async function listProjectRepositories(opts: RegistryDataOptions & { project: string }): Promise<string[]> {
  await checkDataDir(opts.dataDir);
  const name = checkProjectName(opts.project);
  return (await repositoriesWithContent(await createFilesystemStorage(opts.dataDir))).filter((r) => r.startsWith(`${name}/`));
}

async function repositoriesWithContent(storage: RegistryStorage): Promise<string[]> {
  const out: string[] = [];
  for (const repo of await storage.listRepositories()) {
    // A repository outside any project cannot be reached through the server; it belongs to no project.
    if (!repo.includes('/')) continue;
    if ((await storage.listManifests(repo)).length > 0 || (await storage.listTags(repo)).length > 0) out.push(repo);
  }
  return out;
}

export interface DeleteProjectResult {
  name: string;
  /** Repositories that held content (emptied with `force`). */
  repositories: string[];
  /** Manifests removed (with their tags) from those repositories. */
  manifestsDeleted: number;
}

/**
 * Deletes a project. One that still holds repositories is refused
 * (PROJECT_NOT_EMPTY, as in Harbor) unless `force`; then every manifest and
 * tag of its repositories goes too, and the repositories' links to the
 * layers those manifests named. The blobs themselves stay, possibly shared
 * with other repositories, until `chartprov serve gc` finds them unused.
 */
export async function deleteRegistryProject(opts: RegistryDataOptions & { name: string; force?: boolean }): Promise<DeleteProjectResult> {
  const accounts = await openAccounts(opts.dataDir);
  const name = checkProjectName(opts.name);
  if (!accounts.getProject(name)) throw new AccountNotFoundError(`project ${name} not found`);
  const storage = await createFilesystemStorage(opts.dataDir);
  const inProject = async () => (await repositoriesWithContent(storage)).filter((r) => r.startsWith(`${name}/`));
  const repositories = await inProject();
  let manifestsDeleted = 0;
  // Empty first, then drop the project: the project (and so every push into
  // it) stays until its content is gone, and a failure half-way leaves a
  // project one can still delete again.
  if (opts.force) for (const repo of repositories) manifestsDeleted += await emptyRepository(storage, repo);
  await accounts.deleteProject(name, { repositories: repositories.length, force: opts.force ?? false });
  // A push that was authorized before the project went may have landed since.
  if (opts.force) for (const repo of await inProject()) manifestsDeleted += await emptyRepository(storage, repo);
  return { name, repositories, manifestsDeleted };
}

/** Removes every manifest and tag of `repo`, and its links to the blobs they named. */
async function emptyRepository(storage: RegistryStorage, repo: string): Promise<number> {
  let deleted = 0;
  for (const digest of await storage.listManifests(repo)) {
    const named = await namedBlobs(storage, repo, digest);
    if (await storage.deleteManifest(repo, digest)) deleted++;
    for (const blob of named) await storage.unlinkBlob(repo, blob);
  }
  // Tags left naming nothing stored (damage) would make the repository look non-empty forever.
  for (const tag of await storage.listTags(repo)) await storage.deleteTag(repo, tag);
  return deleted;
}

async function namedBlobs(storage: RegistryStorage, repo: string, digest: string): Promise<string[]> {
  try {
    const manifest = await storage.getManifest(repo, digest);
    if (!manifest) return [];
    const doc = JSON.parse(manifest.bytes.toString('utf8')) as { config?: { digest?: unknown }; layers?: Array<{ digest?: unknown }> };
    return [doc.config?.digest, ...(Array.isArray(doc.layers) ? doc.layers.map((l) => l?.digest) : [])].filter(
      (d): d is string => typeof d === 'string' && /^sha(256|512):[a-f0-9]+$/.test(d),
    );
  } catch {
    // An unreadable manifest still goes; its links stay for gc to judge.
    return [];
  }
}

export interface SetMemberOptions extends RegistryDataOptions {
  project: string;
  user: string;
  /** The role to give; undefined removes the membership. */
  role: ProjectRole | undefined;
}

/** Gives a user a role in a project, or (role undefined) removes them from it. */
export async function setRegistryProjectMember(opts: SetMemberOptions): Promise<void> {
  if (opts.role !== undefined) checkRole(opts.role);
  const accounts = await openAccounts(opts.dataDir);
  await accounts.setMember(opts.project, opts.user, opts.role);
}

export function checkRole(role: string): ProjectRole {
  if (!(PROJECT_ROLES as readonly string[]).includes(role))
    throw new UsageError(`unknown role ${JSON.stringify(role)}`, { hint: `use one of ${PROJECT_ROLES.join(', ')}` });
  return role as ProjectRole;
}

// ---- users

export async function addRegistryUser(opts: RegistryDataOptions & { name: string; password: string; admin?: boolean }): Promise<UserInfo> {
  const accounts = await openAccounts(opts.dataDir);
  return accounts.addUser({ name: opts.name, password: opts.password, admin: opts.admin ?? false });
}

export async function setRegistryUserPassword(opts: RegistryDataOptions & { name: string; password: string }): Promise<void> {
  const accounts = await openAccounts(opts.dataDir);
  await accounts.setPassword(opts.name, opts.password);
}

/** Deletes a user and their project memberships; the last admin cannot go. */
export async function deleteRegistryUser(opts: RegistryDataOptions & { name: string }): Promise<void> {
  const accounts = await openAccounts(opts.dataDir);
  await accounts.deleteUser(opts.name);
}

export async function listRegistryUsers(opts: RegistryDataOptions): Promise<UserInfo[]> {
  return (await openAccounts(opts.dataDir)).listUsers().map((u) => structuredClone(u));
}

/** Whether the registry has a user of that name (to refuse before asking for a password). */
export async function registryUserExists(opts: RegistryDataOptions & { name: string }): Promise<boolean> {
  return (await openAccounts(opts.dataDir)).listUsers().some((u) => u.name === opts.name);
}

// ---- robots

const ACTIONS: readonly RegistryAction[] = ['pull', 'push', 'delete'];

/** `PROJECT:pull[,push,delete]`; PROJECT may be `*` (every project, now and later). */
export function parseRobotPermission(spec: string): RobotPermission {
  const colon = spec.lastIndexOf(':');
  const project = colon < 0 ? '' : spec.slice(0, colon);
  const actions =
    colon < 0
      ? []
      : spec
          .slice(colon + 1)
          .split(',')
          .map((a) => a.trim());
  const bad = actions.filter((a) => !(ACTIONS as readonly string[]).includes(a));
  if (project === '' || actions.length === 0 || bad.length > 0)
    throw new UsageError(
      `invalid robot permission ${JSON.stringify(spec)}${bad.length > 0 ? `: unknown action ${bad.map((a) => JSON.stringify(a)).join(', ')}` : ''}`,
      {
        hint: 'write PROJECT:ACTIONS with actions from pull, push, delete, e.g. --project charts:pull,push (PROJECT may be *)',
      },
    );
  if (project !== '*') checkProjectName(project);
  return { project, actions: [...new Set(actions as RegistryAction[])] };
}

export interface CreateRobotOptions extends RegistryDataOptions {
  /** `name` or `robot$name`. */
  name: string;
  /** Each `PROJECT:pull[,push,delete]`, or already parsed. */
  permissions: Array<string | RobotPermission>;
  description?: string;
  /** Days until the secret stops working; undefined or -1: never. */
  expiresInDays?: number;
}

/** Creates a robot account; its secret is returned here and never again. */
export async function createRegistryRobot(opts: CreateRobotOptions): Promise<{ robot: RobotInfo; secret: string }> {
  const days = opts.expiresInDays;
  if (days !== undefined && days !== -1 && !(Number.isSafeInteger(days) && days > 0))
    throw new UsageError(`--expires-days must be a positive whole number of days (or -1 for never), not ${days}`);
  const merged = new Map<string, Set<RegistryAction>>();
  for (const p of opts.permissions.map((x) => (typeof x === 'string' ? parseRobotPermission(x) : x))) {
    const set = merged.get(p.project) ?? new Set<RegistryAction>();
    p.actions.forEach((a) => set.add(a));
    merged.set(p.project, set);
  }
  const accounts = await openAccounts(opts.dataDir);
  return accounts.createRobot({
    name: opts.name,
    permissions: [...merged].map(([project, actions]) => ({ project, actions: ACTIONS.filter((a) => actions.has(a)) })),
    ...(opts.description ? { description: opts.description } : {}),
    ...(days !== undefined ? { expiresInDays: days } : {}),
  });
}

export async function listRegistryRobots(opts: RegistryDataOptions): Promise<RobotInfo[]> {
  return (await openAccounts(opts.dataDir)).listRobots().map((r) => structuredClone(r));
}

export async function deleteRegistryRobot(opts: RegistryDataOptions & { name: string }): Promise<void> {
  await (await openAccounts(opts.dataDir)).deleteRobot(opts.name);
}
