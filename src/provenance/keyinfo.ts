/**
 * Finding the key a signature names: verify looks the issuer id up in an index
 * built once per keyring, so a batch of charts does not rescan every key.
 * Naming, expiry and revocation of keys live in src/keys, shared with signing.
 */
import type { KeyID, PublicKey, Subkey } from 'openpgp';

export const keyIdHex = (id: KeyID): string => id.toHex().toUpperCase();

/** A (sub)key of the keyring that a signature's issuer id points at. */
export interface IssuerMatch {
  key: PublicKey;
  /** Undefined when the primary key itself matched. */
  subkey: Subkey | undefined;
}

/** Key id (16 uppercase hex) → the keys holding a primary or subkey with that id. */
export function keyIndex(keys: readonly PublicKey[]): Map<string, IssuerMatch[]> {
  const index = new Map<string, IssuerMatch[]>();
  const add = (id: string, m: IssuerMatch): void => {
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
