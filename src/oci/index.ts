// The OCI layer on its own: references, credentials, the registry client and Helm's media types.
export { RegistryClient, type RegistryClientOptions } from './client.js';
export { Repository, MAX_MANIFEST_BYTES, type BlobRef, type FetchedManifest } from './repository.js';
export type { BlobSource, PushBlobOptions, PushedBlob } from './blob-upload.js';
export type { CredentialLookup } from './auth.js';
export { CredentialStore, normalizeRegistryHost, defaultDockerConfigPath, defaultHelmConfigPath } from './credentials/index.js';
export type { CredentialStoreOptions, FoundCredential, RegistryCredential } from './credentials/index.js';
export { parseOciReference, formatOciReference, parseRegistryHost, chartRepository, type OciReference } from './reference.js';
export { resolveVersionTag, sortTagsBySemver, tagFromVersion, versionFromTag } from './version.js';
export { digestOf, isDigest, VerifyingStream } from './digest.js';
export * from './helm-media.js';
export { helmConfigJson, helmManifestAnnotations, helmManifestJson, parseHelmManifest, type HelmManifest } from './helm-artifact.js';
export type { TlsOptions } from './transport.js';
