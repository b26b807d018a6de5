import { resolve } from 'node:path';
import { defaultRegistryDataDir } from '../../flows/serve-config.js';
import { checkRegistryStorage, type StorageCheckReport } from '../../registry/storage/index.js';
import { printJson, println, progress } from '../output.js';
import type { OutputFormat } from '../output.js';

interface CheckFlags {
  data?: string;
  output: OutputFormat;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function mib(n: number): string {
  return n < 1024 * 1024 ? `${n} bytes` : `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** `chartprov serve check`: re-hash every blob and check every manifest, tag and link (the server must be stopped). Exit 1 on damage. */
export async function serveCheckCommand(flags: CheckFlags): Promise<number> {
  let bar: ReturnType<typeof progress> | undefined;
  const report = await checkRegistryStorage({
    dataDir: flags.data !== undefined ? resolve(flags.data) : defaultRegistryDataDir(),
    onProgress: (done, total) => {
      bar ??= progress('re-hashing blobs', total);
      bar.tick(done);
    },
  });
  bar?.end();
  if (flags.output === 'json') printJson(report);
  else printText(report);
  return report.ok ? 0 : 1;
}

function printText(report: StorageCheckReport): void {
  for (const p of report.problems) println(`${p.kind}: ${p.message} (${p.path})`);
  const temp = report.leftovers.filter((l) => l.kind === 'temp-file').length;
  const folders = report.leftovers.length - temp;
  const notes: string[] = [];
  if (temp > 0) notes.push(plural(temp, 'temp file'));
  if (folders > 0) notes.push(plural(folders, 'empty folder'));
  const checked =
    `${plural(report.blobs, 'blob')} (${mib(report.blobBytes)}) re-hashed, ` +
    `${plural(report.manifests, 'manifest')} and ${plural(report.tags, 'tag')} in ${plural(report.repositories, 'repository', 'repositories')}`;
  const uploads = report.uploads > 0 ? `; ${plural(report.uploads, 'upload')} in progress` : '';
  const left = notes.length > 0 ? `; left by interrupted writes, invisible to clients: ${notes.join(', ')}` : '';
  const verdict = report.ok ? 'no problems' : `${plural(report.problems.length, 'problem')}`;
  println(`check: ${checked}${uploads}${left}: ${verdict}`);
}
