/**
 * `chartprov verify CHART.tgz… --policy FILE`: local archives judged by a
 * trust policy instead of "one valid signature". A local chart has no
 * repository, so the policy's rule is chosen by the chart's name (a pattern
 * `**\/NAME` covers it and its OCI repositories alike).
 */
import { basename } from 'node:path';
import { readChartArchive } from '../chart/index.js';
import { ProvenanceMissingError } from '../errors.js';
import type { TrustVerdict } from '../policy/types.js';
import { runBatch, type CodedError } from './pool.js';
import { assertAllowed, judgeChart, type LoadedTrustPolicy } from './trust-policy.js';
import { readProvenanceFile } from './verify-charts.js';

export interface VerifyWithPolicyOptions {
  charts: string[];
  trust: LoadedTrustPolicy;
  /** The .prov of a single chart; default `<chart>.prov` (a missing one is "unsigned"). */
  provPath?: string;
  now?: Date;
  concurrency?: number;
  onResult?: (result: PolicyVerification, done: number, total: number) => void;
}

export type PolicyVerification =
  | { allowed: true; chart: string; provenance: string; name: string; version: string; sha256: string; verdict: TrustVerdict }
  | { allowed: false; chart: string; provenance: string; error: CodedError; verdict?: TrustVerdict };

export interface VerifyWithPolicyResult {
  allowed: number;
  refused: number;
  results: PolicyVerification[];
}

export async function verifyChartsWithPolicy(opts: VerifyWithPolicyOptions): Promise<VerifyWithPolicyResult> {
  const verdicts = new Map<string, TrustVerdict>();
  const results = await runBatch(
    opts.charts,
    opts.concurrency ?? 8,
    async (chart): Promise<PolicyVerification> => {
      const provPath = opts.provPath ?? `${chart}.prov`;
      const archive = await readChartArchive(chart);
      const { name, version } = archive.metadata;
      const text = await readProvenanceFile(provPath, basename(chart), '').catch((err: unknown) => {
        // No .prov is what the policy judges as unsigned, not an error of its own.
        if (err instanceof ProvenanceMissingError) return undefined;
        throw err;
      });
      const candidates = text === undefined ? [] : [{ source: 'file' as const, location: provPath, text }];
      const about = { fileName: basename(chart), sha256: archive.sha256, name, version };
      const { verdict } = await judgeChart(opts.trust.requirementFor(name), candidates, about, opts.now);
      verdicts.set(chart, verdict);
      assertAllowed(chart, verdict);
      return { allowed: true, chart, provenance: provPath, name, version, sha256: archive.sha256, verdict };
    },
    (chart, error): PolicyVerification => {
      const verdict = verdicts.get(chart);
      return { allowed: false, chart, provenance: opts.provPath ?? `${chart}.prov`, error, ...(verdict ? { verdict } : {}) };
    },
    opts.onResult,
  );
  const allowed = results.filter((r) => r.allowed).length;
  return { allowed, refused: results.length - allowed, results };
}
