import { resolve } from 'node:path';
import { defaultRegistryDataDir } from '../../flows/serve-config.js';
import { collectRegistryGarbage } from '../../flows/serve-gc.js';
import { printJson, println, warn } from '../output.js';
import type { OutputFormat } from '../output.js';

interface GcFlags {
  data?: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  verbose?: boolean;
  output: OutputFormat;
}

function bytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${value.toFixed(1)} ${units[i]} (${n} bytes)`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `chartprov serve gc`: delete what no kept manifest needs (the server must be stopped). */
export async function serveGcCommand(flags: GcFlags): Promise<number> {
  const report = await collectRegistryGarbage({
    dataDir: flags.data !== undefined ? resolve(flags.data) : defaultRegistryDataDir(),
    dryRun: flags.dryRun ?? false,
    deleteUntagged: flags.deleteUntagged ?? false,
    ...(flags.verbose ? { log: (line: string) => process.stderr.write(`gc: ${line}\n`) } : {}),
  });
  if (flags.output === 'json') {
    printJson(report);
    return 0;
  }
  for (const u of report.unreadable) warn(`kept all of ${u.repo}: ${u.problem}`);
  for (const digest of report.missing) warn(`${digest} is needed by a kept manifest but is not stored (damage gc cannot repair)`);
  if (report.dryRun) {
    for (const m of report.manifestsDeleted) println(`would delete untagged manifest ${m.repo}@${m.digest}`);
    for (const b of report.blobsDeleted) println(`would delete blob ${b.digest} (${b.size} bytes)`);
  }
  const did = report.dryRun ? 'would delete' : 'deleted';
  const parts = [
    `${did} ${plural(report.blobsDeleted.length, 'blob')}, ${report.dryRun ? 'freeing' : 'freed'} ${bytes(report.bytesFreed)}`,
    `kept ${plural(report.blobsMarked, 'blob')}`,
  ];
  if (report.manifestsDeleted.length > 0) parts.push(`${did} ${plural(report.manifestsDeleted.length, 'untagged manifest')}`);
  if (report.linksRemoved > 0)
    parts.push(`${report.dryRun ? 'would remove' : 'removed'} ${plural(report.linksRemoved, 'repository link')}`);
  if (report.uploadsRemoved > 0)
    parts.push(`${report.dryRun ? 'would remove' : 'removed'} ${plural(report.uploadsRemoved, 'stale upload')}`);
  if (report.tempFilesRemoved > 0) parts.push(`removed ${plural(report.tempFilesRemoved, 'leftover temp file')}`);
  println(`gc${report.dryRun ? ' (dry run)' : ''}: ${parts.join('; ')}${report.dryRun ? '. Nothing was removed.' : ''}`);
  return 0;
}
