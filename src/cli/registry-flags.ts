// The connection flags every registry command takes, turned into the flows' RegistryOptions.
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
