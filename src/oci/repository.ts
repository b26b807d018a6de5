/**
 * One repository of one registry (`helm-charts/hello-world` on `host:5000`):
 * manifests, tags and blobs as the distribution spec defines them. Every
 * manifest and blob read is checked against its digest.
 */
import type { Readable } from 'node:stream';
import { ChartNotFoundError, ChartprovError, DigestMismatchError, RegistryError, VersionNotFoundError } from '../errors.js';
import { repositoryScope } from './challenge.js';
import type { RegistryClient } from './client.js';
import { digestAlgorithm, digestOf, isDigest } from './digest.js';
import { MANIFEST_ACCEPT, MANIFEST_ACCEPT_HEADER, OCI_INDEX } from './helm-media.js';
import { header, type RegistryRequest, type RegistryResponse } from './http.js';
import { downloadBlobToFile, openVerifiedBlob } from './blob-download.js';
import { pushBlob, type BlobSource, type PushBlobOptions, type PushedBlob } from './blob-upload.js';
import { isTransientNetworkError, networkError, readErrorBody, redactErrorBody, unexpectedStatus } from './registry-errors.js';

/** What a manifest GET returns: the exact bytes (digests are over them), their type and digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface BlobRef {
  digest: string;
  size?: number;
}

/** Distribution's limit; anything bigger is not a manifest we should hold in memory. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export class Repository {
  constructor(
    readonly client: RegistryClient,
    readonly registry: string,
    readonly name: string,
  ) {}

  /** A request to this repository's registry: its credentials are looked up under the registry as written. */
  send(req: RegistryRequest): Promise<RegistryResponse> {
    return this.client.http.send({ registry: this.registry, registryOrigin: this.client.baseUrl(this.registry).origin, ...req });
  }

  /** `registry/name`, as people write it. */
  toString(): string {
    return `${this.registry}/${this.name}`;
  }

  url(path: string): URL {
    return new URL(`/v2/${this.name}/${path}`, this.client.baseUrl(this.registry));
  }

  scopes(push = false): string[] {
    return [push ? repositoryScope(this.name, 'pull', 'push') : repositoryScope(this.name, 'pull')];
  }

  async fetchManifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const what = `pull ${this.refText(reference)}`;
    const { res, bytes } = await this.getSmall(
      {
        method: 'GET',
        url: this.url(`manifests/${reference}`),
        headers: { accept: accept.join(', ') },
        scopes: this.scopes(),
        accept: [404],
        what,
      },
      MAX_MANIFEST_BYTES,
    );
    if (!bytes) throw await this.notFound(res, reference);
    const mediaType = (header(res, 'content-type') ?? '').split(';')[0]!.trim() || sniffMediaType(bytes);
    const digest = this.checkManifestDigest(reference, bytes, header(res, 'docker-content-digest'));
    return { bytes, mediaType, digest };
  }

  private checkManifestDigest(reference: string, bytes: Buffer, claimed: string | undefined): string {
    if (isDigest(reference)) {
      const actual = digestOf(bytes, digestAlgorithm(reference));
      if (actual !== reference) {
        throw new DigestMismatchError(`manifest ${this.refText(reference)} does not match its digest: content hashes to ${actual}`);
      }
      return reference;
    }
    const digest = digestOf(bytes);
    // A registry's claim about what it served must agree with what it served.
    if (claimed?.startsWith('sha256:') && claimed !== digest) {
      throw new DigestMismatchError(`manifest ${this.refText(reference)} hashes to ${digest} but the registry says ${claimed}`);
    }
    return digest;
  }

  /** Digest, type and size of a manifest without its body; undefined when absent. */
  async headManifest(reference: string): Promise<{ digest?: string; mediaType?: string; size?: number } | undefined> {
    const res = await this.send({
      method: 'HEAD',
      url: this.url(`manifests/${reference}`),
      headers: { accept: MANIFEST_ACCEPT_HEADER },
      scopes: this.scopes(),
      accept: [404],
      what: `look up ${this.refText(reference)}`,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const size = Number(header(res, 'content-length'));
    return {
      digest: header(res, 'docker-content-digest'),
      mediaType: header(res, 'content-type'),
      size: Number.isFinite(size) ? size : undefined,
    };
  }

  /** PUT a manifest by tag or digest; returns its digest and the `OCI-Subject` the registry acknowledged, if any. */
  async pushManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    /** `once`: never sent again after a delay (a read-modify-write whose read would be stale by then). */
    opts: { once?: boolean } = {},
  ): Promise<{ digest: string; subject?: string }> {
    const digest = digestOf(bytes);
    const res = await this.send({
      method: 'PUT',
      url: this.url(`manifests/${reference}`),
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: this.scopes(true),
      idempotent: !opts.once,
      replayable: !opts.once,
      what: `push ${this.refText(reference)}`,
    });
    await res.body.dump();
    const claimed = header(res, 'docker-content-digest');
    if (claimed?.startsWith('sha256:') && claimed !== digest) {
      throw new DigestMismatchError(`registry stored manifest ${this.refText(reference)} as ${claimed}, not ${digest}`);
    }
    return { digest, subject: header(res, 'oci-subject') };
  }

  async deleteManifest(digest: string): Promise<void> {
    const res = await this.send({
      method: 'DELETE',
      url: this.url(`manifests/${digest}`),
      scopes: [repositoryScope(this.name, 'delete')],
      idempotent: true,
      what: `delete ${this.refText(digest)}`,
    });
    await res.body.dump();
  }

  /** Every tag, following `Link: <…>; rel="next"` pages. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = this.url('tags/list?n=1000');
    for (let page = 0; url && page < 10_000; page++) {
      const { res, bytes } = await this.getSmall(
        { method: 'GET', url, scopes: this.scopes(), accept: [404], what: `list the tags of ${this}` },
        16 * 1024 * 1024,
      );
      if (!bytes) throw await this.notFound(res);
      const body = parseJson(bytes, `tag list of ${this}`) as { tags?: unknown };
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      url = next ? new URL(next[1]!, url) : undefined;
    }
    return [...new Set(tags)];
  }

  /**
   * `GET /v2/<name>/referrers/<digest>` (distribution-spec 1.1), every page.
   * Undefined when the registry has no referrers API: a 404 (distribution,
   * GHCR, Docker Hub), 400/405, or an answer that is not an image index.
   */
  /**
   * Whether this registry serves the referrers API, asked for `subject`:
   * `unknown-repository` when the registry answered NAME_UNKNOWN (it may have
   * the API; the repository does not exist yet).
   */
  async probeReferrers(subject: string): Promise<'supported' | 'unsupported' | 'unknown-repository'> {
    const res = await this.send({
      method: 'GET',
      url: this.url(`referrers/${subject}`),
      headers: { accept: OCI_INDEX },
      scopes: this.scopes(),
      accept: [400, 404, 405],
      what: `probe the referrers API of ${this}`,
    });
    const type = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    if (res.status === 200 && type === OCI_INDEX) {
      await res.body.dump();
      return 'supported';
    }
    if (res.status === 404) {
      const body = await readErrorBody(res.body);
      return body.errors.some((e) => e.code === 'NAME_UNKNOWN') ? 'unknown-repository' : 'unsupported';
    }
    await res.body.dump();
    return 'unsupported';
  }

  async fetchReferrersIndex(subject: string, artifactType?: string): Promise<{ manifests: unknown[]; filtered: boolean } | undefined> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    let url: URL | undefined = this.url(`referrers/${subject}${query}`);
    const manifests: unknown[] = [];
    let filtered = Boolean(artifactType);
    for (let page = 0; url && page < 1000; page++) {
      const { res, bytes } = await this.getSmall(
        {
          method: 'GET',
          url,
          headers: { accept: OCI_INDEX },
          scopes: this.scopes(),
          accept: [400, 404, 405],
          what: `list the referrers of ${this.refText(subject)}`,
        },
        MAX_MANIFEST_BYTES,
      );
      if (!bytes || res.status >= 400) {
        if (bytes === undefined) await res.body.dump();
        return undefined;
      }
      const type = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
      const body = parseJson(bytes, `referrers of ${this.refText(subject)}`) as { mediaType?: unknown; manifests?: unknown };
      if ((type !== OCI_INDEX && body.mediaType !== OCI_INDEX) || !Array.isArray(body.manifests)) return undefined;
      manifests.push(...body.manifests);
      // A subject with this many referrers is an attack or a broken registry, not a chart's signatures.
      if (manifests.length > 10_000) throw new RegistryError(`${this.refText(subject)} has more than 10000 referrers`);
      if (artifactType && !/artifactType/.test(header(res, 'oci-filters-applied') ?? '')) filtered = false;
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      url = next ? new URL(next[1]!, url) : undefined;
    }
    return { manifests, filtered };
  }

  /** Whether the blob exists here (HEAD); its size when it does. */
  async statBlob(digest: string, opts: { forPush?: boolean } = {}): Promise<number | undefined> {
    const res = await this.send({
      method: 'HEAD',
      url: this.url(`blobs/${digest}`),
      // Before an upload: ask for the push scope at once, so one token serves the whole push.
      scopes: this.scopes(opts.forPush),
      accept: [404],
      what: `look up blob ${digest} in ${this}`,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const size = Number(header(res, 'content-length'));
    return Number.isFinite(size) ? size : 0;
  }

  pushBlob(source: BlobSource, opts: PushBlobOptions = {}): Promise<PushedBlob> {
    return pushBlob(this, source, opts);
  }

  /** The blob as a stream that fails unless its bytes match the digest (and size); see blob-download.ts. */
  openBlob(blob: BlobRef, opts: { maxBytes?: number } = {}): Promise<Readable> {
    return openVerifiedBlob(this, blob, opts);
  }

  async fetchBlobBytes(blob: BlobRef, maxBytes: number): Promise<Buffer> {
    return readLimited(await this.openBlob(blob, { maxBytes }), maxBytes, `blob ${blob.digest}`);
  }

  /** Streams a blob to `target` through a temp file: the file appears only complete and verified. */
  fetchBlobToFile(blob: BlobRef, target: string, opts: { mode?: number; maxBytes?: number } = {}): Promise<void> {
    return downloadBlobToFile(this, blob, target, opts);
  }

  /**
   * A GET whose body is small (manifest, tag list page): read whole, and sent
   * again when the connection breaks mid-body, as the request itself would be.
   * `bytes` is undefined for a 404 (the response is then unread).
   */
  private async getSmall(req: RegistryRequest, max: number): Promise<{ res: RegistryResponse; bytes?: Buffer }> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(req);
      if (res.status === 404) return { res };
      try {
        return { res, bytes: await readLimited(res.body, max, req.what, this.registry) };
      } catch (err) {
        if (attempt < 2 && isTransientNetworkError(err)) continue;
        throw err;
      }
    }
  }

  refText(reference: string): string {
    return `${this}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  private async notFound(res: RegistryResponse, reference?: string): Promise<Error> {
    const body = redactErrorBody(await readErrorBody(res.body), await this.client.http.auth.secrets(this.registry));
    const codes = body.errors.map((e) => e.code);
    if (!reference || codes.includes('NAME_UNKNOWN')) {
      return new ChartNotFoundError(`repository ${this} not found`, { hint: 'check the path; chartprov push creates it' });
    }
    if (codes.length === 0 || codes.includes('MANIFEST_UNKNOWN') || codes.includes('NOT_FOUND')) {
      return new VersionNotFoundError(`${this.refText(reference)} not found`);
    }
    return unexpectedStatus(404, `pull ${this.refText(reference)}`, body);
  }
}

/** Reads a body whole, up to `max` bytes; a broken connection becomes a network error naming `host`. */
export async function readLimited(body: Readable, max: number, what: string, host?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        body.destroy();
        throw new RegistryError(`${what} is larger than ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw err instanceof ChartprovError || !host ? err : networkError(err, host, { what });
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RegistryError(`${what} is not valid JSON`, undefined, { cause: err });
  }
}

function sniffMediaType(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : '';
  } catch {
    return '';
  }
}
