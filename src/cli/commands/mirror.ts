import { UsageError } from '../../errors.js';
import { mirrorCharts, type MirrorResult, type MirrorVersionResult } from '../../flows/mirror.js';
import { printJson, println, progressBar, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { promptHidden } from '../passphrase.js';
import { repositoryLogin } from '../repository-login.js';
import { registryOptionsFromFlags, sideOptions, type RegistryFlags } from '../registry-flags.js';

interface MirrorFlags extends RegistryFlags {
  keyring?: string[];
  policy?: string;
  attach?: boolean;
  dryRun?: boolean;
  jobs: string;
  username?: string;
  passwordStdin?: boolean;
  passCredentials?: boolean;
  output: OutputFormat;
  fromPlainHttp?: boolean;
  fromCaFile?: string;
  fromInsecureSkipTlsVerify?: boolean;
  toPlainHttp?: boolean;
  toCaFile?: string;
  toInsecureSkipTlsVerify?: boolean;
}

export async function mirrorCommand(source: string, destination: string, flags: MirrorFlags): Promise<number> {
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${flags.jobs}`);
  const bar = flags.output === 'json' ? undefined : progressBar(flags.dryRun ? 'checking' : 'mirroring');
  let notMirrored = 0;
  const started = Date.now();
  let result: MirrorResult;
  try {
    result = await mirrorCharts({
      ...registryOptionsFromFlags(flags),
      source,
      destination,
      keyrings: flags.keyring,
      policy: flags.policy,
      attach: flags.attach,
      dryRun: flags.dryRun,
      jobs,
      passCredentials: flags.passCredentials,
      ...(await sourceLogin(flags)),
      sourceOptions: sideOptions({
        plainHttp: flags.fromPlainHttp,
        caFile: flags.fromCaFile,
        insecureSkipTlsVerify: flags.fromInsecureSkipTlsVerify,
      }),
      destinationOptions: sideOptions({
        plainHttp: flags.toPlainHttp,
        caFile: flags.toCaFile,
        insecureSkipTlsVerify: flags.toInsecureSkipTlsVerify,
      }),
      onProgress: (e) => {
        if (e.type === 'start') return bar?.start(e.total);
        if (e.result.status === 'invalid' || e.result.status === 'refused' || e.result.status === 'failed') notMirrored++;
        bar?.update(e.done, notMirrored ? `${notMirrored} not mirrored` : undefined);
      },
    });
  } finally {
    bar?.end();
  }
  const bad = result.totals.invalid + result.totals.refused + result.totals.failed;
  if (flags.output === 'json') {
    printJson(result);
    return bad === 0 ? 0 : 1;
  }
  for (const w of result.warnings) warn(w);
  printTable(result);
  const t = result.totals;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  println(
    `${result.dryRun ? 'dry run, nothing written: ' : ''}${t.total} version(s) from ${result.source} to ${result.destination}: ` +
      `${t.copied} copied, ${t.skipped} already there, ${t.unsigned} unsigned, ${t.invalid} invalid, ${t.refused} refused, ${t.failed} failed; ${seconds} s`,
  );
  return bad === 0 ? 0 : 1;
}

/**
 * The source repository's login: --username with --password-stdin, or a
 * prompt on a terminal. Not CHARTPROV_PASSWORD, as pull --repo would: in a
 * mirror that is the destination registry's password.
 */
async function sourceLogin(flags: MirrorFlags): Promise<{ username?: string; password?: string }> {
  if (flags.username === undefined || flags.passwordStdin) return repositoryLogin(flags);
  if (!process.stdin.isTTY)
    throw new UsageError(`a password is required for --username ${flags.username}`, {
      hint: "pipe it in with --password-stdin (CHARTPROV_PASSWORD is the destination registry's, never sent to the source)",
    });
  return { username: flags.username, password: await promptHidden('Password: ') };
}

/** One row per version: status, name, version, then the signer, or why not. */
function printTable(result: MirrorResult): void {
  const rows = result.results.map((r) => [label(r, result.dryRun), r.name, r.version, detail(r)] as const);
  const width = (i: number) => Math.max(...rows.map((r) => r[i].length), ['STATUS', 'NAME', 'VERSION'][i]!.length);
  const w = [width(0), width(1), width(2)];
  const line = (cells: readonly string[]) =>
    println(
      cells
        .map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c))
        .join('  ')
        .trimEnd(),
    );
  if (rows.length) line(['STATUS', 'NAME', 'VERSION', 'DETAIL']);
  for (const row of rows) line(row);
  for (const r of result.results) for (const x of r.warnings ?? []) warn(`${r.name} ${r.version}: ${x}`);
}

function label(r: MirrorVersionResult, dryRun: boolean): string {
  if (!dryRun) return r.status;
  return r.status === 'copied' ? 'would copy' : r.status === 'unsigned' ? 'would copy unsigned' : r.status;
}

function detail(r: MirrorVersionResult): string {
  if (r.code) return `error[${r.code}] ${r.reason ?? ''}`.trim();
  // A version listed twice in the source, the same archive: why it is skipped.
  if (r.status === 'skipped' && r.reason && r.provenance === undefined) return r.reason;
  const where = r.provenance === 'referrer' ? ' (prov attached)' : r.provenance === 'layer' ? ' (prov layer)' : '';
  if (r.signer) return r.signer.checked ? `signed by ${r.signer.userId}${where}` : `signer unchecked: key ${r.signer.keyId}${where}`;
  return r.status === 'unsigned' || r.provenance === 'none' ? 'no .prov' : '';
}

/** `mirroring [#####-----] 12/30  3 invalid` on stderr when it is a terminal; silent otherwise. */
