/**
 * The signatures of a chart kept in the embedded registry's own storage —
 * its provenance layer, provenance referrers (the referrers index the
 * server keeps) and a fallback-tag index pushed by a client that did not
 * use the API — each checked against the chart the way `chartprov discover`
 * does: first that the .prov is about this exact chart (archive sha256,
 * name, version; no key needed), then the signature against the keyring.
 * No HTTP: the server reads what it stores.
 */
import type { PublicKey } from 'openpgp';
import { ProvenanceInvalidError, SignerUnknownError, isChartprovError, type ChartprovError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import { parseHelmManifest, type HelmManifest } from '../../oci/helm-manifest-parse.js';
import { PROVENANCE_ARTIFACT_TYPE, provenanceLayerOf } from '../../oci/provenance-artifact.js';
import { fallbackTag } from '../../oci/referrers.js';
import {
  DEFAULT_MAX_PROV_BYTES,
  checkProvenanceMatches,
  claimedSigner,
  parseProvenance,
  verifyProvenance,
  type ParsedProvenance,
} from '../../provenance/index.js';
import type { RegistryStorage } from '../storage/index.js';
import { readBlobBytes } from './blob-bytes.js';

/**
 * - `valid`: signed by a key of the keyring, about this exact chart.
 * - `invalid`: malformed, about other bytes or another chart, or a bad signature (`reason` says which).
 * - `unknown-key`: about this chart, signed by a key the keyring lacks, or no keyring is configured (`reason` NO_KEYRING).
 */
export type StoredSignatureStatus = 'valid' | 'invalid' | 'unknown-key';

/** Where the .prov is kept. */
export type StoredSignatureSource = 'layer' | 'referrer' | 'fallback-tag';

export interface StoredSignature {
  source: StoredSignatureSource;
  /** The provenance layer's digest, or the referrer manifest's. */
  location: string;
  status: StoredSignatureStatus;
  signer?: {
    /** The (sub)key that made the signature: verified when `valid`, else as the signature claims. */
    keyId: string;
    /** Primary key fingerprint, only when verified. */
    fingerprint?: string;
    /** Primary user id, only when verified. */
    userId?: string;
    signedAt?: string;
  };
  /** An error code when not valid (`SIGNER_UNKNOWN`, `CHART_TAMPERED`, `SIGNATURE_INVALID`, `NO_KEYRING`, …). */
  reason?: string;
  message?: string;
}

export interface StoredChartSignatures {
  /** From the chart's config. */
  name: string;
  version: string;
  /** The chart layer (the archive), whose digest a .prov signs. */
  chart: Descriptor;
  signatures: StoredSignature[];
}

export interface StoredChartSignaturesOptions {
  storage: RegistryStorage;
  repository: string;
  /** The chart manifest's digest. */
  digest: string;
  /** The trusted keys; undefined when no keyring is configured (nothing is then `valid`). */
  keys?: PublicKey[];
  now?: Date;
  /** The parsed manifest, when the caller already has it. */
  manifest?: HelmManifest;
}

export const NO_KEYRING = 'NO_KEYRING';

/** Undefined when the repository holds no such manifest or it is not a chart. */
export async function storedChartSignatures(opts: StoredChartSignaturesOptions): Promise<StoredChartSignatures | undefined> {
  const { storage, repository, digest } = opts;
  let manifest = opts.manifest;
  if (!manifest) {
    const stored = await storage.getManifest(repository, digest);
    if (!stored) return undefined;
    try {
      manifest = parseHelmManifest(stored.bytes);
    } catch {
      return undefined;
    }
  }
  const meta = await chartConfig(storage, manifest.config);
  const chart = { name: meta?.name ?? '', version: meta?.version ?? '' };
  const check = (text: string | ChartprovError) => checkOne(text, chart, manifest.chart, opts.keys, opts.now);
  const signatures: StoredSignature[] = [];
  if (manifest.prov)
    signatures.push({ source: 'layer', location: manifest.prov.digest, ...(await check(await readProv(storage, manifest.prov))) });
  for (const referrer of await storage.listReferrers(repository, digest)) {
    const text = await referrerProv(storage, repository, referrer);
    if (text !== undefined) signatures.push({ source: 'referrer', location: referrer, ...(await check(text)) });
  }
  for (const referrer of await fallbackReferrers(storage, repository, digest)) {
    if (signatures.some((s) => s.location === referrer)) continue;
    const text = await referrerProv(storage, repository, referrer);
    if (text !== undefined) signatures.push({ source: 'fallback-tag', location: referrer, ...(await check(text)) });
  }
  return { ...chart, chart: manifest.chart, signatures };
}

async function chartConfig(storage: RegistryStorage, config: Descriptor): Promise<{ name: string; version: string } | undefined> {
  try {
    const value = JSON.parse((await readBlobBytes(storage, config.digest, 1 << 20)).toString('utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    if (typeof value.name === 'string' && typeof value.version === 'string') return { name: value.name, version: value.version };
  } catch {
    // A config that is gone or not JSON: no .prov can match an empty name, so every signature shows invalid.
  }
  return undefined;
}

async function readProv(storage: RegistryStorage, layer: Descriptor): Promise<string | ChartprovError> {
  if (layer.size > DEFAULT_MAX_PROV_BYTES)
    return new ProvenanceInvalidError(`the provenance layer ${layer.digest} is ${layer.size} bytes, larger than any provenance file`);
  try {
    return (await readBlobBytes(storage, layer.digest, DEFAULT_MAX_PROV_BYTES)).toString('utf8');
  } catch (err) {
    return new ProvenanceInvalidError(`the provenance layer ${layer.digest} cannot be read`, { cause: err });
  }
}

/** The .prov of a referrer, or undefined when the referrer is another kind of artifact (an SBOM, a cosign signature). */
async function referrerProv(storage: RegistryStorage, repository: string, digest: string): Promise<string | ChartprovError | undefined> {
  const stored = await storage.getManifest(repository, digest);
  if (!stored) return undefined;
  const layer = provenanceLayerOf(stored.bytes);
  if (!layer) return undefined;
  return readProv(storage, layer);
}

/** Referrers listed in the fallback index (`sha256-<hex>` tag) that name provenance. */
async function fallbackReferrers(storage: RegistryStorage, repository: string, digest: string): Promise<string[]> {
  try {
    const stored = await storage.getManifest(repository, fallbackTag(digest));
    if (!stored) return [];
    const index = JSON.parse(stored.bytes.toString('utf8')) as { manifests?: Array<{ digest?: unknown; artifactType?: unknown }> };
    return (index.manifests ?? [])
      .filter((m) => typeof m?.digest === 'string' && (m.artifactType === undefined || m.artifactType === PROVENANCE_ARTIFACT_TYPE))
      .map((m) => m.digest as string);
  } catch {
    return [];
  }
}

type Check = Omit<StoredSignature, 'source' | 'location'>;

async function checkOne(
  text: string | ChartprovError,
  meta: { name: string; version: string },
  chartLayer: Descriptor,
  keys: PublicKey[] | undefined,
  now: Date | undefined,
): Promise<Check> {
  if (typeof text !== 'string') return invalid(text);
  const fileName = `${meta.name}-${meta.version}.tgz`;
  const sha256 = chartLayer.digest;
  let parsed: ParsedProvenance;
  let claimed: { keyId: string; signedAt?: string };
  try {
    parsed = parseProvenance(text);
    claimed = await claimedSigner(parsed);
  } catch (err) {
    return invalid(asError(err));
  }
  try {
    if (!sha256.startsWith('sha256:'))
      throw new ProvenanceInvalidError(`the chart layer is named by ${sha256.split(':')[0]}, a .prov lists sha256`);
    checkProvenanceMatches(parsed, { fileName, sha256, chartMetadata: meta });
  } catch (err) {
    return invalid(asError(err), claimed);
  }
  if (!keys) return { status: 'unknown-key', signer: claimed, reason: NO_KEYRING, message: 'no keyring configured' };
  try {
    const v = await verifyProvenance({ provenance: parsed, fileName, sha256, keys, chartMetadata: meta, ...(now ? { now } : {}) });
    const { keyId, fingerprint, userId, signedAt } = v.signer;
    return { status: 'valid', signer: { keyId, fingerprint, userId, signedAt } };
  } catch (err) {
    const e = asError(err);
    if (e instanceof SignerUnknownError) return { status: 'unknown-key', signer: claimed, reason: e.code, message: e.message };
    return invalid(e, claimed);
  }
}

function invalid(err: ChartprovError, signer?: Check['signer']): Check {
  return { status: 'invalid', ...(signer ? { signer } : {}), reason: err.code, message: err.message };
}

function asError(err: unknown): ChartprovError {
  if (isChartprovError(err)) return err;
  return new ProvenanceInvalidError(`cannot verify: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
}
