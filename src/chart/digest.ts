/**
 * The one sha256 of chart archives: a pass-through stream that hashes and
 * counts what flows through it, so the digest is always of the very bytes
 * that were written (packaging) or read (verify, sign), never of a second
 * read of a file that may have changed in between.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface DigestStreamOptions {
  /** Fail once more than this many bytes went through. */
  maxBytes?: number;
  /** The error to fail with past maxBytes. */
  tooLarge?: (maxBytes: number) => Error;
}

export class DigestStream extends Transform {
  private readonly hash = createHash('sha256');
  /** Bytes seen so far. */
  size = 0;

  constructor(private readonly opts: DigestStreamOptions = {}) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    const max = this.opts.maxBytes;
    if (max !== undefined && this.size > max) {
      done(this.opts.tooLarge?.(max) ?? new Error(`more than ${max} bytes`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** Hex sha256 of everything seen; call once, after the stream ended. */
  hex(): string {
    return this.hash.digest('hex');
  }
}
