// `--sign-with gpg`: the secret key stays where gpg keeps it (gpg-agent,
// private-keys-v1.d, a smartcard or YubiKey); we hand gpg the exact text and
// take back the clearsigned .prov. Helm cannot do this (helm #1475).
import { spawn } from 'node:child_process';
import { GpgError, KeyAmbiguousError, KeyNotFoundError } from '../errors.js';

export interface GpgSignerOptions {
  /** Which key: user id, substring, key id or fingerprint, as gpg's --local-user takes it. */
  keyName?: string;
  /** The gpg binary; default `gpg` on the PATH (CHARTPROV_GPG overrides). */
  gpgBinary?: string;
  /** GNUPGHOME to use instead of gpg's default. */
  homedir?: string;
  /** Given only for loopback pinentry (CI); otherwise gpg-agent asks through pinentry. */
  passphrase?: string;
}

export interface GpgKeyIdentity {
  fingerprint: string;
  userId: string;
}

interface GpgRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runGpg(opts: GpgSignerOptions, args: string[], input: string, passphrase?: string): Promise<GpgRun> {
  const bin = opts.gpgBinary ?? process.env.CHARTPROV_GPG ?? 'gpg';
  const base = ['--no-options', '--yes'];
  if (opts.homedir) base.push('--homedir', opts.homedir);
  if (passphrase !== undefined) base.push('--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '3');
  return new Promise((resolve, reject) => {
    // fd 3 carries the passphrase so it never touches argv, env or a file.
    const child = spawn(bin, [...base, ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new GpgError(err.code === 'ENOENT' ? `gpg not found: ${bin}` : `cannot run ${bin}: ${err.message}`, {
          hint: 'install gnupg (apt-get install gnupg) or set CHARTPROV_GPG to the gpg binary',
          cause: err,
        }),
      ),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    const fd3 = child.stdio[3] as NodeJS.WritableStream | null;
    fd3?.on('error', () => undefined);
    fd3?.end(passphrase !== undefined ? `${passphrase}\n` : '');
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

/** Finds the one secret key gpg would use for `keyName`, with Helm's ambiguity rule. */
export async function findGpgSecretKey(opts: GpgSignerOptions): Promise<GpgKeyIdentity> {
  const args = ['--batch', '--with-colons', '--fixed-list-mode', '--list-secret-keys'];
  if (opts.keyName) args.push(opts.keyName);
  const r = await runGpg({ ...opts }, args, '');
  const keys: GpgKeyIdentity[] = [];
  let current: GpgKeyIdentity | undefined;
  for (const line of r.stdout.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'sec') {
      current = { fingerprint: '', userId: '' };
      keys.push(current);
    } else if (f[0] === 'fpr' && current && !current.fingerprint) {
      current.fingerprint = f[9] ?? '';
    } else if (f[0] === 'uid' && current && !current.userId) {
      current.userId = unescapeColons(f[9] ?? '');
    }
  }
  const name = opts.keyName ?? '(default key)';
  if (keys.length === 0) {
    throw new KeyNotFoundError(`no secret key in gpg matches ${JSON.stringify(name)}`, {
      hint: 'list them with: gpg --list-secret-keys',
    });
  }
  // gpg itself picks the first match silently; a signer must be unambiguous.
  const exact = keys.filter((k) => k.userId === opts.keyName);
  if (exact.length === 1) return exact[0]!;
  if (keys.length > 1 && opts.keyName) {
    throw new KeyAmbiguousError(
      `${keys.length} gpg secret keys match ${JSON.stringify(name)}: ${keys.map((k) => `${k.userId} (${k.fingerprint})`).join(', ')}`,
      { hint: 'give the full user id or the fingerprint with --key' },
    );
  }
  return keys[0]!;
}

function unescapeColons(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Clearsigns `text` with SHA512 using the gpg binary; returns the .prov text. */
export async function gpgClearsign(text: string, opts: GpgSignerOptions & { fingerprint: string }): Promise<string> {
  const args = ['--clearsign', '--digest-algo', 'SHA512', '--local-user', opts.fingerprint, '--output', '-'];
  const r = await runGpg(opts, args, text, opts.passphrase);
  if (r.code !== 0 || !r.stdout.includes('-----BEGIN PGP SIGNATURE-----')) {
    const why = lastGpgLine(r.stderr);
    throw new GpgError(`gpg could not sign: ${why}`, {
      hint: /passphrase|pinentry|Inappropriate ioctl/i.test(r.stderr)
        ? 'run on a terminal so pinentry can ask, or pass --passphrase-file'
        : 'check the key with: gpg --list-secret-keys',
    });
  }
  return r.stdout;
}

function lastGpgLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^gpg: /, '').trim())
    .filter(Boolean);
  return lines.at(-1) ?? 'unknown error';
}
