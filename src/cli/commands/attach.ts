import { UsageError } from '../../errors.js';
import { attachProvenance } from '../../flows/attach-provenance.js';
import { printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';
import { registryOptionsFromFlags, type RegistryFlags } from '../registry-flags.js';

interface AttachFlags extends RegistryFlags {
  version?: string;
  keyring?: string[];
  output: OutputFormat;
}

export async function attachCommand(reference: string, provPath: string | undefined, flags: AttachFlags): Promise<number> {
  if (!provPath) throw new UsageError('attach needs the .prov to attach', { hint: 'chartprov attach oci://HOST/PATH/NAME:VERSION CHART.tgz.prov' });
  const r = await attachProvenance({
    ...registryOptionsFromFlags(flags),
    reference,
    version: flags.version,
    provPath,
    keyrings: flags.keyring,
  });
  if (flags.output === 'json') {
    printJson(r);
    return 0;
  }
  for (const w of r.warnings) warn(w);
  const who = r.signer.userId ? `${r.signer.userId} (${r.signer.fingerprint})` : `key ${r.signer.keyId}`;
  println(`${r.created ? 'Attached' : 'Already attached'}: ${r.reference.replace(/^oci:\/\//, '')}@${r.chart.digest}`);
  println(`Provenance: ${r.referrer} (${r.mode === 'api' ? 'referrers API' : 'fallback tag'})`);
  println(`Signer: ${who}${r.signer.verified ? ', verified' : ', not verified'}`);
  return 0;
}
