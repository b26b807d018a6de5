import { ChartprovError, UsageError } from '../../errors.js';
import { signChart } from '../../flows/sign-chart.js';
import type { SignChartResult } from '../../flows/sign-chart.js';
import { createSigner, type Signer } from '../../flows/signer.js';
import type { SignInRegistryResult } from '../../flows/sign-in-registry.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';
import { printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { signerOptionsFromFlags } from './signing.js';
import type { SigningFlags } from './signing.js';

type SignFlags = SigningFlags & RegistryFlags & { output: OutputFormat; version?: string };

export async function signCommand(charts: string[], flags: SignFlags): Promise<number> {
  const remote = charts.filter((c) => c.startsWith('oci://'));
  if (remote.length > 0 && remote.length !== charts.length)
    throw new UsageError('sign either chart archives or oci:// references, not both at once', { hint: 'run chartprov sign twice' });
  // One signer for all charts: the key is unlocked (and the passphrase asked) once.
  const signer = await createSigner(await signerOptionsFromFlags(flags));
  for (const w of signer.warnings) warn(w);
  if (remote.length > 0) return signRemote(remote, signer, flags);
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

async function signRemote(refs: string[], signer: Signer, flags: SignFlags): Promise<number> {
  // Loaded only here: signing a local archive never pays for the registry client.
  const { signChartInRegistry } = await import('../../flows/sign-in-registry.js');
  const done: SignInRegistryResult[] = [];
  const failed: Array<{ chart: string; error: ChartprovError }> = [];
  for (const reference of refs) {
    try {
      const r = await signChartInRegistry({ ...registryOptionsFromFlags(flags), reference, version: flags.version, signer });
      done.push(r);
      if (flags.output !== 'json') {
        println(`Signed ${r.reference.replace(/^oci:\/\//, '')}@${r.chart.digest} (by ${r.signedBy.userId}, ${r.signedBy.fingerprint})`);
        println(`Provenance: ${r.referrer} (${r.mode === 'api' ? 'referrers API' : 'fallback tag'}${r.created ? '' : ', already attached'})`);
      }
    } catch (err) {
      if (!(err instanceof ChartprovError) || (refs.length === 1 && flags.output !== 'json')) throw err;
      failed.push({ chart: reference, error: err });
      if (flags.output !== 'json') process.stderr.write(`error[${err.code}]: ${reference}: ${err.message}\n`);
    }
  }
  if (flags.output === 'json') {
    printJson({
      signed: done.map(({ provenance: _p, ...r }) => r),
      failed: failed.map((f) => ({ chart: f.chart, error: f.error.toJSON() })),
    });
  }
  return failed.length === 0 ? 0 : 1;
}
