/**
 * Blob downloads: every byte checked against the digest (and the size, when
 * known), a connection that breaks mid-blob resumed where it stopped, and a
 * blob written to disk only complete and verified.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChartprovError, DigestMismatchError, RegistryError, RegistryUnreachableError } from '../errors.js';
import { tempPathFor, toWriteError } from '../fs/atomic-write.js';
import { VerifyingStream } from './digest.js';
import { backoff, header, type RegistryResponse } from './http.js';
import { isTransientNetworkError, networkError, networkReason, readErrorBody, unexpectedStatus } from './registry-errors.js';
import type { BlobRef, Repository } from './repository.js';

/**
 * The blob as a stream that fails unless its bytes match the digest (and
 * size, when given). A connection that breaks mid-blob is picked up where it
 * stopped, with a Range request (from the start, skipping what arrived, when
 * the registry ignores Range), up to the client's retries: oras-go and
 * containerd resume blob reads the same way. The digest covers the whole, so
 * a resumed blob is checked exactly as one read in one go.
 */
export async function openVerifiedBlob(repo: Repository, blob: BlobRef, opts: { maxBytes?: number } = {}): Promise<Readable> {
  const what = `blob ${blob.digest} of ${repo}`;
  const first = await requestBlob(repo, blob, what, 0);
  const length = Number(header(first, 'content-length'));
  if (blob.size !== undefined && Number.isFinite(length) && length !== blob.size) {
    await first.body.dump();
    throw new DigestMismatchError(`${what} is ${length} bytes, but its descriptor says ${blob.size}`);
  }
  const verifier = new VerifyingStream({ digest: blob.digest, size: blob.size, maxBytes: opts.maxBytes, what });
  const retries = repo.client.http.retries;
  let current: Readable = first.body;
  let received = 0;
  let resumes = 0;
  const follow = (body: Readable, skip: number): void => {
    current = body;
    body.on('data', (chunk: Buffer) => {
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.length);
        skip -= dropped;
        chunk = chunk.subarray(dropped);
        if (chunk.length === 0) return;
      }
      received += chunk.length;
      if (!verifier.write(chunk)) {
        body.pause();
        verifier.once('drain', () => body.resume());
      }
    });
    body.on('end', () => {
      if (body === current) verifier.end();
    });
    body.on('error', (err) => {
      if (body !== current || verifier.destroyed) return;
      // Everything arrived before the connection went: the verifier decides.
      if (blob.size !== undefined && received === blob.size) return void verifier.end();
      if (resumes >= retries || !isTransientNetworkError(err))
        return void verifier.destroy(brokenOff(repo, err, what, blob, received, resumes));
      const attempt = resumes++;
      void sleep(backoff(attempt))
        .then(() => requestBlob(repo, blob, what, received))
        .then((res) => {
          if (verifier.destroyed) return void res.body.destroy();
          follow(res.body, res.skip);
        })
        .catch((e: unknown) => verifier.destroy(e instanceof Error ? e : new Error(String(e))));
    });
  };
  // A verifier that gave up (wrong digest, too many bytes, the caller stopped) releases the connection.
  verifier.on('close', () => current.destroy());
  follow(first.body, 0);
  return verifier;
}

/**
 * GET of a blob, from `offset` on: `skip` is how many bytes of the answer
 * precede `offset` (all of them when the registry sent the whole blob).
 */
async function requestBlob(repo: Repository, blob: BlobRef, what: string, offset: number): Promise<RegistryResponse & { skip: number }> {
  const res = await repo.send({
    method: 'GET',
    url: repo.url(`blobs/${blob.digest}`),
    ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
    scopes: repo.scopes(),
    accept: [404],
    what: `pull ${what}`,
  });
  if (res.status === 404) {
    const body = await readErrorBody(res.body);
    throw new RegistryError(`registry has no ${what}: ${body.errors[0]?.code ?? 'BLOB_UNKNOWN'}`, 404, {
      hint: 'the manifest refers to a blob the registry lost; push the chart again',
    });
  }
  if (offset === 0 || res.status === 200) return { ...res, skip: offset };
  const range = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header(res, 'content-range') ?? '');
  const start = range ? Number(range[1]) : Number.NaN;
  if (res.status !== 206 || !(start <= offset)) {
    await res.body.dump();
    throw unexpectedStatus(res.status, `resume ${what} at byte ${offset} (Content-Range ${header(res, 'content-range') ?? 'missing'})`, {
      errors: [],
      text: '',
    });
  }
  return { ...res, skip: offset - start };
}

/** A blob read that the network cut off for good: how far it got, and how often it was resumed. */
function brokenOff(repo: Repository, err: unknown, what: string, blob: BlobRef, received: number, resumes: number): ChartprovError {
  const e = networkError(err, repo.registry, { timeoutMs: repo.client.http.timeoutMs, what: `pull ${what}` });
  if (!(e instanceof RegistryUnreachableError)) return e;
  const of = blob.size === undefined ? '' : ` of ${blob.size}`;
  const tries = resumes > 0 ? `, resumed ${resumes} time${resumes === 1 ? '' : 's'}` : '';
  return new RegistryUnreachableError(
    `connection to registry ${repo.registry} broke off after ${received}${of} bytes of ${what} (${networkReason(err)}${tries})`,
    { cause: err, hint: 'the network or the registry dropped the transfer: run the command again; check proxies and the registry logs' },
  );
}

/** Streams a blob to `target` through a temp file: the file appears only complete and verified. */
export async function downloadBlobToFile(
  repo: Repository,
  blob: BlobRef,
  target: string,
  opts: { mode?: number; maxBytes?: number } = {},
): Promise<void> {
  const tmp = tempPathFor(target);
  if (blob.size !== undefined && opts.maxBytes !== undefined && blob.size > opts.maxBytes) {
    throw new RegistryError(`blob ${blob.digest} of ${repo} is ${blob.size} bytes, more than the ${opts.maxBytes} allowed`);
  }
  try {
    await pipeline(
      await openVerifiedBlob(repo, blob, { maxBytes: opts.maxBytes }),
      createWriteStream(tmp, { flags: 'wx', mode: opts.mode ?? 0o644 }),
    );
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw toWriteError(target, err);
  }
}
