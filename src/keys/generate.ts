// Makes keys Helm and gpg can both use, and writes keys back out in the
// forms they read. Keys are v4 (gpg 2.2 and Helm cannot read v6 keys), and
// Ed25519 is the legacy EdDSA form (algorithm 22) gpg 2.2 writes.
import { armor as armorBytes, enums, generateKey } from 'openpgp';
import type { Key } from 'openpgp';
import { KeyNotFoundError, UsageError } from '../errors.js';
import { formatUserId } from './describe.js';
import type { Keyring } from './keyring.js';
import { matchKeys } from './match.js';
import { concatBytes } from './packets.js';

export interface GenerateKeyPairOptions {
  name: string;
  email?: string;
  comment?: string;
  /** rsa4096 by default, the safe choice for Helm 3 users; ed25519 needs Helm 4. */
  type?: 'rsa4096' | 'rsa2048' | 'ed25519';
  passphrase?: string;
  /** When the key expires: a date, or seconds from now. */
  expires?: Date | number;
}

export interface GeneratedKeyPair {
  publicKeyArmored: string;
  privateKeyArmored: string;
  /** Binary packets: what a legacy pubring.gpg holds (Helm-readable). */
  publicKeyBinary: Uint8Array;
  /** Binary packets: what a legacy secring.gpg holds (Helm-readable). */
  privateKeyBinary: Uint8Array;
  fingerprint: string;
  userId: string;
}

export async function generateKeyPair(opts: GenerateKeyPairOptions): Promise<GeneratedKeyPair> {
  const name = opts.name.trim();
  if (name === '') throw new UsageError('a key needs a name', { hint: 'pass the name for the user id, e.g. "Chart Signer"' });
  const keyExpirationTime = expirySeconds(opts.expires);
  const userID = { name, ...(opts.email ? { email: opts.email } : {}), ...(opts.comment ? { comment: opts.comment } : {}) };
  const type = opts.type ?? 'rsa4096';
  const algorithm =
    type === 'ed25519'
      ? { type: 'ecc' as const, curve: 'ed25519Legacy' as const }
      : { type: 'rsa' as const, rsaBits: type === 'rsa2048' ? 2048 : 4096 };
  let privateKey;
  try {
    ({ privateKey } = await generateKey({
      ...algorithm,
      userIDs: [userID],
      // An empty passphrase would make openpgp store the key unprotected anyway; say so by omitting it.
      ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
      ...(keyExpirationTime !== undefined ? { keyExpirationTime } : {}),
      format: 'object',
    }));
  } catch (err) {
    // openpgp rejects malformed user ids (e.g. an invalid email) here.
    throw new UsageError(`cannot generate the key for "${formatUserId(userID)}": ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'check the name and email',
      cause: err,
    });
  }
  const publicKey = privateKey.toPublic();
  return {
    publicKeyArmored: publicKey.armor(),
    privateKeyArmored: privateKey.armor(),
    publicKeyBinary: publicKey.write(),
    privateKeyBinary: privateKey.write(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    userId: privateKey.getUserIDs()[0] ?? formatUserId(userID),
  };
}

function expirySeconds(expires: Date | number | undefined): number | undefined {
  if (expires === undefined) return undefined;
  const seconds = expires instanceof Date ? Math.floor((expires.getTime() - Date.now()) / 1000) : Math.floor(expires);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError('the key expiry must be in the future', { hint: 'give a later date or a positive number of seconds' });
  }
  return seconds;
}

export interface ExportKeysOptions {
  /** Same rules as `--key` (exact user id, key id/fingerprint, substring); all matches are exported. All keys when absent. */
  name?: string;
  /** Export secret keys (as they are stored: still passphrase-protected). */
  secret?: boolean;
  /** ASCII armor instead of binary packets. */
  armor?: boolean;
}

/** Keys as gpg --export [--armor] [--export-secret-keys] would write them. */
export async function exportKeys(keyring: Keyring, opts: ExportKeysOptions & { armor: true }): Promise<string>;
export async function exportKeys(keyring: Keyring, opts: ExportKeysOptions & { armor?: false }): Promise<Uint8Array>;
export async function exportKeys(keyring: Keyring, opts: ExportKeysOptions): Promise<Uint8Array | string>;
export async function exportKeys(keyring: Keyring, opts: ExportKeysOptions): Promise<Uint8Array | string> {
  const pool: Key[] = opts.secret ? keyring.privateKeys : keyring.publicKeys;
  const what = opts.secret ? 'secret key' : 'key';
  let keys: Key[];
  if (opts.name === undefined || opts.name.trim() === '') {
    if (pool.length === 0) throw new KeyNotFoundError(`no ${what} in the keyring to export`, { hint: 'check --keyring' });
    keys = pool;
  } else {
    keys = [...new Set(matchKeys(pool, opts.name).map((m) => m.key))];
    if (keys.length === 0) {
      const publicOnly = opts.secret && matchKeys(keyring.publicKeys, opts.name).length > 0;
      throw new KeyNotFoundError(
        publicOnly
          ? `key "${opts.name}" found as public key only; its secret key is not in the keyring`
          : `no ${what} matches "${opts.name}"`,
        { hint: 'a user id (all or part of it), a key id or a fingerprint; check --keyring' },
      );
    }
  }
  const bytes = concatBytes(keys.map((k) => k.write()));
  if (!opts.armor) return bytes;
  // With the CRC24 line: older gpg and x/crypto armor readers expect it.
  return armorBytes(opts.secret ? enums.armor.privateKey : enums.armor.publicKey, bytes, undefined, undefined, undefined, true);
}
