// The real skopeo (containers/image), a second independent OCI client to check
// that what chartprov pushes is readable by others and vice versa.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunResult } from './helm.js';

const execFileP = promisify(execFile);

export interface SkopeoOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Prepend `--insecure-policy` (default true): tests copy unsigned images and must not depend on /etc/containers/policy.json. */
  insecurePolicy?: boolean;
}

let isolatedHome: string | undefined;

/**
 * One HOME per test process with an empty registries.conf and its own auth
 * file, so `skopeo login` never writes to, and lookups never read, the
 * developer's ~/.docker/config.json, auth.json or unqualified-search registries.
 */
function skopeoHome(): string {
  if (!isolatedHome) {
    const home = mkdtempSync(join(tmpdir(), 'chartprov-skopeo-'));
    mkdirSync(join(home, 'run'), { mode: 0o700 });
    writeFileSync(join(home, 'registries.conf'), 'unqualified-search-registries = []\n');
    writeFileSync(join(home, 'auth.json'), '{"auths":{}}\n', { mode: 0o600 });
    process.on('exit', () => rmSync(home, { recursive: true, force: true }));
    isolatedHome = home;
  }
  return isolatedHome;
}

/** The isolated environment skopeo runs in: no user auth file, no search registries (also for scripts that call skopeo). */
export function skopeoEnv(): NodeJS.ProcessEnv {
  const home = skopeoHome();
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    XDG_CONFIG_HOME: join(home, 'config'),
    REGISTRY_AUTH_FILE: join(home, 'auth.json'),
    CONTAINERS_REGISTRIES_CONF: join(home, 'registries.conf'),
  };
}

/** Runs skopeo in an isolated environment; never throws on exit status. */
export async function runSkopeo(args: string[], opts: SkopeoOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...skopeoEnv(), ...opts.env };
  const full = opts.insecurePolicy === false || args.includes('--policy') ? args : ['--insecure-policy', ...args];
  try {
    const { stdout, stderr } = await execFileP('skopeo', full, { cwd: opts.cwd, env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message?: string };
    // ENOENT and friends come as string codes: report them like a failed run.
    return { code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: e.stderr || (e.message ?? '') };
  }
}
