export { createFilesystemStorage, removeInterruptedWrites } from './filesystem.js';
export { sweepTemp } from './files.js';
export * from './errors.js';
export type { AppendOptions, BlobRead, ByteRange, RegistryStorage, StoredManifest } from './types.js';
export { collectGarbage, type GcOptions, type GcReport } from './gc.js';
export { acquireDataLock, LOCK_FILE, type DataLock } from './data-lock.js';
export {
  checkRegistryStorage,
  type CheckStorageOptions,
  type StorageCheckReport,
  type StorageLeftover,
  type StorageProblem,
  type StorageProblemKind,
} from './check.js';
