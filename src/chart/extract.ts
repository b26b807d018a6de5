/**
 * Unpacking a chart archive (`pull --untar`) so that nothing can land outside
 * the target: the archive is read with the strict rules of tar-read.ts
 * (regular files only, no absolute or `..` paths, one top folder, Helm's size
 * limits against gzip bombs), written into a private staging folder, and the
 * chart folder is renamed into place only when complete.
 */
import { lstat, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ChartArchiveError, DestinationExistsError } from '../errors.js';
import { toWriteError } from '../fs/atomic-write.js';
import { withStagingDir } from '../fs/staging.js';
import { readTarGz } from './tar-read.js';

export interface ExtractChartOptions {
  /** Limit on the decompressed archive (default Helm's 100 MiB). */
  maxBytes?: number;
}

/**
 * Extracts `archive` into `<intoDir>/<top folder>` and returns that path.
 * Refuses (DestinationExistsError) when the chart folder already exists, as Helm does.
 */
export async function extractChartArchive(archive: string | Uint8Array, intoDir: string, opts: ExtractChartOptions = {}): Promise<string> {
  const contents = await readTarGz(archive, {
    label: typeof archive === 'string' ? archive : 'chart archive',
    maxBytes: opts.maxBytes,
    keep: () => true,
  });
  const root = resolve(intoDir);
  const target = join(root, contents.top);
  if (relative(root, target).split(sep)[0] === '..' || dirname(target) !== root) {
    throw new ChartArchiveError(`archive top folder ${JSON.stringify(contents.top)} is not a plain folder name`);
  }
  if (await lstat(target).catch(() => undefined)) {
    throw new DestinationExistsError(`${target} already exists`, { hint: 'remove it, or choose another --untardir' });
  }
  await mkdir(root, { recursive: true }).catch((err) => {
    throw toWriteError(root, err);
  });
  // The staging folder goes if the process is interrupted: no half-unpacked chart is left behind.
  return withStagingDir(root, async (staging) => {
    try {
      const chartDir = join(staging, 'chart');
      for (const [path, data] of contents.files) {
        const file = resolve(chartDir, path);
        // tar-read refuses `..` already; this is the last line of defence before a write.
        if (!file.startsWith(chartDir + sep)) throw new ChartArchiveError(`${JSON.stringify(path)} points outside the chart folder`);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, data, { flag: 'wx', mode: 0o644 });
      }
      await rename(chartDir, target).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST') throw new DestinationExistsError(`${target} already exists`);
        throw err;
      });
      return target;
    } catch (err) {
      throw toWriteError(target, err);
    }
  });
}
