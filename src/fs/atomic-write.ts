import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ChartprovError, FileNotFoundError, FileWriteError } from '../errors.js';

/** A temp path in the same folder as `target`, so the final rename is atomic. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `target` so that readers see either the old file or the
 * complete new one, never a half-written file: temp file in the same folder,
 * fsync, rename. The temp file is removed on any failure.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw toWriteError(target, err);
  }
}

export function toWriteError(target: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new FileNotFoundError(dirname(target), 'destination folder', {
      hint: 'create the folder first or choose another path',
      cause: err,
    });
  }
  if (err instanceof ChartprovError) return err;
  return new FileWriteError(target, { cause: err });
}
