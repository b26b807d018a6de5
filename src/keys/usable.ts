// One rule and one wording for "may this key be used": revoked and expired
// keys are refused when choosing a key (select), when signing (provenance
// sign) and when verifying (provenance verify). Only the hint depends on who
// asks: a signer can pick another key, a verifier can only ask the publisher.
import type { Key, SignaturePacket, Subkey } from 'openpgp';
import { KeyExpiredError, KeyRevokedError } from '../errors.js';
import { keyLabel } from './match.js';

export type KeyPurpose = 'sign' | 'verify';

export interface KeyUsableOptions {
  purpose: KeyPurpose;
  /** Revocation and expiry are judged at this time; default now. */
  now?: Date;
  /** The subkey that signs (or signed); checked as well as its primary key. */
  subkey?: Subkey;
  /** The user id to name the key by (default its first). */
  userId?: string;
  /**
   * When verifying: the signature's creation time. A key that had already
   * expired then, by the expiry its current self-signature states, is refused
   * saying so; a key whose expiry was extended since counts with the new date.
   */
  signedAt?: Date;
}

/** Throws KeyRevokedError or KeyExpiredError when the key (or `subkey`) may not be used. */
export async function assertKeyUsable(key: Key, opts: KeyUsableOptions): Promise<void> {
  const now = opts.now ?? new Date();
  const label = keyLabel(key, opts.userId);
  const subkeyName = opts.subkey ? `subkey ${opts.subkey.getKeyID().toHex().toUpperCase()} of key ${label}` : undefined;
  const fingerprint = key.getFingerprint().toUpperCase();

  if (await key.isRevoked(undefined, undefined, now).catch(() => false)) {
    throw new KeyRevokedError(`key ${label} is revoked`, { hint: revokedHint(opts.purpose) });
  }
  if (opts.subkey && subkeyName && (await subkeyRevoked(opts.subkey, now))) {
    throw new KeyRevokedError(`${subkeyName} is revoked`, { hint: revokedHint(opts.purpose) });
  }

  const expiries: Array<[string, Date | null]> = [[`key ${label}`, await keyExpiry(key)]];
  if (opts.subkey && subkeyName) expiries.push([subkeyName, await subkeyExpiry(opts.subkey, now)]);
  for (const [what, expires] of expiries) {
    if (expires === null) continue;
    if (opts.signedAt && expires.getTime() <= opts.signedAt.getTime()) {
      throw new KeyExpiredError(`${what} expired on ${isoTime(expires)}, before the signature was made on ${isoTime(opts.signedAt)}`, {
        hint: 'ask the publisher to extend the key and sign the chart again',
      });
    }
    if (expires.getTime() <= now.getTime()) {
      throw new KeyExpiredError(`${what} expired on ${isoTime(expires)}`, {
        hint:
          opts.purpose === 'sign'
            ? `extend it (gpg --quick-set-expire ${fingerprint} 1y) and export it again, or choose another key with --key`
            : 'ask the publisher for the key with its new expiry date (gpg --export), or for a new signature',
      });
    }
  }
}

/**
 * When the primary key expires, or null when it never does. A key whose
 * self-signatures do not validate counts as never expiring here: openpgp's
 * signing-key checks refuse it later with their own reason.
 */
export async function keyExpiry(key: Key): Promise<Date | null> {
  const t = await key.getExpirationTime().catch(() => null);
  return t instanceof Date ? t : null;
}

export async function subkeyExpiry(subkey: Subkey, now: Date): Promise<Date | null> {
  const t = await subkey.getExpirationTime(now).catch(() => null);
  return t instanceof Date ? t : null;
}

/** ISO 8601 to the second: what messages print for key and signature times. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function revokedHint(purpose: KeyPurpose): string {
  return purpose === 'sign' ? 'choose another key with --key' : 'do not trust charts signed by it; ask the publisher which key replaces it';
}

async function subkeyRevoked(subkey: Subkey, now: Date): Promise<boolean> {
  // openpgp types both leading parameters as required, but reads the
  // subkey's own revocation signatures when they are undefined.
  return subkey.isRevoked(undefined as unknown as SignaturePacket, undefined as never, now).catch(() => false);
}
