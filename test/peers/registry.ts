// The real docker-registry (distribution 2.8.2, Debian package) as a peer for
// tests and benchmarks: each instance gets its own temp config, storage and
// loopback port, optionally TLS (with or without client certificates) and
// htpasswd or token auth. Quirks it has: ../shared/docs/oci-registries.md §2.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hash } from 'bcryptjs';
import { stringify } from 'yaml';
import { assertNoSecrets, rememberSecret } from './secrets.js';
import { tempDir } from './tmp.js';
import { issueClientCert, issueServerCert, makeTestCa } from './tls.js';
import type { TokenServer } from './token-server.js';

/**
 * What `auth.token` needs: a running test token server, or any other token
 * service (e.g. the embedded registry's `/service/token`, with its
 * `tokenCertificateFile` as `certFile`).
 */
export type TokenAuthConfig = Pick<TokenServer, 'realm' | 'service' | 'issuer' | 'certFile'>;

export type RegistryAuth = { htpasswd: Record<string, string> } | { token: TokenAuthConfig };

export interface RegistryOptions {
  auth?: RegistryAuth;
  /** HTTPS with a fresh test CA; `clientCa` also makes the registry require a client certificate from it. */
  tls?: boolean | { clientCa?: boolean };
  /** `storage.delete.enabled`: without it DELETE of manifests and blobs answers 405. */
  deleteEnabled?: boolean;
  /** Default `warn`; `info` shows why a token was refused. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** How long to wait for /v2/ to answer (default 15 s). */
  startTimeoutMs?: number;
}

export interface DockerRegistry {
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, as in image references. */
  host: string;
  port: number;
  storageDir: string;
  configFile: string;
  caFile?: string;
  /** The CA certificate as PEM, for `ca:` options (undici `connect`, node:https). */
  caCert?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  /** Docker's certs.d layout (ca.crt, client.cert, client.key) for skopeo's --src-cert-dir/--dest-cert-dir. */
  certsDir?: string;
  /** TLS options for undici's `Agent({ connect })` or node:https: the CA and, with clientCa, the client pair. */
  tlsConnect?: { ca: string; cert?: string; key?: string };
  /** The registry's stdout+stderr. */
  logFile: string;
  readLog(): Promise<string>;
  /** Kills the registry and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

/** The last resort when a test forgets stop() or fails before `after`: no registry outlives the test process. */
function track(entry: { child: ChildProcess; dir: string }): void {
  live.add(entry);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const { child, dir } of live) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, command)));
}

// setpriv's parent-death signal covers what an exit hook cannot: the test
// process being SIGKILLed (or dying on a signal) by the runner.
const useSetpriv = onPath('setpriv');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** GET /v2/ once; the status code, or undefined when nothing answered yet. */
function probe(url: string, tls: DockerRegistry['tlsConnect']): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(`${url}/v2/`, { method: 'GET', agent: false, timeout: 1000, ...(tls ?? {}) }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Child's environment without REGISTRY_* variables: distribution reads them as config overrides. */
function registryEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
}

function authConfig(auth: RegistryAuth | undefined, htpasswdFile: string): object | undefined {
  if (!auth) return undefined;
  if ('htpasswd' in auth) return { htpasswd: { realm: 'chartprov-test', path: htpasswdFile } };
  const t = auth.token;
  return { token: { realm: t.realm, service: t.service, issuer: t.issuer, rootcertbundle: t.certFile } };
}

async function writeHtpasswd(file: string, users: Record<string, string>): Promise<void> {
  // bcryptjs writes $2b$; Go's x/crypto/bcrypt (all distribution accepts) takes any minor version.
  // Cost 5: the registry checks the hash on every request, and cost 10+ would dominate test time.
  const lines = await Promise.all(Object.entries(users).map(async ([u, p]) => `${u}:${await hash(p, 5)}\n`));
  await writeFile(file, lines.join(''), { mode: 0o600 });
}

interface Started {
  child: ChildProcess;
  exited: Promise<number | null>;
}

function spawnRegistry(configFile: string, logFile: string): Started {
  // Truncate: a retried start must not match the previous attempt's "address already in use".
  const fd = openSync(logFile, 'w');
  try {
    const args = ['serve', configFile];
    const child = useSetpriv
      ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'docker-registry', ...args], { stdio: ['ignore', fd, fd], env: registryEnv() })
      : spawn('docker-registry', args, { stdio: ['ignore', fd, fd], env: registryEnv() });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(-1));
    });
    return { child, exited };
  } finally {
    closeSync(fd);
  }
}

async function waitReady(
  url: string,
  tls: DockerRegistry['tlsConnect'],
  started: Started,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  let exited = false;
  void started.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) return 'exited';
    const status = await probe(url, tls);
    if (status === 200 || status === 401) return 'ready';
    await sleep(25);
  }
  return 'timeout';
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function startDockerRegistry(opts: RegistryOptions = {}): Promise<DockerRegistry> {
  const tmp = await tempDir('chartprov-registry-');
  const dir = tmp.dir;
  const storageDir = join(dir, 'storage');
  const configFile = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  const htpasswdFile = join(dir, 'htpasswd');
  await mkdir(storageDir);
  try {
    if (opts.auth && 'htpasswd' in opts.auth) {
      for (const [user, password] of Object.entries(opts.auth.htpasswd)) rememberSecret(`docker-registry password of ${user}`, password);
      await writeHtpasswd(htpasswdFile, opts.auth.htpasswd);
    }

    let tlsFiles: Pick<DockerRegistry, 'caFile' | 'caCert' | 'clientCertFile' | 'clientKeyFile' | 'certsDir' | 'tlsConnect'> = {};
    let httpTls: object | undefined;
    if (opts.tls) {
      const ca = await makeTestCa(join(dir, 'tls'));
      const server = await issueServerCert(ca);
      const client = typeof opts.tls === 'object' && opts.tls.clientCa ? await issueClientCert(ca) : undefined;
      const certsDir = join(dir, 'certs.d');
      await mkdir(certsDir);
      await copyFile(ca.certFile, join(certsDir, 'ca.crt'));
      if (client) {
        await copyFile(client.certFile, join(certsDir, 'client.cert'));
        await copyFile(client.keyFile, join(certsDir, 'client.key'));
      }
      httpTls = { certificate: server.certFile, key: server.keyFile, ...(client ? { clientcas: [ca.certFile] } : {}) };
      tlsFiles = {
        caFile: ca.certFile,
        caCert: ca.certPem,
        certsDir,
        tlsConnect: { ca: ca.certPem, ...(client ? { cert: client.certPem, key: client.keyPem } : {}) },
        ...(client ? { clientCertFile: client.certFile, clientKeyFile: client.keyFile } : {}),
      };
    }

    const auth = authConfig(opts.auth, htpasswdFile);
    const scheme = opts.tls ? 'https' : 'http';
    // The port is free when we look, not necessarily when the registry binds: retry on a lost race.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = {
        version: '0.1',
        log: { level: opts.logLevel ?? 'warn', formatter: 'text', accesslog: { disabled: true } },
        storage: {
          filesystem: { rootdirectory: storageDir },
          delete: { enabled: Boolean(opts.deleteEnabled) },
          // The purger would start a background walk of _uploads a few seconds in; tests don't need it.
          maintenance: { uploadpurging: { enabled: false } },
        },
        http: {
          addr: `127.0.0.1:${port}`,
          // Without a secret each start logs a warning and upload state can't be checked across restarts.
          secret: randomBytes(16).toString('hex'),
          ...(httpTls ? { tls: httpTls } : {}),
        },
        ...(auth ? { auth } : {}),
      };
      await writeFile(configFile, stringify(config));
      const url = `${scheme}://127.0.0.1:${port}`;
      const started = spawnRegistry(configFile, logFile);
      const entry = { child: started.child, dir };
      track(entry);
      const state = await waitReady(url, tlsFiles.tlsConnect, started, opts.startTimeoutMs ?? 15_000);
      if (state === 'ready') {
        let stopped: Promise<void> | undefined;
        return {
          url,
          host: `127.0.0.1:${port}`,
          port,
          storageDir,
          configFile,
          logFile,
          ...tlsFiles,
          readLog: () => readFile(logFile, 'utf8'),
          stop() {
            stopped ??= (async () => {
              await stopChild(started.child, started.exited);
              live.delete(entry);
              // Its log is output of the suite too: no test secret may appear in it.
              const log = await readFile(logFile, 'utf8').catch(() => '');
              await tmp.cleanup();
              assertNoSecrets('docker-registry log', log);
            })();
            return stopped;
          },
        };
      }
      await stopChild(started.child, started.exited);
      live.delete(entry);
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (state === 'exited' && /address already in use/i.test(log) && attempt < 5) continue;
      throw new Error(`docker-registry did not start (${state}) on ${url}:\n${log.slice(-4000)}`);
    }
  } catch (err) {
    await tmp.cleanup();
    throw err;
  }
}
