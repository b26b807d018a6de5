// `--sign-with gpg`: the secret key stays where gpg keeps it (gpg-agent,
// private-keys-v1.d, a smartcard or YubiKey); we hand gpg the exact text and
// take back the clearsigned .prov. Helm cannot do this (helm #1475).
// Key choice follows Helm's rule, not gpg's looser one, so the same --key
// picks the same key whichever signer is used.
import { spawn } from 'node:child_process';
import {
  GpgError,
  KeyAmbiguousError,
  KeyCannotSignError,
  KeyExpiredError,
  KeyNotFoundError,
  KeyRevokedError,
  PassphraseRequiredError,
  PassphraseWrongError,
} from '../errors.js';

export interface GpgSignerOptions {
  /** Which key: user id (exact, else case-sensitive substring), key id or fingerprint. */
  keyName?: string;
  /** The gpg binary; default `gpg` on the PATH (CHARTPROV_GPG overrides). */
  gpgBinary?: string;
  /** GNUPGHOME to use instead of gpg's default. */
  homedir?: string;
  /** Given only for loopback pinentry (CI); otherwise gpg-agent asks through pinentry. */
  passphrase?: string;
}

export interface GpgSecretKey {
  fingerprint: string;
  userId: string;
  userIds: string[];
  /** gpg's validity letter of the primary key: e expired, r revoked, … */
  validity: string;
  /** OpenPGP algorithm numbers of the primary and of each signing-capable subkey. */
  algorithms: number[];
  /** Key ids and fingerprints of primary and subkeys. */
  ids: string[];
  canSign: boolean;
  expires?: string;
}

interface GpgRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Secrets chartprov reads from the environment that gpg has no business seeing. */
const PRIVATE_ENV = ['CHARTPROV_PASSPHRASE', 'CHARTPROV_SIGNING_KEY', 'CHARTPROV_PASSWORD'];

function runGpg(opts: GpgSignerOptions, args: string[], input: string, passphrase?: string): Promise<GpgRun> {
  const bin = opts.gpgBinary ?? process.env.CHARTPROV_GPG ?? 'gpg';
  const base = ['--no-options', '--yes'];
  if (opts.homedir) base.push('--homedir', opts.homedir);
  if (passphrase !== undefined) base.push('--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '3');
  const env = { ...process.env };
  for (const k of PRIVATE_ENV) delete env[k];
  return new Promise((resolve, reject) => {
    // fd 3 carries the passphrase so it never touches argv, env or a file.
    const child = spawn(bin, [...base, ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env });
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

function unescapeColons(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Parses `gpg --with-colons --list-secret-keys` output. */
export function parseGpgSecretKeys(colons: string): GpgSecretKey[] {
  const keys: GpgSecretKey[] = [];
  let current: GpgSecretKey | undefined;
  let last: 'sec' | 'ssb' | undefined;
  for (const line of colons.split('\n')) {
    const f = line.split(':');
    const caps = f[11] ?? '';
    if (f[0] === 'sec') {
      current = {
        fingerprint: '',
        userId: '',
        userIds: [],
        validity: f[1] ?? '',
        algorithms: [Number(f[3])],
        ids: [f[4] ?? ''],
        canSign: caps.includes('S'),
      };
      if (f[6]) current.expires = new Date(Number(f[6]) * 1000).toISOString();
      keys.push(current);
      last = 'sec';
    } else if (f[0] === 'ssb' && current) {
      current.ids.push(f[4] ?? '');
      if (caps.includes('s') && f[1] !== 'e' && f[1] !== 'r') current.algorithms.push(Number(f[3]));
      last = 'ssb';
    } else if (f[0] === 'fpr' && current) {
      if (last === 'sec' && !current.fingerprint) current.fingerprint = f[9] ?? '';
      current.ids.push(f[9] ?? '');
    } else if (f[0] === 'uid' && current) {
      const uid = unescapeColons(f[9] ?? '');
      current.userIds.push(uid);
      if (!current.userId) current.userId = uid;
    }
  }
  return keys;
}

/** Helm's rule: exact user id wins, else case-sensitive substring; ids/fingerprints match exactly. */
export function pickGpgKey(keys: GpgSecretKey[], name: string | undefined): GpgSecretKey {
  let matches: GpgSecretKey[];
  if (!name) {
    matches = keys;
  } else {
    const hex = name.replace(/^0x/i, '').toUpperCase();
    const byId = /^[0-9A-F]{16}$|^[0-9A-F]{40}$|^[0-9A-F]{64}$/.test(hex)
      ? keys.filter((k) => k.ids.some((id) => id.toUpperCase() === hex))
      : [];
    const exact = keys.filter((k) => k.userIds.includes(name));
    matches = exact.length ? exact : byId.length ? byId : keys.filter((k) => k.userIds.some((u) => u.includes(name)));
  }
  const label = name ? JSON.stringify(name) : '(no --key given)';
  if (matches.length === 0) {
    throw new KeyNotFoundError(`no secret key in gpg matches ${label}`, { hint: 'list them with: gpg --list-secret-keys' });
  }
  if (matches.length > 1) {
    throw new KeyAmbiguousError(
      `${matches.length} gpg secret keys match ${label}: ${matches.map((k) => `${k.userId} (${k.fingerprint})`).join(', ')}`,
      {
        hint: 'give the full user id or the fingerprint with --key',
      },
    );
  }
  const key = matches[0]!;
  if (key.validity === 'r')
    throw new KeyRevokedError(`key ${key.fingerprint} (${key.userId}) is revoked`, { hint: 'sign with another key' });
  if (key.validity === 'e') {
    throw new KeyExpiredError(`key ${key.fingerprint} (${key.userId}) expired${key.expires ? ` on ${key.expires}` : ''}`, {
      hint: 'extend it (gpg --quick-set-expire) or sign with another key',
    });
  }
  if (!key.canSign) {
    throw new KeyCannotSignError(`key ${key.fingerprint} (${key.userId}) has no usable signing key or subkey`, {
      hint: 'add a signing subkey: gpg --quick-add-key FINGERPRINT ed25519 sign',
    });
  }
  return key;
}

/** Finds the one secret key gpg holds for `keyName`, by Helm's rules. */
export async function findGpgSecretKey(opts: GpgSignerOptions): Promise<GpgSecretKey> {
  const r = await runGpg(
    opts,
    // --with-fingerprint twice: fpr records for subkeys too, so --key may name a subkey.
    ['--batch', '--with-colons', '--fixed-list-mode', '--with-fingerprint', '--with-fingerprint', '--list-secret-keys'],
    '',
  );
  if (r.code !== 0 && r.code !== 2)
    throw new GpgError(`gpg cannot list secret keys: ${lastGpgLine(r.stderr)}`, { hint: 'check GNUPGHOME' });
  return pickGpgKey(parseGpgSecretKeys(r.stdout), opts.keyName);
}

/** The public key gpg holds for a fingerprint, armored (to check what gpg signed). */
export async function exportGpgPublicKey(opts: GpgSignerOptions, fingerprint: string): Promise<string> {
  const r = await runGpg(opts, ['--batch', '--armor', '--export', fingerprint], '');
  if (r.code !== 0 || !r.stdout.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
    throw new GpgError(`gpg cannot export the public key ${fingerprint}: ${lastGpgLine(r.stderr)}`, {
      hint: 'check the key with: gpg --list-keys',
    });
  }
  return r.stdout;
}

/** Clearsigns `text` with SHA512 using the gpg binary; returns the .prov text. */
export async function gpgClearsign(text: string, opts: GpgSignerOptions & { fingerprint: string }): Promise<string> {
  const args = ['--clearsign', '--digest-algo', 'SHA512', '--local-user', opts.fingerprint, '--output', '-'];
  const r = await runGpg(opts, args, text, opts.passphrase);
  if (r.code === 0 && r.stdout.includes('-----BEGIN PGP SIGNATURE-----')) return r.stdout;
  if (/Bad passphrase/i.test(r.stderr)) {
    throw new PassphraseWrongError(`the passphrase does not unlock key ${opts.fingerprint}`, { hint: 'check the passphrase file' });
  }
  if (/No passphrase given|Inappropriate ioctl|No pinentry|Operation cancelled/i.test(r.stderr)) {
    throw new PassphraseRequiredError(`gpg could not ask for the passphrase of ${opts.fingerprint}`, {
      hint: 'run on a terminal so pinentry can ask, or pass --passphrase-file',
    });
  }
  throw new GpgError(`gpg could not sign: ${lastGpgLine(r.stderr)}`, { hint: 'check the key with: gpg --list-secret-keys' });
}

function lastGpgLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^gpg: /, '').trim())
    .filter(Boolean);
  return lines.at(-1) ?? 'unknown error';
}
