/**
 * `chartprov registry login/logout`: the same file and helpers as `helm
 * registry login`, and the credentials are checked against the registry
 * before anything is saved (a typo never ends up stored).
 */
import { UsageError } from '../errors.js';
import { parseRegistryHost } from '../oci/reference.js';
import { credentialStoreFor, withRegistryClient, type RegistryOptions } from './registry-client.js';

export interface RegistryLoginOptions extends RegistryOptions {
  /** `host[:port]` (an `oci://` or `https://` prefix is tolerated). */
  host: string;
  username: string;
  password: string;
}

export interface RegistryLoginResult {
  registry: string;
  username: string;
  /** Where the credential was saved: a config file path or a docker-credential helper; never the secret. */
  savedTo: string;
}

export async function registryLogin(opts: RegistryLoginOptions): Promise<RegistryLoginResult> {
  const registry = parseRegistryHost(opts.host);
  if (!opts.username) throw new UsageError('a user name is required', { hint: 'pass -u USER' });
  if (!opts.password) throw new UsageError('a password is required', { hint: 'pass --password-stdin and the password on stdin' });
  const credential = { username: opts.username, password: opts.password };
  // The explicit credential bypasses whatever is stored (and CHARTPROV_USERNAME/PASSWORD) for the check.
  await withRegistryClient({ ...opts, clientOptions: { ...opts.clientOptions, credential } }, (client) => client.ping(registry));
  const saved = await credentialStoreFor(opts).save(registry, credential);
  return { registry, username: opts.username, savedTo: saved.source };
}

export interface RegistryLogoutResult {
  registry: string;
  /** False when no credential was stored for the registry. */
  removed: boolean;
}

export async function registryLogout(
  opts: Pick<RegistryOptions, 'registryConfig' | 'env'> & { host: string },
): Promise<RegistryLogoutResult> {
  const registry = parseRegistryHost(opts.host);
  const removed = await credentialStoreFor(opts).erase(registry);
  return { registry, removed };
}
