/**
 * `chartprov serve gc`: garbage collection of an embedded registry's data
 * folder. It takes the folder's lock, so it refuses to run next to a server
 * (REGISTRY_DATA_LOCKED): stop the server first.
 */
import { stat } from 'node:fs/promises';
import { FileNotFoundError } from '../errors.js';
import { collectGarbage, type GcReport } from '../registry/storage/index.js';

export type { GcReport };

export interface CollectRegistryGarbageOptions {
  dataDir: string;
  /** Decide and report, remove nothing. */
  dryRun?: boolean;
  /** Also remove manifests no tag keeps (index children and referrers of kept manifests stay). */
  deleteUntagged?: boolean;
  /** One line per decision. */
  log?: (line: string) => void;
}

export async function collectRegistryGarbage(opts: CollectRegistryGarbageOptions): Promise<GcReport> {
  if (!(await stat(opts.dataDir).catch(() => undefined))?.isDirectory())
    throw new FileNotFoundError(opts.dataDir, 'registry data folder', { hint: 'check --data (the folder chartprov serve uses)' });
  return collectGarbage(opts.dataDir, {
    dryRun: opts.dryRun ?? false,
    deleteUntagged: opts.deleteUntagged ?? false,
    ...(opts.log ? { log: opts.log } : {}),
  });
}
