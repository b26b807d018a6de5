/**
 * Small facts about OpenPGP keys that sign and verify both need to word their
 * errors and results: names, ids, algorithms, expiry. Kept on openpgp's public
 * key API (no packet internals) so an openpgp upgrade cannot silently change
 * what we report.
 */
import type { Key, KeyID, PublicKey, Subkey } from 'openpgp';

export const keyIdHex = (id: KeyID): string => id.toHex().toUpperCase();

/** The user id of the key's primary user, or of its first user when none validates. */
export async function primaryUserId(key: Key, date?: Date): Promise<string> {
  try {
    const { user } = await key.getPrimaryUser(date);
    if (user.userID?.userID) return user.userID.userID;
  } catch {
    // An expired or oddly certified key still has user ids worth showing.
  }
  return key.getUserIDs()[0] ?? '';
}

/** "John <john@example.com> (E60F461E855ED949)", synchronously, for error messages. */
export function describeKey(key: Key): string {
  const uid = key.getUserIDs()[0];
  const id = keyIdHex(key.getKeyID());
  return uid ? `"${uid}" (${id})` : id;
}

/** gpg's short algorithm names: rsa2048, ed25519, nistp256, dsa3072… */
export function algorithmName(k: Key | Subkey): string {
  const info = k.getAlgorithmInfo() as { algorithm: string; bits?: number; curve?: string };
  const { algorithm, bits, curve } = info;
  if (algorithm.startsWith('rsa')) return `rsa${bits ?? ''}`;
  if (algorithm === 'dsa' || algorithm === 'elgamal') return `${algorithm}${bits ?? ''}`;
  if (curve) return curve.replace(/Legacy$/, '').toLowerCase();
  return algorithm.toLowerCase();
}

/**
 * When the primary key expires: a Date, or null when it never does or its
 * self-signatures do not validate (openpgp's later checks report those).
 */
export async function keyExpiry(key: Key): Promise<Date | null> {
  const t = await key.getExpirationTime();
  return t instanceof Date ? t : null;
}

export async function subkeyExpiry(subkey: Subkey): Promise<Date | null> {
  const t = await subkey.getExpirationTime();
  return t instanceof Date ? t : null;
}

/** A (sub)key of the keyring that a signature's issuer id points at. */
export interface KeyMatch {
  key: PublicKey;
  /** Undefined when the primary key itself matched. */
  subkey: Subkey | undefined;
}

/** Key id (16 uppercase hex) → the keys holding a primary or subkey with that id. */
export function keyIndex(keys: readonly PublicKey[]): Map<string, KeyMatch[]> {
  const index = new Map<string, KeyMatch[]>();
  const add = (id: string, m: KeyMatch): void => {
    const list = index.get(id);
    if (list) list.push(m);
    else index.set(id, [m]);
  };
  for (const key of keys) {
    add(keyIdHex(key.getKeyID()), { key, subkey: undefined });
    for (const subkey of key.subkeys) add(keyIdHex(subkey.getKeyID()), { key, subkey });
  }
  return index;
}
