import { UsageError } from '../../errors.js';
import { pullCharts, type PullChartResult, type PullResult } from '../../flows/pull-chart.js';
import { printFailure, printJson, println, progress, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

interface PullFlags extends RegistryFlags {
  version?: string;
  destination: string;
  verify?: boolean;
  keyring?: string[];
  untar?: boolean;
  untardir?: string;
  jobs: string;
  output: OutputFormat;
}

export async function pullCommand(refs: string[], flags: PullFlags): Promise<number> {
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${flags.jobs}`);
  const bar = flags.output === 'json' ? undefined : progress('pulling', refs.length);
  const result = await pullCharts({
    ...registryOptionsFromFlags(flags),
    refs,
    version: flags.version,
    destination: flags.destination,
    verify: flags.verify,
    keyrings: flags.keyring,
    untar: flags.untar,
    untarDir: flags.untardir,
    jobs,
    onResult: (_r, done) => bar?.tick(done),
  });
  bar?.end();
  if (flags.output !== 'json') for (const r of result.results) if (r.ok) for (const w of r.warnings) warn(w);
  const only = refs.length === 1 ? result.results[0]! : undefined;
  // One chart: its result, or `{ error }` as every command prints a failure; several: the batch.
  if (flags.output === 'json') printJson(only ? (only.ok ? only : { error: only.error }) : result);
  else if (refs.length === 1) printSingle(result.results[0]!);
  else {
    for (const r of result.results) printLine(r);
    println(`${result.pulled} pulled, ${result.failed} failed`);
  }
  return result.failed === 0 ? 0 : 1;
}

function printSingle(r: PullResult): void {
  if (!r.ok) {
    printFailure(r.error);
    return;
  }
  println(`Pulled: ${r.reference.replace(/^oci:\/\//, '')}`);
  println(`Digest: ${r.digest}`);
  if (r.verified) {
    const s = r.verified.signer;
    println(`Signed by: ${s.userId}`);
    println(`Using Key With Fingerprint: ${s.fingerprint}`);
    println(`Chart Hash Verified: sha256:${r.verified.sha256}`);
  }
  println(saved(r));
}

function saved(r: PullChartResult): string {
  if (r.untarredTo) return `Unpacked to: ${r.untarredTo}`;
  return `Saved: ${r.chartPath}${r.provPath ? ` (+ .prov)` : ' (no provenance)'}`;
}

function printLine(r: PullResult): void {
  if (r.ok) println(`ok    ${r.reference}  ${r.verified ? `verified, signed by ${r.verified.signer.userId}  ` : ''}${saved(r)}`);
  else println(`FAIL  ${r.ref}  error[${r.error.code}]: ${r.error.message}`);
}
