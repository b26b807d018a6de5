// A plain-data view of a key for `key list`/`--json` output and for error
// messages. Reading capabilities does not need verified signatures to be
// useful, but we prefer what openpgp verified and fall back to the raw
// self-signature so expired keys can still be described.
import type { AlgorithmInfo, Key, SignaturePacket, Subkey } from 'openpgp';
import type { Keyring } from './keyring.js';
import { keyExpiry, subkeyExpiry } from './usable.js';

export interface KeyInfo {
  fingerprint: string;
  keyId: string;
  userIds: string[];
  /** gpg's naming: 'rsa2048', 'ed25519', 'cv25519', 'nistp256', 'dsa2048', … */
  algorithm: string;
  /** ISO 8601. */
  created: string;
  expires: string | null;
  expired: boolean;
  revoked: boolean;
  capabilities: { certify: boolean; sign: boolean; encrypt: boolean };
  subkeys: Array<{
    keyId: string;
    fingerprint: string;
    algorithm: string;
    capabilities: { sign: boolean; encrypt: boolean };
    expires: string | null;
  }>;
  secret: 'available' | 'agent' | 'none';
  /** False when Helm 3 (golang.org/x/crypto/openpgp) cannot load the key: EdDSA, Curve25519, non-NIST curves. */
  helm3Compatible: boolean;
}

const FLAG_CERTIFY = 0x01;
const FLAG_SIGN = 0x02;
const FLAG_ENCRYPT = 0x04 | 0x08;

const CURVE_NAMES: Record<string, string> = {
  ed25519Legacy: 'ed25519',
  curve25519Legacy: 'cv25519',
  nistP256: 'nistp256',
  nistP384: 'nistp384',
  nistP521: 'nistp521',
};

/** gpg's short algorithm name for a (sub)key. */
export function algorithmName(info: AlgorithmInfo): string {
  const bits = info.bits ?? '';
  switch (info.algorithm) {
    case 'rsaEncryptSign':
    case 'rsaEncrypt':
    case 'rsaSign':
      return `rsa${bits}`;
    case 'dsa':
      return `dsa${bits}`;
    case 'elgamal':
      return `elg${bits}`;
    case 'eddsaLegacy':
    case 'ed25519':
      return 'ed25519';
    case 'x25519':
      return 'cv25519';
    case 'ed448':
      return 'ed448';
    case 'x448':
      return 'cv448';
    case 'ecdh':
    case 'ecdsa':
      return info.curve ? (CURVE_NAMES[info.curve] ?? info.curve) : info.algorithm;
    default:
      return String(info.algorithm);
  }
}

/** "Name (Comment) <email>", the form gpg and openpgp write user ids in. */
export function formatUserId(parts: { name?: string; email?: string; comment?: string }): string {
  return [parts.name, parts.comment ? `(${parts.comment})` : '', parts.email ? `<${parts.email}>` : ''].filter((p) => p).join(' ');
}

export async function describeKey(key: Key, keyring?: Keyring, now: Date = new Date()): Promise<KeyInfo> {
  const fingerprint = key.getFingerprint().toUpperCase();
  const expiry = await keyExpiry(key);
  const expires = expiry ? expiry.toISOString() : null;
  const primaryFlags = keyFlags(await primarySelfSignature(key, now));
  const info = key.getAlgorithmInfo();
  return {
    fingerprint,
    keyId: key.getKeyID().toHex().toUpperCase(),
    userIds: await orderedUserIds(key, now),
    algorithm: algorithmName(info),
    created: key.getCreationTime().toISOString(),
    expires,
    expired: expiry !== null && expiry.getTime() <= now.getTime(),
    revoked: await key.isRevoked(undefined, undefined, now).catch(() => false),
    capabilities: capabilities(primaryFlags ?? defaultFlags(info, true)),
    subkeys: await Promise.all(key.subkeys.map((s) => describeSubkey(s, now))),
    secret: secretState(key, fingerprint, keyring),
    helm3Compatible: isHelm3Compatible(key),
  };
}

async function describeSubkey(subkey: Subkey, now: Date): Promise<KeyInfo['subkeys'][number]> {
  const info = subkey.getAlgorithmInfo();
  const binding = latest(subkey.bindingSignatures);
  const caps = capabilities(keyFlags(binding) ?? defaultFlags(info, false));
  const expiry = await subkeyExpiry(subkey, now);
  return {
    keyId: subkey.getKeyID().toHex().toUpperCase(),
    fingerprint: subkey.getFingerprint().toUpperCase(),
    algorithm: algorithmName(info),
    capabilities: { sign: caps.sign, encrypt: caps.encrypt },
    expires: expiry ? expiry.toISOString() : null,
  };
}

/** The self-signature openpgp considers current, else the newest one (expired keys fail the former). */
async function primarySelfSignature(key: Key, now: Date): Promise<SignaturePacket | undefined> {
  try {
    return (await key.getPrimaryUser(now)).selfCertification;
  } catch {
    return latest(key.users.flatMap((u) => u.selfCertifications));
  }
}

/** The user id of the key's primary user, or its first user id when no user validates (an expired key still has a name). */
export async function primaryUserId(key: Key, now: Date = new Date()): Promise<string> {
  return (await validPrimaryUserId(key, now)) ?? key.getUserIDs()[0] ?? '';
}

/**
 * Whether Helm 3 can load the key at all: golang.org/x/crypto/openpgp fails
 * on the whole key ("unsupported feature: public key type: 22") when any
 * part of it, subkeys included, uses an algorithm it does not know.
 */
export function isHelm3Compatible(key: Key): boolean {
  return [key.getAlgorithmInfo(), ...key.subkeys.map((s) => s.getAlgorithmInfo())].every(helm3Supports);
}

async function validPrimaryUserId(key: Key, now: Date): Promise<string | undefined> {
  try {
    return (await key.getPrimaryUser(now)).user.userID?.userID || undefined;
  } catch {
    return undefined;
  }
}

/** Primary user id first, the others in keyring order. */
async function orderedUserIds(key: Key, now: Date): Promise<string[]> {
  const all = key.getUserIDs();
  const primary = await validPrimaryUserId(key, now);
  return primary && all.includes(primary) ? [primary, ...all.filter((u) => u !== primary)] : all;
}

function latest(signatures: SignaturePacket[]): SignaturePacket | undefined {
  return signatures.reduce<SignaturePacket | undefined>(
    (best, sig) => (!best || (sig.created?.getTime() ?? 0) > (best.created?.getTime() ?? 0) ? sig : best),
    undefined,
  );
}

function keyFlags(sig: SignaturePacket | undefined): number | undefined {
  const flags = sig?.keyFlags;
  return flags && flags.length > 0 ? flags[0] : undefined;
}

/** What an algorithm can do when no key-flags subpacket says otherwise (old keys). */
function defaultFlags(info: AlgorithmInfo, primary: boolean): number {
  const certify = primary ? FLAG_CERTIFY : 0;
  switch (info.algorithm) {
    case 'rsaEncryptSign':
      return certify | FLAG_SIGN | FLAG_ENCRYPT;
    case 'rsaEncrypt':
    case 'elgamal':
    case 'ecdh':
    case 'x25519':
    case 'x448':
      return FLAG_ENCRYPT;
    default:
      return certify | FLAG_SIGN;
  }
}

function capabilities(flags: number): KeyInfo['capabilities'] {
  return {
    certify: (flags & FLAG_CERTIFY) !== 0,
    sign: (flags & FLAG_SIGN) !== 0,
    encrypt: (flags & FLAG_ENCRYPT) !== 0,
  };
}

function secretState(key: Key, fingerprint: string, keyring: Keyring | undefined): KeyInfo['secret'] {
  const hasSecret = (k: Key): boolean =>
    k.isPrivate() && k.getKeys().some((part) => 'isDummy' in part.keyPacket && !part.keyPacket.isDummy());
  if (hasSecret(key)) return 'available';
  const priv = keyring?.privateKeys.find((k) => k.getFingerprint().toUpperCase() === fingerprint);
  if (priv && hasSecret(priv)) return 'available';
  if (keyring?.agentOnlyFingerprints.includes(fingerprint)) return 'agent';
  return 'none';
}

/** golang.org/x/crypto/openpgp (Helm 3) reads RSA, DSA, ElGamal and ECDSA/ECDH on the NIST curves only. */
function helm3Supports(info: AlgorithmInfo): boolean {
  switch (info.algorithm) {
    case 'rsaEncryptSign':
    case 'rsaEncrypt':
    case 'rsaSign':
    case 'dsa':
    case 'elgamal':
      return true;
    case 'ecdsa':
    case 'ecdh':
      return info.curve === 'nistP256' || info.curve === 'nistP384' || info.curve === 'nistP521';
    default:
      return false;
  }
}
