// `chartprov serve …` as its own process, the way an operator runs it: resolves
// once its ready line (text) or ready event (`-o json`) names the URL; stop()
// signals it and checks what it printed for known test secrets.
import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './paths.js';
import { assertNoSecrets } from './secrets.js';

export interface ServeProcess {
  url: string;
  host: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Sends the signal (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills every server started here and still running (for `after` hooks of tests that may fail half-way). */
export function killServeProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function startServeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s\n${out}\n${err}`)), 20_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const text = /^ready: (\S+)$/m.exec(out)?.[1];
      const json = out.startsWith('{') && out.includes('\n') ? (JSON.parse(out.split('\n')[0]!) as { url?: string }).url : undefined;
      const url = text ?? json;
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        host: new URL(url).host,
        child,
        stdout: () => out,
        stderr: () => err,
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal);
          const code = await exited;
          // The server's output (request log, start-up lines) is output of the suite: no known secret in it.
          assertNoSecrets('chartprov serve', out, err);
          return code;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`chartprov serve exited with ${code} before it was ready\n${out}\n${err}`));
    });
  });
}
