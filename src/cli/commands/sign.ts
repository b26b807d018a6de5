import { ChartprovError } from '../../errors.js';
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
  // Each chart is signed or reported on its own; one bad archive does not hide the others.
  const results: Array<{ ok: true; result: SignChartResult } | { ok: false; chart: string; error: ChartprovError }> = [];
  for (const chartPath of charts) {
    try {
      const r = await signChart({ chartPath, signer });
      results.push({ ok: true, result: r });
      if (flags.output !== 'json') println(`Signed ${r.chartPath} → ${r.provPath} (by ${r.signer.userId}, ${r.signer.fingerprint})`);
    } catch (err) {
      if (!(err instanceof ChartprovError) || (charts.length === 1 && flags.output !== 'json')) throw err;
      results.push({ ok: false, chart: chartPath, error: err });
      if (flags.output !== 'json') process.stderr.write(`error[${err.code}]: ${chartPath}: ${err.message}\n`);
    }
  }
  if (flags.output === 'json') {
    printJson({
      signed: results.flatMap((r) =>
        r.ok
          ? [
              {
                chart: r.result.chartPath,
                provenance: r.result.provPath,
                name: r.result.name,
                version: r.result.version,
                sha256: r.result.sha256,
                signer: r.result.signer,
              },
            ]
          : [],
      ),
      failed: results.flatMap((r) => (r.ok ? [] : [{ chart: r.chart, error: r.error.toJSON() }])),
    });
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
