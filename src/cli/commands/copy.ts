import { UsageError } from '../../errors.js';
import { copyCharts, type CopyChartsResult, type CopyVersionResult } from '../../flows/copy-charts.js';
import { formatBytes, printFailure, printJson, println, progressBar, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, sideOptions, type RegistryFlags } from '../registry-flags.js';

interface CopyFlags extends RegistryFlags {
  version?: string;
  allVersions?: boolean;
  jobs: string;
  force?: boolean;
  output: OutputFormat;
  fromPlainHttp?: boolean;
  fromCaFile?: string;
  fromCertFile?: string;
  fromKeyFile?: string;
  fromInsecureSkipTlsVerify?: boolean;
  toPlainHttp?: boolean;
  toCaFile?: string;
  toCertFile?: string;
  toKeyFile?: string;
  toInsecureSkipTlsVerify?: boolean;
}

export async function copyCommand(source: string, destination: string, flags: CopyFlags): Promise<number> {
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${flags.jobs}`);
  const bar = flags.output === 'json' ? undefined : progressBar('copying');
  let done = 0;
  let sent = 0;
  const started = Date.now();
  let result: CopyChartsResult;
  try {
    result = await copyCharts({
      ...registryOptionsFromFlags(flags),
      source,
      destination,
      version: flags.version,
      allVersions: flags.allVersions,
      jobs,
      force: flags.force,
      sourceOptions: sideOptions({
        plainHttp: flags.fromPlainHttp,
        caFile: flags.fromCaFile,
        certFile: flags.fromCertFile,
        keyFile: flags.fromKeyFile,
        insecureSkipTlsVerify: flags.fromInsecureSkipTlsVerify,
      }),
      destinationOptions: sideOptions({
        plainHttp: flags.toPlainHttp,
        caFile: flags.toCaFile,
        certFile: flags.toCertFile,
        keyFile: flags.toKeyFile,
        insecureSkipTlsVerify: flags.toInsecureSkipTlsVerify,
      }),
      onProgress: (e) => {
        if (e.type === 'start') return bar?.start(e.total);
        if (e.type === 'bytes') sent = e.bytes;
        else done = e.done;
        bar?.update(done, formatBytes(sent));
      },
    });
  } finally {
    bar?.end();
  }
  if (flags.output === 'json') {
    printJson(result);
    return result.failed === 0 ? 0 : 1;
  }
  for (const r of result.results) printLine(r);
  const s = result.stats;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  println(
    `${result.copied} copied, ${result.skipped} already there, ${result.failed} failed; ${result.referrersCopied} referrer(s) copied ` +
      `(${result.referrers.source === 'api' ? 'referrers API' : 'fallback tag'} → ${result.referrers.destination === 'api' ? 'referrers API' : 'fallback tag'}); ` +
      `${s.blobsUploaded} blob(s) sent (${formatBytes(s.bytesUploaded)}), ${s.blobsMounted} mounted, ${s.blobsPresent} present; ${seconds} s`,
  );
  return result.failed === 0 ? 0 : 1;
}

function printLine(r: CopyVersionResult): void {
  const name = r.tag ?? (r.ok ? r.digest : r.source);
  if (!r.ok) {
    println(`FAIL     ${name}`);
    printFailure(r.error);
    return;
  }
  const refs = r.referrers.length === 0 ? 'no referrers' : `${r.referrersCopied}/${r.referrers.length} referrer(s) copied`;
  println(`${r.status === 'copied' ? 'copied ' : 'skipped'}  ${name}  ${r.digest}  ${refs}`);
  for (const w of r.warnings) warn(`${name}: ${w}`);
}
