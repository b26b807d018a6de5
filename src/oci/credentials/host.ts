import { ReferenceInvalidError } from '../../errors.js';

/** The key Docker (and Helm after it) files Docker Hub credentials under. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

// Docker's own list (registry.IndexHostname, IndexName, DefaultV2Registry):
// any of them means Docker Hub; nothing else does, not even with a port.
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The key a registry's credentials are filed under: lowercase `host[:port]`
 * without scheme or path, or Docker's historical key for Docker Hub.
 */
export function normalizeRegistryHost(host: string): string {
  const key = registryKeyOf(host);
  if (key === undefined) {
    throw new ReferenceInvalidError(`not a registry host: ${JSON.stringify(host)}`, {
      hint: 'name the registry as HOST[:PORT], e.g. localhost:5000 or ghcr.io',
    });
  }
  return key;
}

/** normalizeRegistryHost, or undefined where it would throw (for keys read from files). */
export function registryKeyOf(host: string): string | undefined {
  const hostname = host
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  if (hostname === '' || /[\s@?#\\]/.test(hostname)) return undefined;
  return DOCKER_HUB_HOSTS.has(hostname) ? DOCKER_HUB_KEY : hostname;
}

/**
 * The keys of a config-file map that stand for `key` (a normalized host):
 * the exact key first, then, in file order, keys that differ only by scheme,
 * path or case (`https://host/v1/`, `HOST`), as Docker and oras-go accept.
 */
export function matchingKeys(keys: Iterable<string>, key: string): string[] {
  const all = [...keys];
  const loose = all.filter((k) => k !== key && registryKeyOf(k) === key);
  return all.includes(key) ? [key, ...loose] : loose;
}
