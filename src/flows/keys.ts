import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic, toWriteError } from '../fs/atomic-write.js';
import { describeKey, exportKeys, generateKeyPair, loadKeyring } from '../keys/index.js';
import type { KeyInfo } from '../keys/index.js';
import { defaultSecretKeyringPaths } from './signer.js';
import { defaultKeyringPaths } from '../keys/index.js';

export interface GenerateKeysOptions {
  name: string;
  email?: string;
  comment?: string;
  type?: 'rsa4096' | 'rsa2048' | 'ed25519';
  passphrase?: string;
  /** Output folder; created if missing. */
  dir: string;
  /** Replace keyrings already in `dir`. */
  force?: boolean;
}

export interface GeneratedKeys {
  fingerprint: string;
  userId: string;
  type: string;
  files: { secring: string; pubring: string; publicArmored: string; privateArmored: string };
}

/**
 * `chartprov keys generate`: a new key pair, no gpg needed. Written as Helm
 * reads keys (legacy binary `secring.gpg`/`pubring.gpg`) and armored, secret
 * files mode 0600.
 */
export async function generateKeysToDir(opts: GenerateKeysOptions): Promise<GeneratedKeys> {
  const dir = resolve(opts.dir);
  const files = {
    secring: join(dir, 'secring.gpg'),
    pubring: join(dir, 'pubring.gpg'),
    publicArmored: join(dir, 'public.asc'),
    privateArmored: join(dir, 'private.asc'),
  };
  if (!opts.force) {
    const existing = Object.values(files).filter((f) => existsSync(f));
    if (existing.length > 0) {
      throw new UsageError(`${existing[0]} already exists`, { hint: 'pick another folder with -d, or pass --force to replace it' });
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err) => {
    throw toWriteError(files.secring, err);
  });
  const type = opts.type ?? 'rsa4096';
  const pair = await generateKeyPair({ name: opts.name, email: opts.email, comment: opts.comment, type, passphrase: opts.passphrase });
  await writeFileAtomic(files.secring, pair.privateKeyBinary, 0o600);
  await writeFileAtomic(files.privateArmored, pair.privateKeyArmored, 0o600);
  await writeFileAtomic(files.pubring, pair.publicKeyBinary, 0o644);
  await writeFileAtomic(files.publicArmored, pair.publicKeyArmored, 0o644);
  return { fingerprint: pair.fingerprint, userId: pair.userId, type, files };
}

/** `chartprov keys list`: every key in the keyrings, described. */
export async function listKeys(opts: { keyrings?: string[]; secret?: boolean } = {}): Promise<KeyInfo[]> {
  const paths = opts.keyrings?.length ? opts.keyrings : opts.secret ? defaultSecretKeyringPaths() : defaultKeyringPaths();
  if (paths.length === 0) throw new UsageError('no keyring given and none found in ~/.gnupg', { hint: 'pass --keyring FILE' });
  const keyring = await loadKeyring(paths);
  const all = mergeByFingerprint(keyring);
  // Secret keys held by gpg-agent count as secret keys here, as in `gpg -K`.
  const agent = new Set(keyring.agentOnlyFingerprints.map((f) => f.toUpperCase()));
  const keys = opts.secret ? all.filter((k) => k.isPrivate() || agent.has(k.getFingerprint().toUpperCase())) : all;
  return Promise.all(keys.map((k) => describeKey(k, keyring)));
}

function mergeByFingerprint(keyring: Awaited<ReturnType<typeof loadKeyring>>) {
  const secret = new Set(keyring.privateKeys.map((k) => k.getFingerprint()));
  return [...keyring.privateKeys, ...keyring.publicKeys.filter((k) => !secret.has(k.getFingerprint()))];
}

/** `chartprov keys export`: public (default) or secret keys, binary or armored. */
export async function exportKeysFrom(opts: {
  keyrings?: string[];
  name?: string;
  secret?: boolean;
  armor?: boolean;
}): Promise<Uint8Array | string> {
  const paths = opts.keyrings?.length ? opts.keyrings : opts.secret ? defaultSecretKeyringPaths() : defaultKeyringPaths();
  if (paths.length === 0) throw new UsageError('no keyring given and none found in ~/.gnupg', { hint: 'pass --keyring FILE' });
  return exportKeys(await loadKeyring(paths), { name: opts.name, secret: opts.secret, armor: opts.armor });
}
