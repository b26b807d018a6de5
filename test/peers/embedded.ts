// The embedded registry (src/registry) with Harbor's access model, as a peer
// for tests: in this process (`startEmbedded`) or in a child process that a
// test may kill -9 and start again on the same data folder (`spawnEmbedded`).
// Both come with an admin, helpers to add projects and users, and a way to get
// bearer tokens from its /service/token the way docker, Helm and skopeo do.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, delimiter } from 'node:path';
import { createInterface } from 'node:readline';
import { RegistryClient } from '../../src/oci/client.js';
import type { ProjectRole } from '../../src/registry/auth/model.js';
import { startRegistry, type RunningRegistry, type StartRegistryOptions } from '../../src/registry/server.js';
import { assertNoSecrets, rememberSecret, SECRETS } from './secrets.js';
import { tempDir } from './tmp.js';

/** A password that meets the registry's (Harbor's) policy. */
export const ADMIN_PASSWORD = SECRETS.embeddedAdmin;

export interface Creds {
  username: string;
  password: string;
}

export interface NewUser {
  /** Default: a policy-conforming password derived from the name. */
  password?: string;
  admin?: boolean;
  /** project → role, e.g. `{ 'helm-charts': 'developer' }`. */
  roles?: Record<string, ProjectRole>;
}

export interface EmbeddedRegistry {
  registry: RunningRegistry;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, as in oci:// references. */
  host: string;
  dataDir: string;
  admin: Creds;
  addProject(name: string, opts?: { public?: boolean }): Promise<void>;
  addUser(name: string, opts?: NewUser): Promise<Creds>;
  /** A bearer token from /service/token for these scopes (`repository:p/r:pull,push`); anonymous without creds. */
  token(creds: Creds | undefined, ...scopes: string[]): Promise<string>;
  /** A chartprov RegistryClient over plain HTTP logging in with `creds` (close it after use). */
  client(creds: Creds, opts?: { connections?: number }): Promise<RegistryClient>;
  /** Closes the server and removes the data folder when this helper made it. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions extends Partial<Omit<StartRegistryOptions, 'auth' | 'dataDir'>> {
  /** Default: a fresh temp folder, removed by stop(). */
  dataDir?: string;
  /** Projects to create at once (private). */
  projects?: string[];
}

export function defaultPassword(name: string): string {
  return `Pw-${name}-Secret9`;
}

/** GET /service/token with optional Basic credentials, as Docker clients do after a 401 challenge. */
export async function fetchToken(url: string, creds: Creds | undefined, scopes: string[], service = 'chartprov-registry'): Promise<string> {
  const q = new URLSearchParams({ service });
  for (const s of scopes) q.append('scope', s);
  const headers: Record<string, string> = {};
  if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  const res = await fetch(`${url}/service/token?${q}`, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${text}`);
  const token = (JSON.parse(text) as { token: string }).token;
  rememberSecret('a bearer token from the embedded registry', token);
  return token;
}

export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<EmbeddedRegistry> {
  const tmp = opts.dataDir ? undefined : await tempDir('chartprov-embedded-');
  const dataDir = opts.dataDir ?? join(tmp!.dir, 'data');
  const { projects, dataDir: _d, ...start } = opts;
  // Every line the registry logs is checked for known secrets; a leak fails stop() (a log callback must not throw).
  const leaks: Error[] = [];
  const log = (line: string) => {
    try {
      assertNoSecrets('the embedded registry log', line);
    } catch (err) {
      leaks.push(err as Error);
    }
    opts.log?.(line);
  };
  let registry: RunningRegistry;
  try {
    registry = await startRegistry({ ...start, log, dataDir, auth: 'harbor', adminPassword: opts.adminPassword ?? ADMIN_PASSWORD });
  } catch (err) {
    await tmp?.cleanup();
    throw err;
  }
  const access = registry.access!;
  const admin = { username: 'admin', password: opts.adminPassword ?? ADMIN_PASSWORD };
  rememberSecret('the embedded registry admin password', admin.password);
  // A robot's secret is shown once, to whoever made the robot: from then on it is a known secret.
  const createRobot = access.accounts.createRobot.bind(access.accounts);
  access.accounts.createRobot = async (robot) => {
    const made = await createRobot(robot);
    rememberSecret(`the secret of ${made.robot.name}`, made.secret);
    return made;
  };
  const service = access.settings.service;
  for (const p of projects ?? []) await access.accounts.createProject({ name: p, public: false });
  let stopped: Promise<void> | undefined;
  return {
    registry,
    url: registry.url,
    host: registry.host,
    dataDir,
    admin,
    async addProject(name, o = {}) {
      await access.accounts.createProject({ name, public: o.public ?? false });
    },
    async addUser(name, o = {}) {
      const password = o.password ?? defaultPassword(name);
      rememberSecret(`the password of embedded user ${name}`, password);
      await access.accounts.addUser({ name, password, admin: o.admin ?? false });
      for (const [project, role] of Object.entries(o.roles ?? {})) await access.accounts.setMember(project, name, role);
      return { username: name, password };
    },
    token: (creds, ...scopes) => fetchToken(registry.url, creds, scopes, service),
    client: (creds, o = {}) =>
      RegistryClient.create({
        plainHttp: true,
        credential: { username: creds.username, password: creds.password },
        ...(o.connections ? { connections: o.connections } : {}),
      }),
    stop() {
      stopped ??= (async () => {
        await registry.close();
        await tmp?.cleanup();
        if (leaks.length > 0) throw leaks[0]!;
      })();
      return stopped;
    },
  };
}

// ---- in a child process

export interface SpawnedRegistry {
  url: string;
  host: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  /** The child's stderr so far. */
  stderr(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (the entry script closes the server), SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  dataDir: string;
  adminPassword?: string;
  /** 0 (default): any free port. */
  port?: number;
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let hookInstalled = false;

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, command)));
}
const useSetpriv = onPath('setpriv');

/** The compiled server module, beside this file in dist/. */
const serverModule = new URL('../../src/registry/server.js', import.meta.url).href;

const ENTRY = `
import { startRegistry } from ${JSON.stringify(serverModule)};
const opts = JSON.parse(process.argv[1]);
let reg;
try {
  reg = await startRegistry({ ...opts, auth: 'harbor' });
} catch (err) {
  process.stderr.write('error[' + (err.code ?? 'ERROR') + ']: ' + err.message + '\\n');
  process.exit(1);
}
process.stdout.write(JSON.stringify({ url: reg.url, host: reg.host, port: reg.port, pid: process.pid }) + '\\n');
process.on('SIGTERM', () => { reg.close().finally(() => process.exit(0)); });
`;

/**
 * Starts the registry in its own node process and waits for the line with its
 * URL. The process dies with this one (setpriv's parent-death signal, and an
 * exit hook as a fallback).
 */
export async function spawnEmbedded(opts: SpawnOptions): Promise<SpawnedRegistry> {
  const args = [
    '--input-type=module',
    '-e',
    ENTRY,
    JSON.stringify({ dataDir: opts.dataDir, adminPassword: opts.adminPassword ?? ADMIN_PASSWORD, port: opts.port ?? 0 }),
  ];
  const child = useSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal);
    });
    child.once('error', () => resolve(-1));
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry child did not start in time:\n${err}`)), opts.startTimeoutMs ?? 15_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`registry child exited (${code}) before it started:\n${err}`));
    });
  });
  const info = JSON.parse(first) as { url: string; host: string; port: number; pid: number };
  const gone = async () => {
    await exited;
    assertNoSecrets(`the registry child ${info.pid}`, err);
  };
  return {
    ...info,
    child,
    exited,
    stderr: () => err,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) {
        // The node process itself (not setpriv, which exec'd into it: same pid).
        process.kill(info.pid, 'SIGKILL');
      }
      await gone();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone();
      clearTimeout(t);
    },
  };
}
