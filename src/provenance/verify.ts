/**
 * Verifies a .prov against an archive the way `helm verify` does, plus what
 * Helm leaves out: expired and revoked keys are refused (Helm 3 accepts
 * expired ones), a prov signed by a key that may not sign is refused, a
 * signature dated in the future or before its key existed is refused, and
 * the metadata can be matched against the archive's Chart.yaml.
 *
 * Order: parse → signature → file digest → metadata. Each failure is its own
 * error class. We do not lean on openpgp.verify's error strings to tell
 * "unknown signer" from "bad signature" from "expired key" (they are not a
 * stable API): we read the issuer from the signature packet, check the
 * cryptography on the packet, then the key's state through openpgp's key API.
 */
import { SignaturePacket, createMessage, enums, readSignature, type KeyID, type PublicKey } from 'openpgp';
import {
  ChartTamperedError,
  ChartprovError,
  KeyCannotSignError,
  ProvenanceInvalidError,
  ProvenanceMismatchError,
  SignatureInvalidError,
  SignerUnknownError,
  UsageError,
  isChartprovError,
} from '../errors.js';
import { algorithmName, primaryUserId } from '../keys/describe.js';
import { keyLabel } from '../keys/match.js';
import { assertKeyUsable, isoTime } from '../keys/usable.js';
import { keyIdHex, keyIndex, type IssuerMatch } from './keyinfo.js';
import { normalizeSha256 } from './message.js';
import { parseProvenance, type ParsedProvenance } from './parse.js';

export interface SignerInfo {
  /** The (sub)key that made the signature, 16 uppercase hex. */
  keyId: string;
  /** Fingerprint of the PRIMARY key, uppercase hex. */
  fingerprint: string;
  userId: string;
  /** Signature creation time, ISO 8601. */
  signedAt: string;
  /** e.g. 'SHA512'. */
  hashAlgorithm: string;
  /** gpg's short name of the signing key's algorithm: 'rsa2048', 'ed25519'… */
  algorithm: string;
}

export interface ProvenanceVerification {
  fileName: string;
  /** Verified sha256 of the archive, lowercase hex. */
  sha256: string;
  metadata: ParsedProvenance['metadata'];
  signer: SignerInfo;
}

export interface VerifyProvenanceOptions {
  provenance: string | ParsedProvenance;
  /** Basename of the archive. */
  fileName: string;
  /** sha256 of the archive bytes, hex (optionally `sha256:`-prefixed). */
  sha256: string;
  /** Trusted public keys, parsed once by the caller. */
  keys: PublicKey[];
  /** From the archive's Chart.yaml; when given, the prov's name and version must match. */
  chartMetadata?: { name: string; version: string };
  /** Verification time; default now. */
  now?: Date;
}

export type BatchResult = { ok: true; result: ProvenanceVerification } | { ok: false; error: ChartprovError };

const INSECURE_HASHES = new Set<number>([enums.hash.md5, enums.hash.ripemd, enums.hash.sha1]);
const SIGNER_HINT = "add the signer's public key with --keyring, or check who signed this chart";
/**
 * How far a signature's time may run ahead of ours. Signer and verifier
 * clocks differ by seconds, sometimes minutes; a signature further ahead was
 * either made on a broken clock or pre-dated to outlive a key's expiry or
 * revocation, and openpgp's own check (no slack at all) is off here.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function verifyProvenance(opts: VerifyProvenanceOptions): Promise<ProvenanceVerification> {
  return verifyWithIndex(opts, keyIndex(opts.keys));
}

/**
 * Verifies many charts against one keyring; never throws for a single chart.
 * Results come back in the order of `items`.
 */
export async function verifyProvenanceBatch(
  items: Array<Omit<VerifyProvenanceOptions, 'keys'>>,
  keys: PublicKey[],
  opts: { concurrency?: number } = {},
): Promise<BatchResult[]> {
  const index = keyIndex(keys);
  const results = new Array<BatchResult>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const n = next++;
      try {
        results[n] = { ok: true, result: await verifyWithIndex({ ...items[n]!, keys }, index) };
      } catch (err) {
        results[n] = { ok: false, error: asChartprovError(err) };
      }
    }
  };
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 8, items.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

function asChartprovError(err: unknown): ChartprovError {
  if (isChartprovError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProvenanceInvalidError(`cannot verify: ${message.split('\n')[0]}`, { cause: err });
}

async function verifyWithIndex(opts: VerifyProvenanceOptions, index: Map<string, IssuerMatch[]>): Promise<ProvenanceVerification> {
  const now = opts.now ?? new Date();
  const sha256 = normalizeSha256(opts.sha256);
  if (sha256 === undefined) throw new UsageError(`not a sha256 digest: "${opts.sha256}"`, { hint: 'pass 64 hex digits' });

  const parsed = typeof opts.provenance === 'string' ? parseProvenance(opts.provenance) : opts.provenance;
  const signer = await verifySignature(parsed, index, now);
  checkProvenanceMatches(parsed, { ...opts, sha256 });
  return { fileName: opts.fileName, sha256, metadata: parsed.metadata, signer };
}

/**
 * The .prov is about this archive: it lists `fileName` with this sha256 and,
 * when given, names the same chart and version. The signature is not looked
 * at (push checks a prov belongs to its chart even without the signer's key).
 */
export function checkProvenanceMatches(
  parsed: ParsedProvenance,
  opts: { fileName: string; sha256: string; chartMetadata?: { name: string; version: string } },
): void {
  const sha256 = normalizeSha256(opts.sha256);
  if (sha256 === undefined) throw new UsageError(`not a sha256 digest: "${opts.sha256}"`, { hint: 'pass 64 hex digits' });
  if (!Object.hasOwn(parsed.files, opts.fileName)) {
    const names = Object.keys(parsed.files).join(', ');
    throw new ProvenanceMismatchError(`the .prov is for ${names}, not ${opts.fileName}`, {
      hint: 'verify the archive under the name it was signed with (helm names it <chart>-<version>.tgz)',
    });
  }
  const signed = parsed.files[opts.fileName]!.slice('sha256:'.length);
  if (signed !== sha256) {
    throw new ChartTamperedError(
      `${opts.fileName} does not match its .prov: sha256 ${sha256.slice(0, 12)}… but signed ${signed.slice(0, 12)}…`,
      { hint: 'the archive changed after it was signed; fetch it again from a trusted source' },
    );
  }

  if (opts.chartMetadata) {
    const name = String(parsed.metadata.name ?? '');
    const version = String(parsed.metadata.version ?? '');
    if (name !== opts.chartMetadata.name || version !== opts.chartMetadata.version) {
      throw new ProvenanceMismatchError(
        `the .prov is for chart ${name} ${version}, the archive holds ${opts.chartMetadata.name} ${opts.chartMetadata.version}`,
        { hint: 'the .prov belongs to another chart; use the .prov published with this archive' },
      );
    }
  }
}

/** The signature packets of the prov, with the one made by a key we know first. */
async function signaturePackets(parsed: ParsedProvenance): Promise<SignaturePacket[]> {
  try {
    const signature = await readSignature({ binarySignature: parsed.signatureBytes });
    return [...signature.packets].filter((p): p is SignaturePacket => p instanceof SignaturePacket);
  } catch (err) {
    throw new ProvenanceInvalidError('the signature block does not hold an OpenPGP signature', {
      hint: 'the .prov is damaged; sign the chart again',
      cause: err,
    });
  }
}

/**
 * Who the signature says made it and when, without checking anything: for
 * labels and warnings when no keyring is at hand. Never a trust decision.
 */
export async function claimedSigner(parsed: ParsedProvenance): Promise<{ keyId: string; signedAt?: string }> {
  const p = (await signaturePackets(parsed))[0];
  if (!p) throw new ProvenanceInvalidError('the .prov holds no signature', { hint: 'sign the chart again' });
  return { keyId: issuerId(p), ...(p.created ? { signedAt: p.created.toISOString() } : {}) };
}

function issuerId(p: SignaturePacket): string {
  if (p.issuerFingerprint && p.issuerFingerprint.length >= 8) {
    return Buffer.from(p.issuerFingerprint.slice(-8)).toString('hex').toUpperCase();
  }
  return keyIdHex(p.issuerKeyID);
}

/** Keys whose id matches the issuer; the issuer fingerprint, when present, must match too. */
function candidates(p: SignaturePacket, index: Map<string, IssuerMatch[]>): IssuerMatch[] {
  const list = index.get(issuerId(p)) ?? [];
  if (!p.issuerFingerprint) return list;
  const fpr = Buffer.from(p.issuerFingerprint).toString('hex');
  return list.filter((m) => (m.subkey ?? m.key).getFingerprint() === fpr);
}

async function verifySignature(parsed: ParsedProvenance, index: Map<string, IssuerMatch[]>, now: Date): Promise<SignerInfo> {
  const packets = await signaturePackets(parsed);
  if (packets.length === 0) throw new ProvenanceInvalidError('the .prov holds no signature', { hint: 'sign the chart again' });

  let sig: SignaturePacket | undefined;
  let match: IssuerMatch | undefined;
  for (const p of packets) {
    const found = candidates(p, index)[0];
    if (found) {
      sig = p;
      match = found;
      break;
    }
  }
  if (!sig || !match) {
    const ids = [...new Set(packets.map(issuerId))].join(', ');
    throw new SignerUnknownError(`signed by key ${ids}, which is not in the keyring`, { hint: SIGNER_HINT });
  }

  const hashName = hashAlgorithmName(sig);
  if (hashName.replace('_', '-') !== parsed.hashAlgorithm) {
    throw new ProvenanceInvalidError(`armor says Hash: ${parsed.hashAlgorithm} but the signature uses ${hashName}`, {
      hint: 'the .prov was altered; sign the chart again',
    });
  }
  await checkCryptography(parsed, sig, match, hashName, now);

  const signingKey = match.subkey ?? match.key;
  const created = sig.created ?? new Date(0);
  checkSignatureTime(match, created, now);
  await assertKeyUsable(match.key, { purpose: 'verify', now, subkey: match.subkey, signedAt: created });
  await checkMaySign(match, sig.issuerKeyID, created, now);

  return {
    keyId: keyIdHex(signingKey.getKeyID()),
    fingerprint: match.key.getFingerprint().toUpperCase(),
    userId: await primaryUserId(match.key, now),
    signedAt: created.toISOString(),
    hashAlgorithm: hashName.replace('_', '-'),
    algorithm: algorithmName(signingKey.getAlgorithmInfo()),
  };
}

function hashAlgorithmName(sig: SignaturePacket): string {
  try {
    return String(enums.read(enums.hash, (sig.hashAlgorithm ?? -1) as enums.hash)).toUpperCase();
  } catch {
    return `hash algorithm ${sig.hashAlgorithm}`;
  }
}

async function checkCryptography(
  parsed: ParsedProvenance,
  sig: SignaturePacket,
  match: IssuerMatch,
  hashName: string,
  now: Date,
): Promise<void> {
  const edited = (cause?: unknown): SignatureInvalidError =>
    new SignatureInvalidError('the signature does not match the signed text (the .prov was edited)', {
      hint: 'do not trust this chart; fetch the chart and .prov again from the publisher',
      cause,
    });
  if (sig.signatureType !== enums.signature.text) {
    throw new SignatureInvalidError('the signature is not a text (cleartext) signature', { hint: 'sign the chart again' });
  }
  if (sig.hashAlgorithm !== null && INSECURE_HASHES.has(sig.hashAlgorithm)) {
    throw new SignatureInvalidError(`the signature uses the insecure hash ${hashName}`, { hint: 'sign the chart again (SHA512)' });
  }
  const message = await createMessage({ text: parsed.signedText });
  const literal = message.packets[0];
  const keyPacket = (match.subkey ?? match.key).keyPacket;
  try {
    // A null date skips openpgp's own time checks (which allow no clock
    // skew): checkSignatureTime and assertKeyUsable judge the signature and
    // key times, with errors that say which time is wrong.
    await sig.verify(keyPacket, enums.signature.text, literal as object, null as unknown as Date, false);
  } catch (err) {
    throw edited(err);
  }
  const expires = sig.getExpirationTime();
  if (expires instanceof Date && expires <= now) {
    throw new SignatureInvalidError(`the signature expired on ${expires.toISOString().slice(0, 10)}`, {
      hint: 'ask the publisher to sign the chart again',
    });
  }
}

/**
 * The signature's own time must be plausible before anything is judged at
 * it: a pre-dated signature would otherwise outlive the key's expiry check
 * (expiry is compared with the signature time) and openpgp's validity checks.
 */
function checkSignatureTime(match: IssuerMatch, created: Date, now: Date): void {
  if (created.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw new SignatureInvalidError(`signature is dated in the future: ${isoTime(created)}, now is ${isoTime(now)}`, {
      hint: "do not trust this chart; if the signer's clock was wrong, ask for a new signature",
    });
  }
  const signingKey = match.subkey ?? match.key;
  const keyCreated = signingKey.getCreationTime();
  if (created.getTime() < keyCreated.getTime()) {
    const which = match.subkey ? `subkey ${keyIdHex(signingKey.getKeyID())} of key ${keyLabel(match.key)}` : `key ${keyLabel(match.key)}`;
    throw new SignatureInvalidError(`signature is dated ${isoTime(created)}, before its ${which} was created on ${isoTime(keyCreated)}`, {
      hint: 'do not trust this chart; fetch it and its .prov again from the publisher',
    });
  }
}

/**
 * The (sub)key must be allowed to sign. openpgp checks flags and binding
 * signatures; we try at signing time and now, because re-certifying a key
 * (say, extending its expiry) may replace the self-signature that was
 * current when the chart was signed.
 */
async function checkMaySign(match: IssuerMatch, issuer: KeyID, created: Date, now: Date): Promise<void> {
  let failure: unknown;
  for (const date of [created, now]) {
    try {
      await match.key.getSigningKey(issuer, date);
      return;
    } catch (err) {
      failure = err;
    }
  }
  const which = match.subkey ? `subkey ${keyIdHex(issuer)} of key ${keyLabel(match.key)}` : `key ${keyLabel(match.key)}`;
  throw new KeyCannotSignError(`the ${which} is not valid for signing (e.g. a certify-only primary key)`, {
    hint: 'helm signs with the primary key even when only a subkey may sign; re-sign with chartprov or gpg',
    cause: failure,
  });
}
