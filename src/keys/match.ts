// Helm's rule for `--key NAME` (pkg/provenance/sign.go): a user id equal to
// NAME wins; otherwise every key with a user id containing NAME
// (case-sensitive) is a candidate. We also accept a key id or fingerprint,
// which Helm does not, because user ids are often shared between old and new
// keys of the same person.
import type { Key } from 'openpgp';

export interface KeyMatch<K extends Key> {
  key: K;
  /** The user id NAME matched, when it matched one. */
  userId?: string;
  /** Key id (uppercase hex) of the subkey NAME named by id or fingerprint. */
  subkeyId?: string;
}

const HEX_ID = /^(?:0x)?([0-9a-f]{16}|[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** Keys NAME selects, by the first rule that finds any: exact user id, key id/fingerprint, substring. */
export function matchKeys<K extends Key>(keys: K[], name: string): Array<KeyMatch<K>> {
  const exact = keys.flatMap((key) => (key.getUserIDs().includes(name) ? [{ key, userId: name }] : []));
  if (exact.length > 0) return exact;
  const byId = matchById(keys, name);
  if (byId.length > 0) return byId;
  return keys.flatMap((key) => {
    const userId = key.getUserIDs().find((uid) => uid.includes(name));
    return userId === undefined ? [] : [{ key, userId }];
  });
}

function matchById<K extends Key>(keys: K[], name: string): Array<KeyMatch<K>> {
  const m = HEX_ID.exec(name.trim());
  if (!m) return [];
  const wanted = m[1]!.toUpperCase();
  // A v4 key id is the fingerprint's tail, a v6 one its head: compare ids, not substrings.
  const hits = (k: Pick<Key, 'getFingerprint' | 'getKeyID'>): boolean =>
    (wanted.length === 16 ? k.getKeyID().toHex() : k.getFingerprint()).toUpperCase() === wanted;
  return keys.flatMap((key): Array<KeyMatch<K>> => {
    if (hits(key)) return [{ key }];
    const subkey = key.subkeys.find((s) => hits(s));
    return subkey ? [{ key, subkeyId: subkey.getKeyID().toHex().toUpperCase() }] : [];
  });
}

/** "User Id <mail> (FINGERPRINT)" for lists in error messages. */
export function keyLabel(key: Key, userId?: string): string {
  const uid = userId ?? key.getUserIDs()[0] ?? '(no user id)';
  return `${uid} (${key.getFingerprint().toUpperCase()})`;
}
