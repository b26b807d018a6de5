import { UsageError } from '../../errors.js';
import { pushCharts, type PushResult } from '../../flows/push-charts.js';
import { printFailure, printJson, println, progress } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';
import { signerOptionsFromFlags, type SigningFlags } from './signing.js';

interface PushFlags extends RegistryFlags, SigningFlags {
  prov?: string;
  sign?: boolean;
  requireProv?: boolean;
  mountFrom?: string[];
  jobs: string;
  output: OutputFormat;
}

export async function pushCommand(args: string[], flags: PushFlags): Promise<number> {
  if (args.length < 2)
    throw new UsageError('push needs chart archives and a destination', { hint: 'chartprov push CHART.tgz… oci://HOST/PATH' });
  const destination = args.at(-1)!;
  const charts = args.slice(0, -1);
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${flags.jobs}`);
  const bar = flags.output === 'json' ? undefined : progress('pushing', charts.length);
  const result = await pushCharts({
    ...registryOptionsFromFlags(flags),
    charts,
    destination,
    provPath: flags.prov,
    requireProvenance: flags.requireProv,
    sign: flags.sign ? await signerOptionsFromFlags(flags) : false,
    keyrings: flags.sign ? undefined : flags.keyring,
    mountFrom: flags.mountFrom,
    jobs,
    onResult: (_r, done) => bar?.tick(done),
  });
  bar?.end();
  if (flags.output === 'json') printJson(result);
  else if (charts.length === 1) printSingle(result.results[0]!);
  else {
    for (const r of result.results) printLine(r);
    println(`${result.pushed} pushed, ${result.failed} failed`);
  }
  return result.failed === 0 ? 0 : 1;
}

function provText(r: Extract<PushResult, { ok: true }>): string {
  if (r.provenance === 'none') return 'no provenance';
  const by = r.signer ? ` (signed by ${r.signer.userId}, ${r.signer.fingerprint})` : '';
  return `${r.provenance === 'signed' ? 'signed now' : 'with provenance'}${by}`;
}

function printSingle(r: PushResult): void {
  if (!r.ok) {
    printFailure(r.error);
    return;
  }
  println(`Pushed: ${r.ref.replace(/^oci:\/\//, '')}`);
  println(`Digest: ${r.digest}`);
  println(`Provenance: ${provText(r)}`);
}

function printLine(r: PushResult): void {
  if (r.ok) println(`ok    ${r.chart}  ${r.ref}@${r.digest}  ${provText(r)}`);
  else println(`FAIL  ${r.chart}  error[${r.error.code}]: ${r.error.message}`);
}
