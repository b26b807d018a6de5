import { verifyCharts } from '../../flows/verify-charts.js';
import type { ChartVerification } from '../../flows/verify-charts.js';
import { printFailure, printJson, println, progress, warn } from '../output.js';
import type { OutputFormat } from '../output.js';

interface VerifyFlags {
  keyring?: string[];
  prov?: string;
  output: OutputFormat;
}

export async function verifyCommand(charts: string[], flags: VerifyFlags): Promise<number> {
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
