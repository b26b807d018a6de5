/**
 * Every signature a chart in a registry has, wherever it is kept — its
 * provenance layer, referrers (API or fallback tag), or a .prov the user
 * names — each checked on its own, then one decision: at least one valid
 * signature, or as many distinct signers / the key ids a policy asks for.
 */
import type { PublicKey } from 'openpgp';
import { ChartprovError, isChartprovError, ProvenanceInvalidError, ProvenanceMissingError, SignaturePolicyError, UsageError } from '../errors.js';
import { DEFAULT_MAX_PROV_BYTES } from '../provenance/parse.js';
import { verifyProvenance, type SignerInfo } from '../provenance/index.js';
import { attachedProvenances } from './referrer-provenance.js';
import type { ResolvedChart } from './resolve-chart.js';

/** Where a signature came from. */
export type SignatureSource = 'layer' | 'referrer' | 'fallback-tag' | 'file' | 'url';

export interface SignatureCandidate {
  source: SignatureSource;
  /** The referrer's digest, the layer's digest, the file or the URL. */
  location: string;
  text: string;
}

export type SignatureCheck =
  | { source: SignatureSource; location: string; ok: true; signer: SignerInfo }
  | { source: SignatureSource; location: string; ok: false; error: ChartprovError };

export interface SignaturePolicy {
  /** Distinct signers (primary key fingerprints) that must have valid signatures; default 1. */
  requireSigners?: number;
  /** Only signatures by these keys count: key ids or fingerprints (a suffix match, case-insensitive). */
  keyIds?: string[];
}

export interface SignatureDecision {
  checks: SignatureCheck[];
  /** The valid signatures the policy counted, first the one that decided. */
  accepted: Array<Extract<SignatureCheck, { ok: true }>>;
}

/** The provenance layer and every provenance referrer of a chart, with their text. */
export async function registrySignatures(chart: ResolvedChart): Promise<SignatureCandidate[]> {
  const found: SignatureCandidate[] = [];
  if (chart.prov) {
    const text = (await chart.repo.fetchBlobBytes(chart.prov, DEFAULT_MAX_PROV_BYTES)).toString('utf8');
    found.push({ source: 'layer', location: chart.prov.digest, text });
  }
  for (const p of await attachedProvenances(chart.repo, chart.digest)) {
    found.push({ source: p.mode === 'api' ? 'referrer' : 'fallback-tag', location: p.referrer, text: p.text });
  }
  return found;
}

/** Checks each candidate against the chart (its archive digest and name/version) and the keys. */
export async function checkSignatures(
  candidates: SignatureCandidate[],
  chart: { fileName: string; sha256: string; name: string; version: string },
  keys: PublicKey[],
  now?: Date,
): Promise<SignatureCheck[]> {
  const checks: SignatureCheck[] = [];
  for (const c of candidates) {
    try {
      const v = await verifyProvenance({
        provenance: c.text,
        fileName: chart.fileName,
        sha256: chart.sha256,
        keys,
        chartMetadata: { name: chart.name, version: chart.version },
        ...(now ? { now } : {}),
      });
      checks.push({ source: c.source, location: c.location, ok: true, signer: v.signer });
    } catch (err) {
      checks.push({ source: c.source, location: c.location, ok: false, error: asChartprovError(err) });
    }
  }
  return checks;
}

/**
 * Applies the policy; throws the error that says best why not. With no
 * candidate at all: PROV_MISSING. With candidates none of which holds: the
 * first one's own error (SIGNER_UNKNOWN, CHART_TAMPERED…). With valid ones that do not satisfy the policy: SIGNATURE_POLICY.
 */
export function decideSignatures(what: string, checks: SignatureCheck[], policy: SignaturePolicy = {}): SignatureDecision {
  if (checks.length === 0)
    throw new ProvenanceMissingError(`${what} has no signature: no provenance layer, no provenance referrer`, {
      hint: 'attach one (chartprov attach / chartprov sign oci://…), or give --prov-file / --prov-url',
    });
  const valid = checks.filter((c): c is Extract<SignatureCheck, { ok: true }> => c.ok);
  if (valid.length === 0) {
    // The first signature's own error (SIGNER_UNKNOWN, CHART_TAMPERED…) says best what is wrong.
    throw checks.find((c): c is Extract<SignatureCheck, { ok: false }> => !c.ok)!.error;
  }
  const wanted = (policy.keyIds ?? []).map((k) => k.replace(/\s+/g, '').replace(/^0X/i, '').toUpperCase());
  const short = wanted.find((k) => !/^[0-9A-F]{8,40}$/.test(k));
  if (short !== undefined)
    throw new UsageError(`--key-id ${short} is not a key id: give 8 to 40 hex digits (a key id or a fingerprint)`, {
      hint: 'chartprov keys list shows key ids and fingerprints',
    });
  const counted = wanted.length
    ? valid.filter((c) => wanted.some((k) => c.signer.fingerprint.endsWith(k) || c.signer.keyId.endsWith(k)))
    : valid;
  const bySigner = new Map<string, Extract<SignatureCheck, { ok: true }>>();
  for (const c of counted) if (!bySigner.has(c.signer.fingerprint)) bySigner.set(c.signer.fingerprint, c);
  const need = Math.max(1, policy.requireSigners ?? 1);
  if (bySigner.size < need || counted.length === 0) {
    const have = [...new Set(valid.map((c) => c.signer.userId))].join(', ');
    const by = wanted.length ? ` by ${policy.keyIds!.join(', ')}` : '';
    throw new SignaturePolicyError(`${what} has ${bySigner.size} valid signer${bySigner.size === 1 ? '' : 's'}${by}, ${need} required (valid: ${have})`);
  }
  return { checks, accepted: [...bySigner.values()] };
}

function asChartprovError(err: unknown): ChartprovError {
  if (isChartprovError(err)) return err;
  return new ProvenanceInvalidError(`cannot verify: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { cause: err });
}
