// The real gpg, each instance in its own throw-away GNUPGHOME so tests never
// touch the user's keys and can run in parallel.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunResult } from './helm.js';

const execFileP = promisify(execFile);

export interface Gpg {
  home: string;
  /** Runs `gpg --batch --pinentry-mode loopback …`; never throws on exit status. */
  run(args: string[], input?: string): Promise<RunResult>;
  /** Runs gpg and throws with its stderr when it fails. */
  ok(args: string[], input?: string): Promise<string>;
  fingerprint(userId: string): Promise<string>;
  close(): Promise<void>;
}

export async function tempGpg(): Promise<Gpg> {
  const home = await mkdtemp(join(tmpdir(), 'chartprov-gnupg-'));
  const env = { ...process.env, GNUPGHOME: home };
  const run = async (args: string[], input?: string): Promise<RunResult> => {
    const child = execFileP('gpg', ['--batch', '--pinentry-mode', 'loopback', '--no-tty', ...args], {
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    try {
      const { stdout, stderr } = await child;
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await run(args, input);
    if (r.code !== 0) throw new Error(`gpg ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  return {
    home,
    run,
    ok,
    async fingerprint(userId: string) {
      const out = await ok(['--with-colons', '--list-keys', userId]);
      const line = out.split('\n').find((l) => l.startsWith('fpr:'));
      if (!line) throw new Error(`no fingerprint for ${userId}`);
      return line.split(':')[9]!;
    },
    async close() {
      await execFileP('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
}
