/**
 * The requests of a blob upload, one function each: the single-request POST
 * (where the registry takes it), opening a session (or mounting), PATCH,
 * the closing PUT, and giving a session back. blob-upload.ts decides which.
 */
import { Readable } from 'node:stream';
import { DigestMismatchError, RegistryError } from '../errors.js';
import { repositoryScope } from './challenge.js';
import { digestAlgorithm, digestOf } from './digest.js';
import { header } from './http.js';
import { redactSecrets } from './registry-errors.js';
import type { Repository } from './repository.js';

const OCTET = 'application/octet-stream';

/** Gives an upload session back; a registry that cannot (or is gone) lets it expire. */
export async function cancelUpload(repo: Repository, location: URL): Promise<void> {
  await repo
    .send({ method: 'DELETE', url: location, scopes: repo.scopes(true), accept: [400, 404, 405], what: `cancel an upload to ${repo}` })
    .then((r) => r.body.dump())
    .catch(() => undefined);
}

/** Small blobs in memory (configs, provs) go up in one POST where the registry takes that. */
export const SINGLE_POST_MAX = 1024 * 1024;

/**
 * Whether a registry stores a blob sent whole with the POST that opens an
 * upload (distribution-spec's single-request upload: 201), per client and
 * registry. Registries that do not (distribution 2.8, Harbor) open an
 * ordinary upload instead (202) and are not asked again.
 */
export const singlePost = {
  known: new WeakMap<object, Map<string, boolean>>(),
  get(repo: Repository): boolean | undefined {
    return this.known.get(repo.client)?.get(repo.registry);
  },
  set(repo: Repository, works: boolean): void {
    let perClient = this.known.get(repo.client);
    if (!perClient) this.known.set(repo.client, (perClient = new Map()));
    perClient.set(repo.registry, works);
  },
};

/** POST ?digest= with the bytes: `stored` (201), or the Location of the ordinary upload the registry opened instead. */
export async function postWhole(repo: Repository, digest: string, bytes: Uint8Array): Promise<'stored' | URL> {
  if (digestOf(bytes, digestAlgorithm(digest)) !== digest) {
    throw new DigestMismatchError(`the blob given for ${digest} hashes to ${digestOf(bytes, digestAlgorithm(digest))}`);
  }
  const url = repo.url('blobs/uploads/');
  url.searchParams.set('digest', digest);
  const res = await repo.send({
    method: 'POST',
    url,
    headers: { 'content-type': OCTET, 'content-length': String(bytes.length) },
    body: () => Readable.from([Buffer.from(bytes)]),
    replayable: true,
    idempotent: true,
    scopes: repo.scopes(true),
    // A registry that will not take a body there may say so; then it is asked the ordinary way.
    accept: [400, 405, 413, 415],
    what: `push blob ${digest} to ${repo}`,
  });
  await res.body.dump();
  if (res.status >= 400) {
    singlePost.set(repo, false);
    return (await startUpload(repo, digest, undefined)).location;
  }
  if (res.status === 201) {
    singlePost.set(repo, true);
    return 'stored';
  }
  singlePost.set(repo, false);
  return uploadLocation(res);
}

export async function startUpload(
  repo: Repository,
  digest: string | undefined,
  mountFrom: readonly string[] | undefined,
): Promise<{ mounted: boolean; location: URL }> {
  const sources = digest ? (mountFrom ?? []).filter((r) => r !== repo.name) : [];
  for (const [i, from] of sources.entries()) {
    const url = repo.url('blobs/uploads/');
    url.searchParams.set('mount', digest!);
    url.searchParams.set('from', from);
    const res = await repo.send({
      method: 'POST',
      url,
      scopes: [...repo.scopes(true), repositoryScope(from, 'pull')],
      idempotent: true,
      what: `mount blob ${digest} into ${repo}`,
    });
    await res.body.dump();
    if (res.status === 201) return { mounted: true, location: url };
    // 202: the registry could not mount from there (no such blob, no access) and opened an upload instead.
    const location = uploadLocation(res);
    if (i === sources.length - 1) return { mounted: false, location };
    // More places to try: give this upload session back first.
    await cancelUpload(repo, location);
  }
  const res = await repo.send({
    method: 'POST',
    url: repo.url('blobs/uploads/'),
    scopes: repo.scopes(true),
    idempotent: true,
    what: `push to ${repo}`,
  });
  await res.body.dump();
  return { mounted: false, location: uploadLocation(res) };
}

/** The upload URL a response names, relative to the URL that answered (RFC 3986). */
export function uploadLocation(res: { headers: Record<string, string | string[] | undefined>; url: URL }): URL {
  const location = header(res, 'location');
  if (!location) throw new RegistryError(`registry ${res.url.host} started an upload without a Location`);
  return new URL(location, res.url);
}

export interface UploadBody {
  open: () => Readable;
  size?: number;
  once?: boolean;
}

export async function patch(repo: Repository, location: URL, body: UploadBody, range?: [number, number]): Promise<URL> {
  const headers: Record<string, string> = { 'content-type': OCTET };
  if (range) {
    headers['content-range'] = `${range[0]}-${range[1]}`;
    headers['content-length'] = String(range[1] - range[0] + 1);
  }
  const res = await repo.send({
    method: 'PATCH',
    url: location,
    headers,
    body: body.open,
    replayable: !body.once,
    scopes: repo.scopes(true),
    what: `upload to ${repo}`,
  });
  await res.body.dump();
  return uploadLocation(res);
}

export async function finish(repo: Repository, location: URL, digest: string, body?: UploadBody): Promise<URL> {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  const headers: Record<string, string> = { 'content-type': OCTET };
  if (body?.size !== undefined) headers['content-length'] = String(body.size);
  const res = await repo.send({
    method: 'PUT',
    url,
    headers,
    body: body?.open,
    // A stream read once cannot go again, not even to answer a 401 challenge.
    replayable: !body?.once,
    scopes: repo.scopes(true),
    accept: [400],
    what: `push blob ${digest} to ${repo}`,
  });
  if (res.status === 400) {
    const text = redactSecrets(await res.body.text(), await repo.client.http.auth.secrets(repo.registry));
    if (/DIGEST_INVALID/.test(text)) {
      throw new DigestMismatchError(`registry computed another digest than ${digest} for the blob sent to ${repo}`, {
        hint: 'the file changed while it was uploaded; try again',
      });
    }
    throw new RegistryError(`registry refused blob ${digest} for ${repo}: ${text.slice(0, 200)}`, 400);
  }
  await res.body.dump();
  return url;
}
