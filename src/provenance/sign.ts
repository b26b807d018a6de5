/**
 * Makes a .prov: the provenance message clearsigned with SHA-512, as Helm
 * does, but signed by the key's signing-capable subkey when the primary key
 * may only certify (Helm signs with the primary regardless and produces a
 * .prov its own verify rejects, helm #10633). Expired, revoked and unusable
 * keys are refused up front with errors that say which.
 */
import { createCleartextMessage, enums, sign, type KeyID, type PrivateKey } from 'openpgp';
import type { ChartMetadata } from '../chart/metadata-types.js';
import { KeyCannotSignError, PassphraseRequiredError } from '../errors.js';
import { keyLabel } from '../keys/match.js';
import { signingPartOf } from '../keys/select.js';
import { assertKeyUsable } from '../keys/usable.js';
import { buildProvenanceMessage } from './message.js';

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
  /** See SignTextOptions.signingKeyId. */
  signingKeyId?: string;
}

export interface SignTextOptions {
  /** Signature creation time; default now. */
  date?: Date;
  /**
   * Key id (16 hex, any case) of the (sub)key that signs, as selectSigningKey
   * reports it. Default: the primary key when it may sign, as Helm signs,
   * else the newest valid signing subkey.
   */
  signingKeyId?: string;
}

export async function signProvenance(opts: SignProvenanceOptions): Promise<string> {
  const text = buildProvenanceMessage(opts.metadata, opts.fileName, opts.sha256);
  return signProvenanceText(text, opts.signingKey, { date: opts.date, signingKeyId: opts.signingKeyId });
}

/**
 * Clearsigns a message the caller built (normally with buildProvenanceMessage).
 * The result ends with "-----END PGP SIGNATURE-----\n", carries a CRC24 line
 * and a `Hash: SHA512` header: the Helm 3 layout, which Helm 3 and 4 both read.
 */
export async function signProvenanceText(text: string, key: PrivateKey, opts: Date | SignTextOptions = {}): Promise<string> {
  const { date = new Date(), signingKeyId } = opts instanceof Date ? { date: opts } : opts;
  const signer = await assertCanSign(key, date, signingKeyId);
  const message = await createCleartextMessage({ text });
  const armored = await sign({
    message,
    signingKeys: key,
    // Named explicitly: left to itself openpgp prefers a signing subkey over a
    // primary that may sign, which is not what Helm does or what select reported.
    signingKeyIDs: [signer],
    date,
    format: 'armored',
    config: { preferredHashAlgorithm: enums.hash.sha512 },
  });
  // openpgp.js writes the cleartext with its canonical CRLF line ends; Helm and
  // gpg write LF, and the signature covers the canonical form either way.
  const lf = armored.replaceAll('\r\n', '\n');
  return lf.endsWith('\n') ? lf : `${lf}\n`;
}

/** Refuses keys openpgp.js would refuse, but with an error that names the reason; returns the id of the (sub)key that signs. */
async function assertCanSign(key: PrivateKey, date: Date, signingKeyId: string | undefined): Promise<KeyID> {
  const who = `key ${keyLabel(key)}`;
  if (typeof key.isPrivate !== 'function' || !key.isPrivate()) {
    throw new KeyCannotSignError(`${who} is a public key; signing needs the secret key`, {
      hint: 'use a keyring that holds secret keys (gpg --export-secret-keys)',
    });
  }
  if (!key.isDecrypted()) {
    throw new PassphraseRequiredError(`${who} is locked by its passphrase`, {
      hint: 'give its passphrase (--passphrase-file FILE, or - for stdin)',
    });
  }
  await assertKeyUsable(key, { purpose: 'sign', now: date });
  const part = await signingPartOf(key, { now: date, keyId: signingKeyId });
  const used = part.getKeyID();
  const wanted = signingKeyId?.replace(/^0x/i, '').toUpperCase();
  if (wanted !== undefined && used.toHex().toUpperCase() !== wanted) {
    throw new KeyCannotSignError(`${wanted} is not a (sub)key of ${who} that may sign`, {
      hint: 'pass the signingKeyId selectSigningKey returned, or leave it out',
    });
  }
  return used;
}
