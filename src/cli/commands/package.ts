import { packageChartFlow } from '../../flows/package-chart.js';
import type { PackageResult } from '../../flows/package-chart.js';
import { printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { signerOptionsFromFlags } from './signing.js';
import type { SigningFlags } from './signing.js';

interface PackageFlags extends SigningFlags {
  destination: string;
  version?: string;
  appVersion?: string;
  sign?: boolean;
  output: OutputFormat;
}

export async function packageCommand(dir: string, flags: PackageFlags): Promise<number> {
  const result = await packageChartFlow({
    chartDir: dir,
    destination: flags.destination,
    version: flags.version,
    appVersion: flags.appVersion,
    sign: flags.sign ? await signerOptionsFromFlags(flags) : false,
  });
  for (const w of [...result.warnings, ...(result.provenance?.warnings ?? [])]) warn(w);
  if (flags.output === 'json') printJson(packageJson(result));
  else {
    println(`Successfully packaged chart and saved it to: ${result.path}`);
    if (result.provenance) {
      const s = result.provenance.signer;
      println(`Signed by: ${s.userId} (${s.fingerprint}) → ${result.provenance.provPath}`);
    }
  }
  return 0;
}

function packageJson(r: PackageResult) {
  return {
    path: r.path,
    name: r.metadata.name,
    version: r.metadata.version,
    sha256: r.sha256,
    size: r.size,
    ...(r.provenance ? { provenance: r.provenance.provPath, signer: r.provenance.signer } : {}),
  };
}
