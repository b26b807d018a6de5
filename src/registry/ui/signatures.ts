/**
 * The signatures of a chart kept in the embedded registry's own storage —
 * its provenance layer, provenance referrers (the referrers index the
 * server keeps) and a fallback-tag index pushed by a client that did not
 * use the API — each checked against the chart the way `chartprov discover`
 * does: first that the .prov is about this exact chart (archive sha256,
 * name, version; no key needed), then the signature against the keyring.
 * No HTTP: the server reads what it stores. A .prov is checked once however
 * many referrers carry it, at most `maxChecked` are checked per call, and a
 * cache given by the caller keeps results between calls.
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
import { readBlobBytes } from '../storage/blob-bytes.js';

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
  /** Provenance signatures past `maxChecked`: found, neither verified nor listed. */
  unchecked: number;
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
  /**
   * Signatures checked at most (the provenance layer first, then referrers);
   * the others are only counted in `unchecked`. Default: all of them.
   */
  maxChecked?: number;
  /**
   * Results kept between calls (the web UI's, so a page view does not verify
   * again what an earlier one did). Used only with `keyringStamp` when `keys`
   * are given: a result is about one keyring as it was.
   */
  cache?: SignatureCheckCache;
  /** What identifies `keys` (the keyring file's stamp); a changed keyring checks again. */
  keyringStamp?: string;
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
  const chartLayer = manifest.chart;
  const max = opts.maxChecked ?? Infinity;
  const cacheable = opts.cache !== undefined && opts.now === undefined && (opts.keys === undefined || opts.keyringStamp !== undefined);
  // Same .prov, same chart manifest (archive and config), same keyring: same answer. Many referrers
  // carrying one .prov (a flood of distinct manifests) are verified once.
  const keyOf = (prov: string) => `${prov}\0${digest}\0${opts.keys ? `keys:${opts.keyringStamp ?? ''}` : 'no-keyring'}`;
  const inView = new Map<string, Promise<Check>>();
  const checkLayer = (layer: Descriptor): Promise<Check> => {
    let pending = inView.get(layer.digest);
    if (!pending) {
      pending = (async () => {
        const key = keyOf(layer.digest);
        const cached = cacheable ? opts.cache!.get(key) : undefined;
        if (cached) return cached;
        const text = await readProv(storage, layer);
        // An unreadable blob is told as it is now, never remembered.
        if (typeof text !== 'string') return invalid(text);
        checkCount++;
        const result = await checkOne(text, chart, chartLayer, opts.keys, opts.now);
        if (cacheable) opts.cache!.set(key, result);
        return result;
      })();
      inView.set(layer.digest, pending);
    }
    return pending;
  };
  const signatures: StoredSignature[] = [];
  let unchecked = 0;
  const add = async (source: StoredSignatureSource, location: string, layer: Descriptor) => {
    if (signatures.length >= max) unchecked++;
    else signatures.push({ source, location, ...(await checkLayer(layer)) });
  };
  if (manifest.prov) await add('layer', manifest.prov.digest, manifest.prov);
  const listed = new Set<string>();
  for (const referrer of await storage.listReferrers(repository, digest)) {
    listed.add(referrer);
    const layer = await referrerProvLayer(storage, repository, referrer);
    if (layer !== undefined) await add('referrer', referrer, layer);
  }
  for (const referrer of await fallbackReferrers(storage, repository, digest)) {
    if (listed.has(referrer)) continue;
    listed.add(referrer);
    const layer = await referrerProvLayer(storage, repository, referrer);
    if (layer !== undefined) await add('fallback-tag', referrer, layer);
  }
  return { ...chart, chart: chartLayer, signatures, unchecked };
}

let checkCount = 0;

/** How many .prov files this process has checked (parsed and verified) so far: a counter for tests and metrics. */
export function signatureCheckCount(): number {
  return checkCount;
}

/**
 * Check results by (.prov digest, chart manifest digest, keyring stamp), the
 * least recently used dropped past `max`, each kept `ttlMs` at most (a key
 * may expire, a signature's time may come to lie in the past of a key's).
 */
export class SignatureCheckCache {
  private readonly entries = new Map<string, { at: number; check: Check }>();

  constructor(
    private readonly max = 2048,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Check | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.at >= this.ttlMs) return undefined;
    this.entries.set(key, entry);
    return entry.check;
  }

  set(key: string, check: Check): void {
    this.entries.delete(key);
    this.entries.set(key, { at: this.now(), check });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
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

/** The provenance layer of a referrer, or undefined when the referrer is another kind of artifact (an SBOM, a cosign signature). */
async function referrerProvLayer(storage: RegistryStorage, repository: string, digest: string): Promise<Descriptor | undefined> {
  const stored = await storage.getManifest(repository, digest);
  if (!stored) return undefined;
  return provenanceLayerOf(stored.bytes);
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
  text: string,
  meta: { name: string; version: string },
  chartLayer: Descriptor,
  keys: PublicKey[] | undefined,
  now: Date | undefined,
): Promise<Check> {
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
