/**
 * OCI content descriptors (image-spec `Descriptor`), the fields chartprov
 * reads and writes. Field order here is the Go struct's, which is the order
 * Helm and ORAS serialize them in.
 */
import { createHash } from 'node:crypto';

export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 hex>` (or sha512) of the content. */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** The descriptor of bytes held in memory (configs, manifests, small layers such as a .prov). */
export function descriptorOf(mediaType: string, content: Uint8Array | string): Descriptor {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.byteLength };
}
