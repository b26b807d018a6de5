/**
 * The registry connection options every registry command shares (`--plain-http`,
 * `--ca-file`, `--registry-config`, …) and the one place that turns them into
 * a RegistryClient with the user's credentials.
 */
import { CredentialStore } from '../oci/credentials/index.js';
import { RegistryClient, type RegistryClientOptions } from '../oci/client.js';
import type { TlsOptions } from '../oci/transport.js';

declare const __CHARTPROV_VERSION__: string;
const VERSION = typeof __CHARTPROV_VERSION__ === 'string' ? __CHARTPROV_VERSION__ : 'dev';

export interface RegistryOptions extends TlsOptions {
  /** HTTP instead of HTTPS. */
  plainHttp?: boolean;
  /** Helm's registry config file (default $HELM_REGISTRY_CONFIG or ~/.config/helm/registry/config.json). */
  registryConfig?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * The registries this operation addresses: CHARTPROV_USERNAME/PASSWORD are
   * used for these only (unless CHARTPROV_REGISTRY names others). The flows
   * fill it from their references.
   */
  registries?: readonly string[];
  /** An existing client to reuse (its own options win). */
  client?: RegistryClient;
  /** Passed to the client: retries, timeouts, connections. */
  clientOptions?: Pick<RegistryClientOptions, 'retries' | 'timeoutMs' | 'maxRetryAfterMs' | 'connections' | 'credential' | 'trace'>;
}

export function credentialStoreFor(opts: Pick<RegistryOptions, 'registryConfig' | 'env' | 'registries'>): CredentialStore {
  return new CredentialStore({ env: opts.env, helmConfigPath: opts.registryConfig, envRegistries: opts.registries });
}

/**
 * Runs `fn` with a client made from the options (or the one given), closing
 * what it opened afterwards.
 */
export async function withRegistryClient<T>(opts: RegistryOptions, fn: (client: RegistryClient) => Promise<T>): Promise<T> {
  if (opts.client) return fn(opts.client);
  const client = await RegistryClient.create({
    plainHttp: opts.plainHttp,
    caFile: opts.caFile,
    certFile: opts.certFile,
    keyFile: opts.keyFile,
    insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
    credentials: credentialStoreFor(opts),
    userAgent: `chartprov/${VERSION}`,
    env: opts.env,
    ...opts.clientOptions,
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
