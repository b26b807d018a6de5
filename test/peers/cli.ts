// Runs the built CLI as a user would: a separate process, real stdio.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from './helm.js';
import { cliPath } from './paths.js';
import { assertNoSecrets } from './secrets.js';

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
}

let isolatedHome: string | undefined;

/**
 * An empty HOME and GNUPGHOME for the CLI, so tests never read the developer's
 * keys or keyrings (`~/.gnupg`, Helm's registry config) by accident.
 */
function testHome(): string {
  if (!isolatedHome) {
    isolatedHome = mkdtempSync(join(tmpdir(), 'chartprov-home-'));
    mkdirSync(join(isolatedHome, '.gnupg'), { mode: 0o700 });
    process.on('exit', () => rmSync(isolatedHome!, { recursive: true, force: true }));
  }
  return isolatedHome;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const home = testHome();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      GNUPGHOME: join(home, '.gnupg'),
      XDG_CACHE_HOME: join(home, '.cache'),
      NO_COLOR: '1',
      ...opts.env,
    };
    // Tests must not pick up the developer's real keys or passphrase.
    if (!opts.env?.CHARTPROV_PASSPHRASE) delete env.CHARTPROV_PASSPHRASE;
    if (!opts.env?.CHARTPROV_SIGNING_KEY) delete env.CHARTPROV_SIGNING_KEY;
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      // No output of the CLI may show a secret the suite knows (test/peers/secrets.ts).
      try {
        assertNoSecrets(`chartprov ${args.slice(0, 2).join(' ')}`, stdout, stderr);
      } catch (err) {
        reject(err);
        return;
      }
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing each answer once its prompt shows. */
export function onTerminal(args: string[], answers: Record<string, string>): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: testHome(),
      GNUPGHOME: join(testHome(), '.gnupg'),
      XDG_CACHE_HOME: join(testHome(), '.cache'),
    };
    delete env.CHARTPROV_PASSPHRASE;
    const command = [process.execPath, cliPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env });
    let screen = '';
    const pending = new Map(Object.entries(answers));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      for (const [prompt, answer] of pending) {
        if (screen.includes(prompt)) {
          pending.delete(prompt);
          child.stdin.write(answer);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      // The screen holds what was typed at prompts: a password that shows there was echoed.
      try {
        assertNoSecrets(`chartprov ${args.slice(0, 2).join(' ')} on a terminal`, screen);
      } catch (err) {
        reject(err);
        return;
      }
      resolve({ code: code ?? 1, screen });
    });
  });
}
