export { CredentialStore, ENV_SOURCE, type CredentialStoreOptions } from './store.js';
export { normalizeRegistryHost, DOCKER_HUB_KEY } from './host.js';
export { defaultDockerConfigPath, defaultHelmConfigPath } from './paths.js';
export type { FoundCredential, RegistryCredential } from './types.js';
