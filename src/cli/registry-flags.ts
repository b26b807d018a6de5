// The connection flags every registry command takes, turned into the flows' RegistryOptions.
import type { CopySideOptions } from '../flows/copy-charts.js';
import type { RegistryOptions } from '../flows/registry-client.js';

export interface RegistryFlags {
  plainHttp?: boolean;
  insecureSkipTlsVerify?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  registryConfig?: string;
  debug?: boolean;
}

export function registryOptionsFromFlags(flags: RegistryFlags): RegistryOptions {
  return {
    plainHttp: flags.plainHttp,
    insecureSkipTlsVerify: flags.insecureSkipTlsVerify,
    caFile: flags.caFile,
    certFile: flags.certFile,
    keyFile: flags.keyFile,
    registryConfig: flags.registryConfig,
    // --debug shows each HTTP exchange (never headers, so never a credential).
    clientOptions:
      flags.debug || process.env.CHARTPROV_DEBUG === '1' ? { trace: (line) => process.stderr.write(`debug: ${line}\n`) } : undefined,
  };
}

/** One side's `--from-*` / `--to-*` connection flags (copy, mirror): only those given. */
export function sideOptions(flags: {
  plainHttp?: boolean | undefined;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
}): CopySideOptions {
  const o: CopySideOptions = {};
  if (flags.plainHttp) o.plainHttp = true;
  if (flags.caFile) o.caFile = flags.caFile;
  if (flags.certFile) o.certFile = flags.certFile;
  if (flags.keyFile) o.keyFile = flags.keyFile;
  if (flags.insecureSkipTlsVerify) o.insecureSkipTlsVerify = true;
  return o;
}
