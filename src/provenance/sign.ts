/**
 * Makes a .prov: the provenance message clearsigned with SHA-512, as Helm
 * does, but signed by the key's signing-capable subkey when the primary key
 * may only certify (Helm signs with the primary regardless and produces a
 * .prov its own verify rejects, helm #10633). Expired, revoked and unusable
 * keys are refused up front with errors that say which.
 */
import { createCleartextMessage, enums, sign, type PrivateKey } from 'openpgp';
import type { ChartMetadata } from '../chart/metadata-types.js';
import { KeyCannotSignError, KeyExpiredError, KeyRevokedError, PassphraseRequiredError } from '../errors.js';
import { buildProvenanceMessage } from './message.js';
import { describeKey, keyExpiry } from './keyinfo.js';

export interface SignProvenanceOptions {
  metadata: ChartMetadata;
  /** Basename of the chart archive. */
  fileName: string;
  /** sha256 of the archive bytes, hex (optionally `sha256:`-prefixed). */
  sha256: string;
  /** A private key, already decrypted. */
  signingKey: PrivateKey;
  /** Signature creation time; default now. */
  date?: Date;
}

export async function signProvenance(opts: SignProvenanceOptions): Promise<string> {
  const text = buildProvenanceMessage(opts.metadata, opts.fileName, opts.sha256);
  return signProvenanceText(text, opts.signingKey, opts.date);
}

/**
 * Clearsigns a message the caller built (normally with buildProvenanceMessage).
 * The result ends with "-----END PGP SIGNATURE-----\n", carries a CRC24 line
 * and a `Hash: SHA512` header: the Helm 3 layout, which Helm 3 and 4 both read.
 */
export async function signProvenanceText(text: string, key: PrivateKey, date: Date = new Date()): Promise<string> {
  await assertCanSign(key, date);
  const message = await createCleartextMessage({ text });
  const armored = await sign({
    message,
    signingKeys: key,
    date,
    format: 'armored',
    config: { preferredHashAlgorithm: enums.hash.sha512 },
  });
  // openpgp.js writes the cleartext with its canonical CRLF line ends; Helm and
  // gpg write LF, and the signature covers the canonical form either way.
  const lf = armored.replaceAll('\r\n', '\n');
  return lf.endsWith('\n') ? lf : `${lf}\n`;
}

/** Refuses keys openpgp.js would refuse, but with an error that names the reason. */
async function assertCanSign(key: PrivateKey, date: Date): Promise<void> {
  const who = describeKey(key);
  if (typeof key.isPrivate !== 'function' || !key.isPrivate()) {
    throw new KeyCannotSignError(`${who} is a public key; signing needs the secret key`, {
      hint: 'use a keyring that holds secret keys (gpg --export-secret-keys)',
    });
  }
  if (!key.isDecrypted()) {
    throw new PassphraseRequiredError(`the secret key ${who} is locked`, {
      hint: 'give its passphrase (--passphrase-file FILE, or - for stdin)',
    });
  }
  if (await key.isRevoked(undefined, undefined, date)) {
    throw new KeyRevokedError(`${who} is revoked`, { hint: 'sign with another key' });
  }
  const expires = await keyExpiry(key);
  if (expires !== null && expires <= date) {
    throw new KeyExpiredError(`${who} expired on ${expires.toISOString().slice(0, 10)}`, {
      hint: 'extend the key (gpg --quick-set-expire) and export it again, or sign with another key',
    });
  }
  try {
    await key.getSigningKey(undefined, date);
  } catch (err) {
    throw new KeyCannotSignError(`${who} has no valid signing key or subkey`, {
      hint: 'add a signing subkey (gpg --quick-add-key FPR ed25519 sign) or use another key',
      cause: err,
    });
  }
}
