import { UsageError } from '../../errors.js';
import { verifyCharts } from '../../flows/verify-charts.js';
import type { ChartVerification } from '../../flows/verify-charts.js';
import { printFailure, printJson, println, progress, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { trustFromFlags } from '../policy-flag.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

interface VerifyFlags extends RegistryFlags {
  keyring?: string[];
  prov?: string;
  provFile?: string;
  provUrl?: string;
  version?: string;
  requireSigners?: string;
  keyId?: string[];
  policy?: string;
  output: OutputFormat;
}

export async function verifyCommand(charts: string[], flags: VerifyFlags): Promise<number> {
  const remote = charts.filter((c) => c.startsWith('oci://'));
  if (remote.length > 0) {
    if (remote.length !== charts.length || charts.length > 1)
      throw new UsageError('verify one oci:// chart at a time, without local archives', { hint: 'run chartprov verify once per reference' });
    return verifyRemote(remote[0]!, flags);
  }
  if (flags.policy !== undefined) return verifyLocalWithPolicy(charts, flags);
  const bar = flags.output === 'json' ? undefined : progress('verifying', charts.length);
  const result = await verifyCharts({
    charts,
    keyrings: flags.keyring,
    provPath: flags.prov,
    onResult: (_r, done) => bar?.tick(done),
  });
  bar?.end();
  for (const w of result.warnings) warn(w);
  if (flags.output === 'json') {
    printJson(result);
  } else if (charts.length === 1) {
    printSingle(result.results[0]!);
  } else {
    for (const r of result.results) printLine(r);
    println(`${result.verified} verified, ${result.failed} failed`);
  }
  return result.failed === 0 ? 0 : 1;
}

function printSingle(r: ChartVerification): void {
  if (r.ok) {
    println(`Signed by: ${r.signer.userId}`);
    println(`Using Key With Fingerprint: ${r.signer.fingerprint}`);
    println(`Signed at: ${r.signer.signedAt} (${r.signer.hashAlgorithm}, ${r.signer.algorithm})`);
    println(`Chart Hash Verified: sha256:${r.sha256}`);
  } else {
    printFailure(r.error);
  }
}

function printLine(r: ChartVerification): void {
  if (r.ok) println(`ok    ${r.chart}  ${r.name}-${r.version}  signed by ${r.signer.userId} (${r.signer.fingerprint})`);
  else println(`FAIL  ${r.chart}  error[${r.error.code}]: ${r.error.message}`);
}

/** `verify CHART.tgz… --policy FILE`: each archive judged by the policy's rule for its chart name. */
async function verifyLocalWithPolicy(charts: string[], flags: VerifyFlags): Promise<number> {
  const trust = (await trustFromFlags(flags, { signersDefault: '1' }))!;
  const { verifyChartsWithPolicy } = await import('../../flows/verify-policy.js');
  const bar = flags.output === 'json' ? undefined : progress('verifying', charts.length);
  const result = await verifyChartsWithPolicy({ charts, trust, provPath: flags.prov, onResult: (_r, done) => bar?.tick(done) });
  bar?.end();
  if (flags.output === 'json') {
    printJson(result);
  } else {
    for (const r of result.results) {
      if (r.allowed) println(`ok    ${r.chart}  ${r.name}-${r.version}  ${r.verdict.rule}: ${r.verdict.reason}`);
      else println(`FAIL  ${r.chart}  error[${r.error.code}]: ${r.error.message}`);
    }
    if (charts.length > 1) println(`${result.allowed} allowed, ${result.refused} refused`);
  }
  return result.refused === 0 ? 0 : 1;
}

async function verifyRemote(reference: string, flags: VerifyFlags): Promise<number> {
  const trust = await trustFromFlags(flags, { signersDefault: '1' });
  const need = Number(flags.requireSigners ?? '1');
  if (!Number.isInteger(need) || need < 1) throw new UsageError(`--require-signers must be a positive integer, not ${flags.requireSigners}`);
  // Loaded only here: verifying a local archive never pays for the registry client.
  const { verifyRemoteChart } = await import('../../flows/verify-remote.js');
  const extra = await givenSignatures(flags);
  const r = await verifyRemoteChart({
    ...registryOptionsFromFlags(flags),
    reference,
    version: flags.version,
    keyrings: flags.keyring,
    ...(trust ? { trust } : { policy: { requireSigners: need, ...(flags.keyId?.length ? { keyIds: flags.keyId } : {}) } }),
    extraSignatures: extra,
  });
  if (flags.output === 'json') {
    printJson(r);
    return 0;
  }
  println(`Chart: ${r.reference.replace(/^oci:\/\//, '')}@${r.digest} (${r.name} ${r.version})`);
  for (const a of r.accepted) {
    println(`Signed by: ${a.signer.userId}`);
    println(`Using Key With Fingerprint: ${a.signer.fingerprint}`);
    println(`Signed at: ${a.signer.signedAt} (${a.source}${a.source === 'layer' || a.source === 'file' ? '' : ` ${a.location}`})`);
  }
  println(`Chart Hash Verified: sha256:${r.sha256}`);
  if (r.verdict) println(`Policy: ${r.verdict.rule}: ${r.verdict.reason}`);
  for (const c of r.checks) if (!c.ok) warn(`a signature (${c.source} ${c.location}) does not verify: error[${c.error.code}] ${c.error.message}`);
  return 0;
}

/** `--prov` / `--prov-file` / `--prov-url`: a signature kept outside the registry, checked with the registry's. */
async function givenSignatures(flags: VerifyFlags) {
  const { givenProvCandidate } = await import('../../flows/prov-source.js');
  const { clientOptions, ...tls } = registryOptionsFromFlags(flags);
  const candidate = givenProvCandidate({
    ...tls,
    trace: clientOptions?.trace,
    ...(clientOptions?.timeoutMs !== undefined ? { timeoutMs: clientOptions.timeoutMs } : {}),
    provFile: flags.provFile ?? flags.prov,
    provUrl: flags.provUrl,
  });
  const bytes = await candidate?.load();
  if (!candidate || !bytes) return [];
  return [{ source: candidate.source === 'prov-url' ? ('url' as const) : ('file' as const), location: candidate.location, text: bytes.toString('utf8') }];
}
