/**
 * Content digests (`sha256:<hex>`, `sha512:<hex>`) and the stream that checks
 * one while content flows, so a blob is never trusted, or kept, unless it
 * hashes to the digest it was asked for by.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, ReferenceInvalidError } from '../errors.js';

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  if (!DIGEST.test(digest)) throw new ReferenceInvalidError(`not a valid digest: ${digest.slice(0, 80)}`);
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

export function digestOf(data: Uint8Array | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

export interface VerifyingStreamOptions {
  digest: string;
  /** The size the descriptor promises; more or fewer bytes fail. */
  size?: number;
  /** Hard limit when no size is known. */
  maxBytes?: number;
  /** Names the content in the error. */
  what: string;
}

/** Passes bytes through, and fails at the end (or as soon as too many arrive) unless they match. */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private readonly limit: number;
  received = 0;

  constructor(private readonly opts: VerifyingStreamOptions) {
    super();
    this.hash = createHash(digestAlgorithm(opts.digest));
    this.limit = opts.size ?? opts.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.limit) {
      done(this.mismatch(`more than the ${this.limit} bytes expected`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.opts.size !== undefined && this.received !== this.opts.size) {
      done(this.mismatch(`${this.received} bytes instead of ${this.opts.size}`));
      return;
    }
    const actual = `${digestAlgorithm(this.opts.digest)}:${this.hash.digest('hex')}`;
    done(actual === this.opts.digest ? null : this.mismatch(`content hashes to ${actual}`));
  }

  private mismatch(detail: string): DigestMismatchError {
    return new DigestMismatchError(`${this.opts.what} does not match its digest ${this.opts.digest}: ${detail}`);
  }
}
