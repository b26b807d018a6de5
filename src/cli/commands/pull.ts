import { UsageError } from '../../errors.js';
import { pullCharts, type PullChartResult, type PullChartsResult, type PullResult } from '../../flows/pull-chart.js';
import { printFailure, printJson, println, progress, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { repositoryLogin } from '../repository-login.js';
import { trustFromFlags } from '../policy-flag.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';
import type { RepoPullChartsOptions } from '../../flows/classic-repo.js';

interface PullFlags extends RegistryFlags {
  version?: string;
  destination: string;
  verify?: boolean;
  keyring?: string[];
  untar?: boolean;
  untardir?: string;
  provFile?: string;
  provUrl?: string;
  repo?: string;
  username?: string;
  passwordStdin?: boolean;
  passCredentials?: boolean;
  requireSigners?: string;
  keyId?: string[];
  policy?: string;
  jobs: string;
  output: OutputFormat;
}

export async function pullCommand(refs: string[], flags: PullFlags): Promise<number> {
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive integer, not ${flags.jobs}`);
  const repoSource = flags.repo !== undefined || refs.some((r) => /^(https?|file):/i.test(r));
  const bar = flags.output === 'json' ? undefined : progress('pulling', refs.length);
  const common = {
    version: flags.version,
    destination: flags.destination,
    verify: flags.verify,
    keyrings: flags.keyring,
    untar: flags.untar,
    untarDir: flags.untardir,
    provFile: flags.provFile,
    provUrl: flags.provUrl,
    jobs,
    onResult: (_r: unknown, done: number) => bar?.tick(done),
  };
  let result: PullChartsResult;
  if (flags.policy !== undefined && !flags.verify) throw new UsageError('--policy applies to --verify', { hint: 'add --verify' });
  if (repoSource) {
    if (flags.requireSigners !== undefined || flags.keyId?.length || flags.policy !== undefined)
      throw new UsageError('--require-signers, --key-id and --policy apply to oci:// charts', {
        hint: 'verify chart repository pulls with --verify --keyring only',
      });
    result = await pullFromRepository(refs, flags, common);
  } else {
    if (flags.username !== undefined || flags.passwordStdin || flags.passCredentials) {
      throw new UsageError('--username, --password-stdin and --pass-credentials are for chart repositories (--repo, chart URLs)', {
        hint: 'for an OCI registry: chartprov registry login HOST -u USER --password-stdin, or CHARTPROV_USERNAME/CHARTPROV_PASSWORD',
      });
    }
    const trust = await trustFromFlags(flags);
    result = await pullCharts({ ...registryOptionsFromFlags(flags), refs, ...common, ...(trust ? { trust } : policyOf(flags)) });
  }
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

/** `--repo URL NAME…` or chart URLs: the classic chart repository source. */
async function pullFromRepository(
  refs: string[],
  flags: PullFlags,
  common: Omit<RepoPullChartsOptions, 'charts'>,
): Promise<PullChartsResult> {
  const oci = refs.find((r) => /^oci:\/\//i.test(r));
  if (oci) {
    throw new UsageError(`${oci} is in an OCI registry: pull it in its own command, without --repo`, {
      hint: 'chart repositories (--repo, chart URLs) and oci:// references cannot be mixed in one pull',
    });
  }
  if (flags.plainHttp) warn('--plain-http does not apply to chart repositories: the URL says http:// or https://');
  const { pullRepoCharts } = await import('../../flows/classic-repo.js');
  const { clientOptions, ...tls } = registryOptionsFromFlags(flags);
  return pullRepoCharts({
    ...common,
    caFile: tls.caFile,
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    insecureSkipTlsVerify: tls.insecureSkipTlsVerify,
    trace: clientOptions?.trace,
    ...(clientOptions?.timeoutMs !== undefined ? { timeoutMs: clientOptions.timeoutMs } : {}),
    charts: refs,
    repoUrl: flags.repo,
    passCredentials: flags.passCredentials,
    ...(await repositoryLogin(flags)),
  });
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
    println(`Provenance From: ${r.verified.source} ${r.verified.location}`);
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

/** `--require-signers N` / `--key-id ID`: a stricter verification than one valid signature (OCI pulls). */
function policyOf(flags: PullFlags): { policy?: { requireSigners: number; keyIds?: string[] } } {
  if (flags.requireSigners === undefined && !flags.keyId?.length) return {};
  if (!flags.verify) throw new UsageError('--require-signers and --key-id apply to --verify', { hint: 'add --verify --keyring FILE' });
  const need = Number(flags.requireSigners ?? '1');
  if (!Number.isInteger(need) || need < 1)
    throw new UsageError(`--require-signers must be a positive integer, not ${flags.requireSigners}`);
  return { policy: { requireSigners: need, ...(flags.keyId?.length ? { keyIds: flags.keyId } : {}) } };
}
