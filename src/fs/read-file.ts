import { open } from 'node:fs/promises';
import { ChartprovError, FileNotFoundError, FileReadError } from '../errors.js';

export interface ReadOptions {
  /** Noun for messages: "keyring", "passphrase file", … */
  what?: string;
  /** Refuse larger files without reading them. */
  maxBytes?: number;
  /** Error to throw when the file is larger than maxBytes. */
  tooLarge?: (size: number) => ChartprovError;
  /** Error to throw when the file does not exist (default FileNotFoundError). */
  missing?: () => ChartprovError;
}

/**
 * Reads a whole small file (a .prov, a passphrase file) with coded errors:
 * missing → FILE_NOT_FOUND, a folder or unreadable → FILE_UNREADABLE, and a
 * size limit checked before any byte is read.
 */
export async function readSmallFile(path: string, opts: ReadOptions = {}): Promise<Buffer> {
  const what = opts.what ?? 'file';
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw opts.missing?.() ?? new FileNotFoundError(path, what, { cause: err });
    throw new FileReadError(path, what, { cause: err });
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile())
      throw new FileReadError(path, what, {
        cause: Object.assign(new Error('not a file'), { code: stat.isDirectory() ? 'EISDIR' : 'ENOTFILE' }),
      });
    if (opts.maxBytes !== undefined && stat.size > opts.maxBytes) {
      throw opts.tooLarge?.(stat.size) ?? new FileReadError(path, what, { hint: `it is larger than ${opts.maxBytes} bytes` });
    }
    return await fh.readFile();
  } catch (err) {
    throw err instanceof ChartprovError ? err : new FileReadError(path, what, { cause: err });
  } finally {
    await fh.close();
  }
}
