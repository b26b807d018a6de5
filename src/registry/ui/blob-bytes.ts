/**
 * A small blob (a config, a .prov, a chart archive) read from storage into
 * memory, refused past `maxBytes` before a byte is read, so a huge layer
 * named where a small one is expected cannot fill the server's memory.
 */
import type { RegistryStorage } from '../storage/index.js';

export class BlobTooLargeError extends Error {}

export async function readBlobBytes(storage: RegistryStorage, digest: string, maxBytes: number): Promise<Buffer> {
  const size = await storage.statBlob(digest);
  if (size === undefined) throw new Error(`blob ${digest} is not stored`);
  if (size > maxBytes) throw new BlobTooLargeError(`blob ${digest} is ${size} bytes, more than ${maxBytes}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of await storage.openBlob(digest)) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new BlobTooLargeError(`blob ${digest} is more than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
