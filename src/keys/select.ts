// Picks the key `--key NAME` means and the (sub)key that will sign, with an
// error that says why when there is none. Selection never needs the
// passphrase; unlockKey is a separate step so the CLI can prompt only once it
// knows which key it is prompting for.
import { decryptKey } from 'openpgp';
import type { KeyID, PrivateKey, Subkey } from 'openpgp';
import {
  KeyAmbiguousError,
  KeyCannotSignError,
  KeyNotFoundError,
  KeyringError,
  PassphraseRequiredError,
  PassphraseWrongError,
  isChartprovError,
} from '../errors.js';
import { algorithmName, primaryUserId } from './describe.js';
import type { Keyring } from './keyring.js';
import { keyLabel, matchKeys } from './match.js';
import type { KeyMatch } from './match.js';
import { assertKeyUsable } from './usable.js';

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
 * Helm's `--key NAME` rules over the keyring's private keys: an exact user id
 * wins, else a substring; we also take a key id or fingerprint. More than one
 * candidate is KEY_AMBIGUOUS, even when all but one are expired or revoked:
 * which key signs must not change silently when a key expires or a new one
 * is added, so the user names it (the error lists the candidates and their
 * state). With no NAME the keyring must hold exactly one private key.
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
  if (candidates.length > 1) throw await ambiguous(wanted, candidates, now);
  const chosen = candidates[0]!;
  await assertKeyUsable(chosen.key, { purpose: 'sign', now, userId: chosen.userId });

  const signer = await signingPartOf(chosen.key, { now, keyId: chosen.subkeyId, userId: chosen.userId });
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

export interface SigningPartOptions {
  /** Validity is judged at this time; default now. */
  now?: Date;
  /** Key id (16 hex, any case, optional 0x) of the (sub)key to use when it can sign. */
  keyId?: string;
  /** The user id to name the key by in errors. */
  userId?: string;
}

/**
 * The (sub)key that signs: the one `keyId` names if it can sign, else the
 * primary when it can sign (Helm signs with the primary key only), else the
 * newest valid signing subkey (a certify-only primary, helm #10633). A
 * gnu-dummy stub (secret on a smartcard or in gpg-agent) cannot sign here.
 * Selection and signing both use this, so the key reported is the key used.
 */
export async function signingPartOf(key: PrivateKey, opts: SigningPartOptions = {}): Promise<PrivateKey | Subkey> {
  const now = opts.now ?? new Date();
  const preferred: Array<KeyID | undefined> = [key.getKeyID(), undefined];
  if (opts.keyId) {
    const wanted = opts.keyId.replace(/^0x/i, '').toUpperCase();
    const named = key.getKeys().find((k) => k.getKeyID().toHex().toUpperCase() === wanted);
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
  const label = keyLabel(key, opts.userId);
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

async function ambiguous(name: string | undefined, matches: Array<KeyMatch<PrivateKey>>, now: Date): Promise<KeyAmbiguousError> {
  const shown = matches.slice(0, LIST_LIMIT);
  const states = await Promise.all(shown.map((m) => stateNote(m.key, now)));
  const list = shown.map((m, i) => `${keyLabel(m.key, m.userId)}${states[i]}`).join('; ');
  const more = matches.length > LIST_LIMIT ? `; and ${matches.length - LIST_LIMIT} more` : '';
  const what = name === undefined ? `the keyring holds ${matches.length} secret keys` : `"${name}" matches ${matches.length} keys`;
  return new KeyAmbiguousError(`${what}: ${list}${more}`, {
    hint: 'choose one with --key and its full user id or fingerprint',
  });
}

/** " [expired]" or " [revoked]" after a candidate that could not sign anyway, so the user sees which one to name. */
async function stateNote(key: PrivateKey, now: Date): Promise<string> {
  try {
    await assertKeyUsable(key, { purpose: 'sign', now });
    return '';
  } catch (err) {
    if (!isChartprovError(err)) throw err;
    return err.code === 'KEY_REVOKED' ? ' [revoked]' : ' [expired]';
  }
}
