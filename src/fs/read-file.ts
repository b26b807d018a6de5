import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
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
  /** Also read pipes, sockets and character devices (`<(pass show x)`, /dev/stdin), up to maxBytes. */
  allowStreams?: boolean;
}

/**
 * Reads a whole small file (a .prov, a passphrase file) with coded errors:
 * missing → FILE_NOT_FOUND, a folder or unreadable → FILE_UNREADABLE, and a
 * size limit checked before any byte is read. The path is checked before it
 * is opened, so a FIFO nobody writes to cannot hang us.
 */
export async function readSmallFile(path: string, opts: ReadOptions = {}): Promise<Buffer> {
  const what = opts.what ?? 'file';
  const limit = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const tooLarge = (size: number) => opts.tooLarge?.(size) ?? new FileReadError(path, what, { hint: `it is larger than ${limit} bytes` });
  try {
    const st = await stat(path);
    if (st.isFile()) {
      if (st.size > limit) throw tooLarge(st.size);
      return await readFile(path);
    }
    if (opts.allowStreams && (st.isFIFO() || st.isCharacterDevice() || st.isSocket())) return await readStream(path, limit, tooLarge);
    const code = st.isDirectory() ? 'EISDIR' : 'ENOTFILE';
    throw new FileReadError(path, what, { cause: Object.assign(new Error('not a regular file'), { code }) });
  } catch (err) {
    if (err instanceof ChartprovError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw opts.missing?.() ?? new FileNotFoundError(path, what, { cause: err });
    throw new FileReadError(path, what, { cause: err });
  }
}

async function readStream(path: string, limit: number, tooLarge: (size: number) => ChartprovError): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(size);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
