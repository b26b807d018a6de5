export { createFilesystemStorage } from './filesystem.js';
export { sweepTemp } from './files.js';
export * from './errors.js';
export type { AppendOptions, ByteRange, RegistryStorage, StoredManifest } from './types.js';
