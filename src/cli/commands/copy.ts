import { UsageError } from '../../errors.js';
import { copyCharts, type CopyChartsResult, type CopySideOptions, type CopyVersionResult } from '../../flows/copy-charts.js';
import { printFailure, printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

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
  const bar = flags.output === 'json' ? undefined : progressBar();
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
      sourceOptions: side(flags.fromPlainHttp, flags.fromCaFile, flags.fromCertFile, flags.fromKeyFile, flags.fromInsecureSkipTlsVerify),
      destinationOptions: side(flags.toPlainHttp, flags.toCaFile, flags.toCertFile, flags.toKeyFile, flags.toInsecureSkipTlsVerify),
      onProgress: (e) => {
        if (e.type === 'start') bar?.start(e.total);
        else if (e.type === 'bytes') bar?.bytes(e.bytes);
        else bar?.done(e.done);
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

function side(
  plainHttp: boolean | undefined,
  caFile: string | undefined,
  certFile: string | undefined,
  keyFile: string | undefined,
  insecureSkipTlsVerify: boolean | undefined,
): CopySideOptions {
  const o: CopySideOptions = {};
  if (plainHttp) o.plainHttp = true;
  if (caFile) o.caFile = caFile;
  if (certFile) o.certFile = certFile;
  if (keyFile) o.keyFile = keyFile;
  if (insecureSkipTlsVerify) o.insecureSkipTlsVerify = true;
  return o;
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

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** `copying [#####-----] 12/100  3.4 MiB` on stderr when it is a terminal; silent otherwise. */
function progressBar(): { start(total: number): void; bytes(n: number): void; done(n: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let total = 0;
  let done = 0;
  let sent = 0;
  let last = 0;
  let shown = false;
  const draw = (force = false) => {
    if (!tty || total === 0) return;
    const now = Date.now();
    if (!force && now - last < 80) return;
    last = now;
    const width = 24;
    const fill = Math.round((done / total) * width);
    process.stderr.write(`\rcopying [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total}  ${formatBytes(sent)}\x1b[K`);
    shown = true;
  };
  return {
    start(t) {
      total = t;
      draw(true);
    },
    bytes(n) {
      sent = n;
      draw();
    },
    done(n) {
      done = n;
      draw(n === total);
    },
    end() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
