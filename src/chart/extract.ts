/**
 * Unpacking a chart archive (`pull --untar`) so that nothing can land outside
 * the target: the archive is read with the strict rules of tar-read.ts
 * (regular files only, no absolute or `..` paths, one top folder, Helm's size
 * limits against gzip bombs), each file written into a private staging
 * folder as soon as it is read (so memory holds one file, not the chart),
 * and the chart folder is renamed into place only when complete.
 */
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
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
  const root = resolve(intoDir);
  const made = await mkdir(root, { recursive: true }).catch((err) => {
    throw toWriteError(root, err);
  });
  try {
    // The staging folder goes if the process is interrupted: no half-unpacked chart is left behind.
    return await withStagingDir(root, async (staging) => {
      const chartDir = join(staging, 'chart');
      const contents = await readTarGz(archive, {
        label: typeof archive === 'string' ? archive : 'chart archive',
        maxBytes: opts.maxBytes,
        keep: () => true,
        onFile: async (path, data) => {
          const file = resolve(chartDir, path);
          // tar-read refuses `..` already; this is the last line of defence before a write.
          if (!file.startsWith(chartDir + sep)) throw new ChartArchiveError(`${JSON.stringify(path)} points outside the chart folder`);
          try {
            await mkdir(dirname(file), { recursive: true });
            await writeFile(file, data, { flag: 'wx', mode: 0o644 });
          } catch (err) {
            throw toWriteError(file, err);
          }
        },
      });
      if (contents.lossyNames.length > 0) {
        throw new ChartArchiveError(`${JSON.stringify(contents.lossyNames[0])} has a name that is not UTF-8 (shown with U+FFFD)`, {
          hint: 'unpacking would write another name than Helm does; rename the file in the chart and package it again',
        });
      }
      const target = join(root, contents.top);
      if (relative(root, target).split(sep)[0] === '..' || dirname(target) !== root) {
        throw new ChartArchiveError(`archive top folder ${JSON.stringify(contents.top)} is not a plain folder name`);
      }
      if (await lstat(target).catch(() => undefined)) {
        throw new DestinationExistsError(`${target} already exists`, { hint: 'remove it, or choose another --untardir' });
      }
      await rename(chartDir, target).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST') throw new DestinationExistsError(`${target} already exists`);
        throw toWriteError(target, err);
      });
      return target;
    });
  } catch (err) {
    // A folder made for this chart goes with it (it holds only the staging folder, already gone).
    if (made !== undefined) await rm(made, { recursive: true, force: true });
    throw err;
  }
}
