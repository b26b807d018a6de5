import { listChartVersions, showChart } from '../../flows/browse.js';
import { printJson, println } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

export async function showCommand(ref: string, flags: RegistryFlags & { version?: string; output: OutputFormat }): Promise<number> {
  const result = await showChart({ ...registryOptionsFromFlags(flags), ref, version: flags.version });
  if (flags.output === 'json') {
    const { chartYaml: _yaml, ...rest } = result;
    printJson(rest);
    return 0;
  }
  println(`# ${result.reference.replace(/^oci:\/\//, '')}`);
  println(`# digest: ${result.digest}`);
  println(`# provenance: ${result.provenance ? `yes (${result.provenance.digest})` : 'none'}`);
  process.stdout.write(result.chartYaml);
  return 0;
}

export async function versionsCommand(ref: string, flags: RegistryFlags & { output: OutputFormat }): Promise<number> {
  const result = await listChartVersions({ ...registryOptionsFromFlags(flags), ref });
  if (flags.output === 'json') printJson(result);
  else for (const v of result.versions) println(v);
  return 0;
}
