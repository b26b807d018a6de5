/**
 * A small blob (a config, a .prov, a chart archive) read from storage into
 * memory, refused past `maxBytes` before a byte is read, so a huge layer
 * named where a small one is expected cannot fill the server's memory.
 */
import { BlobUnknownError } from './errors.js';
import type { RegistryStorage } from './types.js';

export class BlobTooLargeError extends Error {}

export async function readBlobBytes(storage: RegistryStorage, digest: string, maxBytes: number): Promise<Buffer> {
  const { size, body } = await storage.readBlob(digest, undefined, maxBytes).catch((err: unknown) => {
    throw err instanceof BlobUnknownError ? new Error(`blob ${digest} is not stored`) : err;
  });
  if (Buffer.isBuffer(body)) return body;
  // Over the limit: readBlob handed a stream, which holds the open file until destroyed.
  body.destroy();
  throw new BlobTooLargeError(`blob ${digest} is ${size} bytes, more than ${maxBytes}`);
}
