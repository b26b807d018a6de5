// Picks the key `--key NAME` means and the (sub)key that will sign, with an
// error that says why when there is none. Selection never needs the
// passphrase; unlockKey is a separate step so the CLI can prompt only once it
// knows which key it is prompting for.
import { decryptKey } from 'openpgp';
import type { Key, KeyID, PrivateKey, Subkey } from 'openpgp';
import {
  KeyAmbiguousError,
  KeyCannotSignError,
  KeyExpiredError,
  KeyNotFoundError,
  KeyRevokedError,
  KeyringError,
  PassphraseRequiredError,
  PassphraseWrongError,
} from '../errors.js';
import type { ChartprovError } from '../errors.js';
import { algorithmName } from './describe.js';
import type { Keyring } from './keyring.js';
import { keyLabel, matchKeys } from './match.js';
import type { KeyMatch } from './match.js';

export interface SigningKey {
  key: PrivateKey;
  /** The (sub)key that will make the signature: key id, uppercase hex (KeyID.fromID accepts it). */
  signingKeyId: string;
  /** Primary key fingerprint, uppercase hex. */
  fingerprint: string;
  userId: string;
  /** Of the signing (sub)key, gpg's naming: 'rsa2048', 'ed25519'. */
  algorithm: string;
}

const AGENT_HINT = 'its secret key is held by gpg-agent: sign with --sign-with gpg';
const LIST_LIMIT = 8;

/**
 * Helm's `--key NAME` rules over the keyring's private keys (exact user id,
 * else substring; we also take a key id or fingerprint). With no NAME the
 * keyring must hold exactly one usable private key. Where several keys match
 * but only one is usable (not expired, not revoked), that one is taken, as
 * gpg does.
 */
export async function selectSigningKey(keyring: Keyring, name: string | undefined, opts: { now?: Date } = {}): Promise<SigningKey> {
  const now = opts.now ?? new Date();
  const wanted = name !== undefined && name.trim() !== '' ? name : undefined;
  let candidates: Array<KeyMatch<PrivateKey>>;
  if (wanted === undefined) {
    if (keyring.privateKeys.length === 0) throw noSecretKeys(keyring);
    candidates = keyring.privateKeys.map((key) => ({ key }));
  } else {
    candidates = matchKeys(keyring.privateKeys, wanted);
    if (candidates.length === 0) throw notFound(keyring, wanted);
  }
  if (candidates.length > 1) {
    const usable: Array<KeyMatch<PrivateKey>> = [];
    for (const c of candidates) if (!(await unusable(c.key, now))) usable.push(c);
    if (usable.length !== 1) throw ambiguous(wanted, usable.length > 1 ? usable : candidates);
    candidates = usable;
  }
  const chosen = candidates[0]!;
  const problem = await unusable(chosen.key, now, chosen.userId);
  if (problem) throw problem;

  const signer = await signingPart(chosen, now);
  return {
    key: chosen.key,
    signingKeyId: signer.getKeyID().toHex().toUpperCase(),
    fingerprint: chosen.key.getFingerprint().toUpperCase(),
    userId: chosen.userId ?? (await primaryUserId(chosen.key, now)),
    algorithm: algorithmName(signer.getAlgorithmInfo()),
  };
}

export function isKeyEncrypted(key: PrivateKey): boolean {
  return key.getKeys().some(({ keyPacket }) => 'isDummy' in keyPacket && !keyPacket.isDummy() && keyPacket.isDecrypted() === false);
}

/** The key ready to sign: decrypted with the passphrase when it is protected. Returns a copy; the input stays locked. */
export async function unlockKey(key: PrivateKey, passphrase: string | undefined): Promise<PrivateKey> {
  if (!isKeyEncrypted(key)) return key;
  const label = keyLabel(key);
  if (passphrase === undefined) {
    throw new PassphraseRequiredError(`key ${label} is protected by a passphrase`, {
      hint: 'pass --passphrase-file FILE (- for stdin), set CHARTPROV_PASSPHRASE, or run on a terminal to be asked',
    });
  }
  try {
    return await decryptKey({ privateKey: key, passphrase });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/passphrase|decrypt|checksum|MDC|authenticat/i.test(message)) {
      throw new PassphraseWrongError(`wrong passphrase for key ${label}`, {
        hint: 'check the passphrase; a passphrase file must hold it on its first line',
        cause: err,
      });
    }
    throw new KeyringError(`cannot unlock key ${label}: ${message}`, { cause: err });
  }
}

/** Why the key cannot sign at `now`, or undefined when it can. */
async function unusable(key: PrivateKey, now: Date, userId?: string): Promise<ChartprovError | undefined> {
  const label = keyLabel(key, userId);
  if (await key.isRevoked(undefined, undefined, now).catch(() => false)) {
    return new KeyRevokedError(`key ${label} is revoked`, { hint: 'choose another key with --key' });
  }
  const expiry = await key.getExpirationTime().catch(() => null);
  if (expiry instanceof Date && expiry.getTime() <= now.getTime()) {
    return new KeyExpiredError(`key ${label} expired on ${expiry.toISOString()}`, {
      hint: `extend it (gpg --quick-set-expire ${key.getFingerprint().toUpperCase()} 1y) and export it again, or choose another key`,
    });
  }
  return undefined;
}

/**
 * The (sub)key that signs. Helm signs with the primary key only, so we keep
 * the primary when it can sign; a certify-only primary hands over to its
 * signing subkey (openpgp's getSigningKey picks the newest valid one).
 * A gnu-dummy stub (secret on a smartcard or in the agent) cannot sign here.
 */
async function signingPart(match: KeyMatch<PrivateKey>, now: Date): Promise<PrivateKey | Subkey> {
  const { key } = match;
  const preferred: Array<KeyID | undefined> = [key.getKeyID(), undefined];
  if (match.subkeyId) {
    const named = key.subkeys.find((s) => s.getKeyID().toHex().toUpperCase() === match.subkeyId);
    if (named) preferred.unshift(named.getKeyID());
  }
  let lastError: unknown;
  let stub = false;
  for (const id of preferred) {
    try {
      const part = await key.getSigningKey(id, now);
      if ('isDummy' in part.keyPacket && part.keyPacket.isDummy()) {
        stub = true;
        continue;
      }
      return part as PrivateKey | Subkey;
    } catch (err) {
      lastError = err;
    }
  }
  const label = keyLabel(key, match.userId);
  if (stub) {
    throw new KeyNotFoundError(`key ${label} has only a stub of its secret signing key (smartcard or gpg-agent)`, {
      hint: 'sign with --sign-with gpg',
    });
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new KeyCannotSignError(`key ${label} cannot sign, neither its primary key nor a subkey${why}`, {
    hint: 'add a signing subkey (gpg --quick-add-key FPR ed25519 sign) or choose another key',
    cause: lastError,
  });
}

async function primaryUserId(key: Key, now: Date): Promise<string> {
  try {
    const { user } = await key.getPrimaryUser(now);
    if (user.userID) return user.userID.userID;
  } catch {
    // Expired or oddly certified keys have no verifiable primary user; fall through.
  }
  return key.getUserIDs()[0] ?? '';
}

function noSecretKeys(keyring: Keyring): KeyNotFoundError {
  const where = keyring.sources.length > 0 ? keyring.sources.join(', ') : 'the keyring';
  return new KeyNotFoundError(`no secret key in ${where}`, {
    hint:
      keyring.agentOnlyFingerprints.length > 0
        ? 'the secret keys are held by gpg-agent: sign with --sign-with gpg'
        : 'pass --keyring with a secret keyring (secring.gpg, gpg --export-secret-keys --armor > key.asc)',
  });
}

function notFound(keyring: Keyring, name: string): KeyNotFoundError {
  const publicOnly = matchKeys(keyring.publicKeys, name);
  if (publicOnly.length > 0) {
    const { key, userId } = publicOnly[0]!;
    const agent = keyring.agentOnlyFingerprints.includes(key.getFingerprint().toUpperCase());
    return new KeyNotFoundError(`key "${name}" found as public key only; its secret key is not in the keyring: ${keyLabel(key, userId)}`, {
      hint: agent
        ? AGENT_HINT
        : `add the secret keyring with --keyring (gpg --export-secret-keys --armor ${key.getFingerprint().toUpperCase()} > key.asc)`,
    });
  }
  const known = keyring.privateKeys.slice(0, LIST_LIMIT).map((k) => keyLabel(k));
  return new KeyNotFoundError(`no secret key matches "${name}"`, {
    hint:
      known.length > 0
        ? `--key takes a user id (all or part of it), a key id or a fingerprint; secret keys: ${known.join('; ')}`
        : 'the keyring holds no secret key (see chartprov keys list --secret); pass --keyring with a secret keyring',
  });
}

function ambiguous(name: string | undefined, matches: Array<KeyMatch<PrivateKey>>): KeyAmbiguousError {
  const list = matches
    .slice(0, LIST_LIMIT)
    .map((m) => keyLabel(m.key, m.userId))
    .join('; ');
  const more = matches.length > LIST_LIMIT ? `; and ${matches.length - LIST_LIMIT} more` : '';
  const what = name === undefined ? `the keyring holds ${matches.length} secret keys` : `"${name}" matches ${matches.length} keys`;
  return new KeyAmbiguousError(`${what}: ${list}${more}`, {
    hint: 'choose one with --key and its full user id or fingerprint',
  });
}
