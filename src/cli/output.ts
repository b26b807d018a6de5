// Printing only: human text to stdout, warnings and progress to stderr,
// `--output json` as one JSON document on stdout.
import { ChartprovError } from '../errors.js';

export type OutputFormat = 'text' | 'json';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** `error[CODE]: message` + `hint: …`; the stack only with --debug. */
export function printError(err: unknown, opts: { debug: boolean; format: OutputFormat }): number {
  const known = err instanceof ChartprovError;
  const code = known ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  const hint = known ? err.hint : 'this is a bug in chartprov: run again with --debug and report the output';
  if (opts.format === 'json') {
    printJson({ error: { code, message, ...(hint ? { hint } : {}) } });
  }
  process.stderr.write(`error[${code}]: ${firstLine(message)}\n`);
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  if (opts.debug && err instanceof Error) {
    process.stderr.write(`${err.stack ?? ''}\n`);
    let cause = err.cause;
    while (cause instanceof Error) {
      process.stderr.write(`caused by: ${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  }
  return known ? err.exitCode : 70;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}

/** A one-line progress counter on a TTY; silent otherwise. */
export function progress(label: string, total: number): { tick(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true && total > 1;
  let last = 0;
  return {
    tick(done) {
      if (!tty) return;
      const now = Date.now();
      if (done < total && now - last < 80) return;
      last = now;
      process.stderr.write(`\r${label} ${done}/${total}`);
    },
    end() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

/** `chartprov … | head` closes our stdout early: stop quietly, as Unix tools do. */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** One item's failure in a batch (already coded), printed as printError prints a thrown one. */
export function printFailure(error: { code: string; message: string; hint?: string }): void {
  process.stderr.write(`error[${error.code}]: ${firstLine(error.message)}\n`);
  if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
}
