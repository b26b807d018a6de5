import { signChart } from '../../flows/sign-chart.js';
import type { SignChartResult } from '../../flows/sign-chart.js';
import { createSigner } from '../../flows/signer.js';
import { printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { signerOptionsFromFlags } from './signing.js';
import type { SigningFlags } from './signing.js';

export async function signCommand(charts: string[], flags: SigningFlags & { output: OutputFormat }): Promise<number> {
  // One signer for all charts: the key is unlocked (and the passphrase asked) once.
  const signer = await createSigner(await signerOptionsFromFlags(flags));
  for (const w of signer.warnings) warn(w);
  const results: SignChartResult[] = [];
  for (const chartPath of charts) {
    const r = await signChart({ chartPath, signer });
    results.push(r);
    if (flags.output !== 'json') println(`Signed ${r.chartPath} → ${r.provPath} (by ${r.signer.userId}, ${r.signer.fingerprint})`);
  }
  if (flags.output === 'json') {
    printJson({
      signed: results.map((r) => ({
        chart: r.chartPath,
        provenance: r.provPath,
        name: r.name,
        version: r.version,
        sha256: r.sha256,
        signer: r.signer,
      })),
    });
  }
  return 0;
}
