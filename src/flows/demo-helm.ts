/**
 * The one step of `chartprov demo` that runs another program: `helm pull
 * --verify` against the demo registry, to show Helm accepts what chartprov
 * signed and pushed. Helm is looked up on PATH directly (no shell), and runs
 * with every file it could write or read (HOME, registry login, caches)
 * inside the demo workspace.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { DemoFailedError } from '../errors.js';

/** The first executable file named `helm` in PATH's folders, or undefined. */
export async function findHelmOnPath(path: string | undefined): Promise<string | undefined> {
  for (const dir of (path ?? '').split(delimiter)) {
    // An empty or relative entry means the current folder: not a place the demo should run programs from.
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, 'helm');
    try {
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there, or not executable: the next folder.
    }
  }
  return undefined;
}

export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runHelm(helm: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<HelmRun> {
  return new Promise((resolve) => {
    execFile(helm, args, { env, timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({
        code: err ? (typeof code === 'number' ? code : 1) : 0,
        stdout,
        stderr: stderr || (err && typeof code !== 'number' ? err.message : ''),
      });
    });
  });
}

export interface HelmPullVerifyOptions {
  helm: string;
  /** `oci://host/project/name`, pulled at `version`. */
  ref: string;
  version: string;
  /** Legacy binary public keyring (the only form Helm reads). */
  keyring: string;
  destination: string;
  env: NodeJS.ProcessEnv;
}

/** `helm pull REF --version V --verify --keyring K --plain-http -d DEST`; returns Helm's version and the file it wrote. */
export async function helmPullVerify(opts: HelmPullVerifyOptions): Promise<{ helmVersion: string; files: string[]; args: string[] }> {
  const version = await runHelm(opts.helm, ['version', '--short'], opts.env);
  const helmVersion = version.code === 0 ? version.stdout.trim() : 'unknown version';
  const args = ['pull', opts.ref, '--version', opts.version, '--verify', '--keyring', opts.keyring, '--plain-http', '-d', opts.destination];
  const r = await runHelm(opts.helm, args, opts.env);
  if (r.code !== 0) {
    const said = (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ');
    throw new DemoFailedError(`helm ${helmVersion} pull --verify failed (exit ${r.code}): ${said}`, {
      hint: 'Helm refused a chart chartprov signed and pushed: please report this with the output of chartprov demo --keep',
    });
  }
  return { helmVersion, files: (await readdir(opts.destination)).sort(), args };
}
