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

/**
 * `VERB [#####-----] done/total  note` on stderr when it is a terminal,
 * redrawn at most every 80 ms (always for the last item); silent otherwise.
 */
export function progressBar(verb: string): { start(total: number): void; update(done: number, note?: string): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let total = 0;
  let last = 0;
  let shown = false;
  const draw = (done: number, note: string | undefined, force: boolean) => {
    if (!tty || total === 0) return;
    const now = Date.now();
    if (!force && now - last < 80) return;
    last = now;
    const width = 24;
    const fill = Math.round((done / total) * width);
    process.stderr.write(`\r${verb} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total}${note ? `  ${note}` : ''}\x1b[K`);
    shown = true;
  };
  return {
    start(t) {
      total = t;
      draw(0, undefined, true);
    },
    update(done, note) {
      draw(done, note, done === total);
    },
    end() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
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
