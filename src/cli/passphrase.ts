// Where a passphrase comes from, in Helm's order of precedence plus CI:
// --passphrase-file FILE (`-` = stdin), CHARTPROV_PASSPHRASE, a TTY prompt.
import { readSmallFile } from '../fs/read-file.js';
import { PassphraseRequiredError } from '../errors.js';
import type { PassphraseSource } from '../flows/signer.js';

/** All of stdin as text (a passphrase or password piped in). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Only the first line counts, as with Helm's --passphrase-file. */
function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

export async function passphraseFromOptions(opts: { passphraseFile?: string }): Promise<PassphraseSource | undefined> {
  if (opts.passphraseFile === '-') return firstLine(await readStdin());
  if (opts.passphraseFile) {
    return firstLine(
      (await readSmallFile(opts.passphraseFile, { what: 'passphrase file', maxBytes: 64 * 1024, allowStreams: true })).toString('utf8'),
    );
  }
  if (process.env.CHARTPROV_PASSPHRASE !== undefined) return process.env.CHARTPROV_PASSPHRASE;
  if (process.stdin.isTTY) return () => promptHidden('Password: ');
  return undefined;
}

/** Reads a line from the terminal without echo. */
export function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let value = '';
    // Raw mode before the prompt shows: what is typed after it is never echoed,
    // and Ctrl-C reaches us as a key instead of killing the process.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003')
          return done(
            new PassphraseRequiredError('passphrase entry cancelled', {
              hint: 'run again and type the passphrase, or use --passphrase-file',
            }),
          );
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
