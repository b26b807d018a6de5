// The blob client of bench/registry.ts: undici with a keep-alive pool, the same for both servers, kept cheap so that it is not what is
// measured. Blob bytes come from a pool of 8 random MiB buffers written as
// they are (no copy per request); only the last MiB differs per variant, so
// each push has a digest of its own and the digest costs 1 MiB of hashing.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

const MiB = 1024 * 1024;

export class BlobSource {
  private readonly pool = Array.from({ length: 8 }, () => randomBytes(MiB));
  /** Hash of every MiB but the last, shared by all variants. */
  private readonly prefix: Hash;
  private next = 0;

  constructor(readonly mib: number) {
    if (!Number.isInteger(mib) || mib < 1) throw new Error(`blob size must be a whole number of MiB, not ${mib}`);
    this.prefix = createHash('sha256');
    for (let i = 0; i < mib - 1; i++) this.prefix.update(this.block(i));
  }

  get size(): number {
    return this.mib * MiB;
  }

  /** A blob no server has seen yet. */
  variant(): BlobVariant {
    const last = Buffer.from(this.pool[(this.mib - 1) % this.pool.length]!);
    last.writeUInt32LE(this.next++, 0);
    last.write(`chartprov-bench ${process.pid} ${Date.now()}`, 8);
    const digest = `sha256:${this.prefix.copy().update(last).digest('hex')}`;
    return {
      digest,
      size: this.size,
      block: (i) => (i === this.mib - 1 ? last : this.block(i)),
      blocks: (from, to) => this.blocks(from, to, last),
    };
  }

  private block(i: number): Buffer {
    return this.pool[i % this.pool.length]!;
  }

  private *blocks(from: number, to: number, last: Buffer): Generator<Buffer> {
    for (let i = from; i < to; i++) yield i === this.mib - 1 ? last : this.block(i);
  }
}

export interface BlobVariant {
  digest: string;
  size: number;
  /** MiB block i. */
  block(i: number): Buffer;
  /** The MiB blocks [from, to). */
  blocks(from: number, to: number): Iterable<Buffer>;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

// One keep-alive pool per run, as a client would have; pipelining off (one request at a time per connection).
let agent: Agent | undefined;
const dispatcher = () => (agent ??= new Agent({ connections: 8, pipelining: 1 }));

export async function closeAgents(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.close();
}

// Authorization per server origin: the embedded registry runs with auth (a
// bearer token, as clients send after the challenge), distribution without.
const authorizations = new Map<string, string>();

export function setAuthorization(baseUrl: string, value: string): void {
  authorizations.set(new URL(baseUrl).origin, value);
}

export function authorizationFor(baseUrl: string): Record<string, string> {
  const value = authorizations.get(new URL(baseUrl).origin);
  return value ? { Authorization: value } : {};
}

/** One request; `body` is streamed with back-pressure; the reply body is collected (small replies only). */
export async function send(
  method: Dispatcher.HttpMethod,
  url: URL,
  headers: Record<string, string>,
  body?: Iterable<Buffer>,
): Promise<Reply> {
  const all = { ...authorizationFor(url.href), ...headers };
  const res = await request(url, { method, headers: all, body: body ? Readable.from(body) : null, dispatcher: dispatcher() });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body: bytes };
}

function expect(r: Reply, status: number, what: string): Reply {
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status}, wanted ${status}: ${r.body.toString('utf8').slice(0, 500)}`);
  return r;
}

function location(r: Reply, base: URL): URL {
  const loc = r.headers.location;
  if (typeof loc !== 'string') throw new Error('upload reply without Location');
  return new URL(loc, base);
}

function withDigest(url: URL, digest: string): URL {
  const u = new URL(url);
  u.searchParams.set('digest', digest);
  return u;
}

const octet = { 'Content-Type': 'application/octet-stream' };

/** POST to open an upload, then one PUT carrying the whole blob. */
export async function pushMonolithic(base: string, repo: string, blob: BlobVariant): Promise<void> {
  const start = new URL(`/v2/${repo}/blobs/uploads/`, base);
  const opened = expect(await send('POST', start, { 'Content-Length': '0' }), 202, 'POST upload');
  const put = withDigest(location(opened, start), blob.digest);
  const headers = { ...octet, 'Content-Length': String(blob.size) };
  expect(await send('PUT', put, headers, blob.blocks(0, blob.size / (1024 * 1024))), 201, 'PUT blob');
}

/** POST, PATCH chunks of `chunkMib` in order (each to the Location the last reply gave), PUT without a body. */
export async function pushChunked(base: string, repo: string, blob: BlobVariant, chunkMib: number): Promise<number> {
  const start = new URL(`/v2/${repo}/blobs/uploads/`, base);
  let at = location(expect(await send('POST', start, { 'Content-Length': '0' }), 202, 'POST upload'), start);
  const mib = blob.size / MiB;
  let patches = 0;
  for (let from = 0; from < mib; from += chunkMib) {
    const to = Math.min(from + chunkMib, mib);
    const headers = { ...octet, 'Content-Length': String((to - from) * MiB), 'Content-Range': `${from * MiB}-${to * MiB - 1}` };
    at = location(expect(await send('PATCH', at, headers, blob.blocks(from, to)), 202, `PATCH ${from}-${to} MiB`), at);
    patches++;
  }
  expect(await send('PUT', withDigest(at, blob.digest), { 'Content-Length': '0' }), 201, 'PUT (commit)');
  return patches;
}

/**
 * GET the blob into a sink that compares every byte with what was pushed
 * (memcmp: far cheaper than the sha256 a registry client would run, which on
 * this kind of machine made the client the bottleneck); with `sha256` the
 * bytes are hashed as well. Throws unless size, bytes and digest match.
 */
export async function pullBlob(base: string, repo: string, blob: BlobVariant, opts: { sha256?: boolean } = {}): Promise<void> {
  const url = new URL(`/v2/${repo}/blobs/${blob.digest}`, base);
  const res = await request(url, { method: 'GET', headers: authorizationFor(url.href), dispatcher: dispatcher() });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET blob: HTTP ${res.statusCode}`);
  }
  if (res.headers['docker-content-digest'] !== blob.digest)
    throw new Error(`GET blob: Docker-Content-Digest ${String(res.headers['docker-content-digest'])}`);
  const hash = opts.sha256 ? createHash('sha256') : undefined;
  let at = 0;
  let mismatch = -1;
  await new Promise<void>((resolve, reject) => {
    res.body.on('data', (c: Buffer) => {
      hash?.update(c);
      for (let off = 0; off < c.length && mismatch < 0;) {
        const i = Math.floor((at + off) / MiB);
        const inBlock = (at + off) % MiB;
        const n = Math.min(c.length - off, MiB - inBlock);
        const want = i < blob.size / MiB ? blob.block(i) : undefined;
        if (!want || want.compare(c, off, off + n, inBlock, inBlock + n) !== 0) mismatch = at + off;
        off += n;
      }
      at += c.length;
    });
    res.body.once('end', resolve);
    res.body.once('error', reject);
  });
  if (at !== blob.size || mismatch >= 0)
    throw new Error(`GET blob: ${at} bytes, ${mismatch >= 0 ? `differing from what was pushed at byte ${mismatch}` : 'wrong size'}`);
  const digest = hash ? `sha256:${hash.digest('hex')}` : blob.digest;
  if (digest !== blob.digest) throw new Error(`GET blob: bytes hash to ${digest}, not ${blob.digest}`);
}

/** Pushes a small config and layer, then an OCI manifest under `tag`; returns its digest and bytes. */
export async function pushSmallManifest(base: string, repo: string, tag: string): Promise<{ digest: string; bytes: Buffer }> {
  const blobs = [Buffer.from(JSON.stringify({ name: 'bench', version: '1.0.0', apiVersion: 'v2' })), randomBytes(4096)];
  const descs = [];
  for (const b of blobs) {
    const digest = `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const start = new URL(`/v2/${repo}/blobs/uploads/`, base);
    const opened = expect(await send('POST', start, { 'Content-Length': '0' }), 202, 'POST upload');
    expect(
      await send('PUT', withDigest(location(opened, start), digest), { ...octet, 'Content-Length': String(b.length) }, [b]),
      201,
      'PUT blob',
    );
    descs.push({ digest, size: b.length });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', ...descs[0] },
    layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', ...descs[1] }],
    annotations: { 'org.opencontainers.image.title': 'bench', 'org.opencontainers.image.version': '1.0.0' },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const url = new URL(`/v2/${repo}/manifests/${tag}`, base);
  expect(await send('PUT', url, { 'Content-Type': OCI_MANIFEST, 'Content-Length': String(bytes.length) }, [bytes]), 201, 'PUT manifest');
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
