import { pullChart } from '../../flows/pull-chart.js';
import { printJson, println } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

interface PullFlags extends RegistryFlags {
  version?: string;
  destination: string;
  verify?: boolean;
  keyring?: string[];
  untar?: boolean;
  untardir?: string;
  output: OutputFormat;
}

export async function pullCommand(ref: string, flags: PullFlags): Promise<number> {
  const result = await pullChart({
    ...registryOptionsFromFlags(flags),
    ref,
    version: flags.version,
    destination: flags.destination,
    verify: flags.verify,
    keyrings: flags.keyring,
    untar: flags.untar,
    untarDir: flags.untardir,
  });
  if (flags.output === 'json') {
    printJson(result);
    return 0;
  }
  println(`Pulled: ${result.reference.replace(/^oci:\/\//, '')}`);
  println(`Digest: ${result.digest}`);
  if (result.verified) {
    const s = result.verified.signer;
    println(`Signed by: ${s.userId}`);
    println(`Using Key With Fingerprint: ${s.fingerprint}`);
    println(`Chart Hash Verified: sha256:${result.verified.sha256}`);
  }
  if (result.untarredTo) println(`Unpacked to: ${result.untarredTo}`);
  else println(`Saved: ${result.chartPath}${result.provPath ? ` (+ ${result.provPath})` : ' (no provenance)'}`);
  return 0;
}
