// The registry client against a real registry (the embedded one) behind a
// fault-injecting proxy (issue 10, part 4): blob downloads that break off are
// resumed with Range and still verified, uploads that break off start over in
// a new session when the source can be read again (and never re-send a
// stream), and a registry that goes silent fails with REGISTRY_TIMEOUT after
// the configured time while a slow one that keeps sending is left to finish.
// http.test.ts covers the request loop itself (429, 503, resets before the
// answer) against fake servers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, type RegistryClientOptions } from '../../src/oci/client.js';
import { digestOf } from '../../src/oci/digest.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { resumesWithin, startFaultProxy, type FaultProxy } from '../peers/fault-proxy.js';
import { recordFigure } from '../peers/figures.js';
import { tempDir } from '../peers/tmp.js';

const SIZE = 256 * 1024;
const BLOB_GET = /\/blobs\/sha256:/;
const UPLOAD = /\/blobs\/uploads\//;

let reg: EmbeddedRegistry;
let proxy: FaultProxy;
let work: string;
let cleanup: () => Promise<void>;
/** A blob in lib/seed, pushed straight to the registry. */
const seed = randomBytes(SIZE);
const seedDigest = digestOf(seed);
const clients: RegistryClient[] = [];

/** A client that reaches the registry only through the proxy. */
async function viaProxy(opts: Partial<RegistryClientOptions> = {}): Promise<RegistryClient> {
  const c = await RegistryClient.create({ plainHttp: true, credential: { ...reg.admin }, ...opts });
  clients.push(c);
  return c;
}

/** Runs `fn` and returns how long it took, in ms. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await fn();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string } | undefined)?.code;
}

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-resilience-'));
  reg = await startEmbedded({ projects: ['lib'] });
  proxy = await startFaultProxy(reg.url);
  const direct = await reg.client(reg.admin);
  try {
    await direct.repository(reg.host, 'lib/seed').pushBlob({ bytes: seed }, { digest: seedDigest });
  } finally {
    await direct.close();
  }
});

after(async () => {
  for (const c of clients) await c.close();
  await proxy?.close();
  await reg?.stop();
  await cleanup?.();
});

describe('blob downloads that break off', () => {
  it('resumes a blob GET reset mid-body with a Range request, and the digest still holds', async () => {
    proxy.clear();
    const rule = proxy.add({
      name: 'reset at 100000',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-response', afterBytes: 100_000 },
    });
    const before = proxy.requests.length;
    const client = await viaProxy();
    const got = await client.repository(proxy.host, 'lib/seed').fetchBlobBytes({ digest: seedDigest, size: SIZE }, SIZE);
    assert.equal(digestOf(got), seedDigest);
    const gets = proxy.requests.slice(before).filter((r) => r.method === 'GET' && BLOB_GET.test(r.url) && r.status !== 401);
    assert.equal(rule.injected, 1);
    assert.equal(gets.length, 2, 'one resumed request');
    assert.ok(resumesWithin(gets[1]!.range, 100_000), `resumed where it broke off: ${gets[1]!.range}`);
    recordFigure({
      area: 'client',
      item: 'blob GET reset after 100000 of 262144 bytes (embedded registry behind a proxy)',
      tried: 1,
      outcome: 'resumed with Range: bytes=100000-, digest verified',
      lost: 0,
    });
  });

  it('starts over and skips what arrived when the registry ignores Range', async () => {
    proxy.clear();
    proxy.add({
      name: 'reset at 70000',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-response', afterBytes: 70_000 },
    });
    const ignoring = proxy.add({ name: 'no Range', method: 'GET', path: BLOB_GET, authorized: true, fault: { kind: 'ignore-range' } });
    const client = await viaProxy();
    const got = await client.repository(proxy.host, 'lib/seed').fetchBlobBytes({ digest: seedDigest, size: SIZE }, SIZE);
    assert.equal(digestOf(got), seedDigest);
    assert.equal(ignoring.injected, 1, 'the resumed request got the whole blob (200) and skipped 70000 bytes');
    recordFigure({
      area: 'client',
      item: 'blob GET reset after 70000 bytes, registry ignoring Range on the retry',
      tried: 1,
      outcome: 'whole blob again, first 70000 bytes skipped, digest verified',
      lost: 0,
    });
  });

  it('gives up after the retries with REGISTRY_UNREACHABLE saying how far it got, and fetchBlobToFile leaves no file', async () => {
    proxy.clear();
    const rule = proxy.add({
      name: 'reset every 50000',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      fault: { kind: 'reset-response', afterBytes: 50_000 },
    });
    const client = await viaProxy({ retries: 2 });
    const dir = join(work, 'gives-up');
    await mkdir(dir);
    const r = await timed(() =>
      client.repository(proxy.host, 'lib/seed').fetchBlobToFile({ digest: seedDigest, size: SIZE }, join(dir, 'blob')),
    );
    assert.equal(codeOf(r.error), 'REGISTRY_UNREACHABLE', String(r.error));
    assert.match(
      String((r.error as Error).message),
      /broke off after 150000 of 262144 bytes of blob sha256:\w+ of 127\.0\.0\.1:\d+\/lib\/seed \(.*resumed 2 times\)/,
    );
    assert.equal(rule.injected, 3, 'the first try and two resumes');
    assert.deepEqual(await readdir(dir), [], 'no file, no temp file');
    recordFigure({
      area: 'client',
      item: 'blob GET reset after every 50000 bytes (retries 2), into a file',
      tried: 3,
      outcome: 'REGISTRY_UNREACHABLE after 150000 of 262144 bytes, resumed 2 times',
      lost: 0,
    });
  });
});

describe('uploads that break off', () => {
  it('a blob PUT reset mid-body starts over in a new upload session; the registry ends up with the right blob', async () => {
    proxy.clear();
    const file = join(work, 'upload-a.bin');
    const bytes = randomBytes(SIZE);
    await writeFile(file, bytes);
    const rule = proxy.add({
      name: 'reset PUT at 64 KiB',
      method: 'PUT',
      path: UPLOAD,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-request', afterBytes: 64 * 1024 },
    });
    const before = proxy.requests.length;
    const client = await viaProxy();
    const pushed = await client.repository(proxy.host, 'lib/up-a').pushBlob({ path: file });
    assert.equal(pushed.digest, digestOf(bytes));
    assert.equal(rule.injected, 1);
    const seen = proxy.requests.slice(before);
    // The first POST meets the 401 challenge and goes again with a token: three POSTs, two sessions.
    assert.equal(seen.filter((r) => r.method === 'POST' && UPLOAD.test(r.url) && r.status === 202).length, 2, 'a second session');
    assert.equal(seen.filter((r) => r.method === 'DELETE' && UPLOAD.test(r.url)).length, 1, 'the broken session is cancelled');
    await assertStored('lib/up-a', pushed.digest, bytes);
    recordFigure({
      area: 'client',
      item: 'blob upload (one PUT) reset after 64 KiB',
      tried: 1,
      outcome: 'new session, uploaded, digest verified by the registry',
      lost: 0,
    });
  });

  it('a chunked upload whose second PATCH is reset starts over and sends every chunk again', async () => {
    proxy.clear();
    const file = join(work, 'upload-b.bin');
    const bytes = randomBytes(SIZE);
    await writeFile(file, bytes);
    const rule = proxy.add({
      name: 'reset 2nd PATCH',
      method: 'PATCH',
      path: UPLOAD,
      authorized: true,
      nth: [2],
      fault: { kind: 'reset-request', afterBytes: 10_000 },
    });
    const before = proxy.requests.length;
    const client = await viaProxy();
    const pushed = await client
      .repository(proxy.host, 'lib/up-b')
      .pushBlob({ path: file }, { monolithicMax: 64 * 1024, chunkSize: 64 * 1024 });
    assert.equal(pushed.digest, digestOf(bytes));
    assert.equal(rule.injected, 1);
    const patches = proxy.requests.slice(before).filter((r) => r.method === 'PATCH');
    assert.equal(patches.length, 2 + 4, 'two PATCHes of the first session, four of the second');
    await assertStored('lib/up-b', pushed.digest, bytes);
    recordFigure({
      area: 'client',
      item: 'chunked upload (4 × 64 KiB), 2nd PATCH reset',
      tried: 1,
      outcome: 'new session, all chunks again, uploaded',
      lost: 0,
    });
  });

  it('503 on the final PUT once: new session; 503 every time: REGISTRY_ERROR 503 after the retries, and no blob', async () => {
    proxy.clear();
    const file = join(work, 'upload-c.bin');
    const bytes = randomBytes(32 * 1024);
    await writeFile(file, bytes);
    const once = proxy.add({
      name: '503 once',
      method: 'PUT',
      path: UPLOAD,
      authorized: true,
      times: 1,
      fault: { kind: 'status', status: 503 },
    });
    const client = await viaProxy();
    const pushed = await client.repository(proxy.host, 'lib/up-c').pushBlob({ path: file });
    assert.equal(once.injected, 1);
    await assertStored('lib/up-c', pushed.digest, bytes);

    proxy.clear();
    const other = randomBytes(32 * 1024);
    await writeFile(file, other);
    const always = proxy.add({ name: '503 always', method: 'PUT', path: UPLOAD, authorized: true, fault: { kind: 'status', status: 503 } });
    const once1 = await viaProxy({ retries: 1 });
    const r = await timed(() => once1.repository(proxy.host, 'lib/up-c').pushBlob({ path: file }, { digest: digestOf(other) }));
    assert.equal(codeOf(r.error), 'REGISTRY_ERROR', String(r.error));
    assert.equal((r.error as { status?: number }).status, 503);
    assert.equal(always.injected, 2, 'the first try and one new session (retries: 1)');
    const direct = await reg.client(reg.admin);
    try {
      assert.equal(
        await direct.repository(reg.host, 'lib/up-c').statBlob(digestOf(other)),
        undefined,
        'nothing half-written became visible',
      );
    } finally {
      await direct.close();
    }
    recordFigure({
      area: 'client',
      item: 'upload: 503 on the final PUT, once / always (retries 1)',
      tried: 3,
      outcome: 'once: new session, uploaded; always: REGISTRY_ERROR 503 after the retry, no blob visible',
      lost: 0,
    });
  });

  it('a streamed upload that is reset is a clear error and is never sent twice', async () => {
    proxy.clear();
    const bytes = randomBytes(SIZE);
    const rule = proxy.add({
      name: 'reset PUT',
      method: 'PUT',
      path: UPLOAD,
      authorized: true,
      fault: { kind: 'reset-request', afterBytes: 32 * 1024 },
    });
    const client = await viaProxy();
    const r = await timed(() =>
      client
        .repository(proxy.host, 'lib/up-d')
        .pushBlob({ stream: Readable.from([bytes]), size: bytes.length }, { digest: digestOf(bytes) }),
    );
    assert.equal(codeOf(r.error), 'REGISTRY_UNREACHABLE', String(r.error));
    assert.equal(rule.injected, 1, 'one PUT: a stream cannot be read twice');
    recordFigure({
      area: 'client',
      item: 'streamed upload (copy) reset after 32 KiB',
      tried: 1,
      outcome: 'REGISTRY_UNREACHABLE, not re-sent',
      lost: 0,
    });
  });
});

describe('timeouts', () => {
  it('a registry that never answers fails with REGISTRY_TIMEOUT after the timeout, not after 5 minutes', async () => {
    proxy.clear();
    proxy.add({ name: 'hang', method: 'GET', path: /\/manifests\//, fault: { kind: 'hang' } });
    const client = await viaProxy({ timeoutMs: 700 });
    const r = await timed(() => client.repository(proxy.host, 'lib/seed').fetchManifest('1.0.0'));
    assert.equal(codeOf(r.error), 'REGISTRY_TIMEOUT', String(r.error));
    assert.match(
      (r.error as Error).message,
      /registry 127\.0\.0\.1:\d+ sent no answer for 700 ms to pull 127\.0\.0\.1:\d+\/lib\/seed:1\.0\.0/,
    );
    // undici checks its timeouts on a coarse clock (about half a second): near 700 ms, never minutes.
    assert.ok(r.ms >= 150 && r.ms < 5000, `failed after ${r.ms} ms`);
    recordFigure({
      area: 'client',
      item: 'manifest GET never answered, timeout 700 ms',
      tried: 1,
      outcome: `REGISTRY_TIMEOUT after ${r.ms} ms`,
      lost: 0,
    });
  });

  it('a blob that stops flowing fails with REGISTRY_TIMEOUT ("stopped sending data")', async () => {
    proxy.clear();
    proxy.add({
      name: 'stall',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      fault: { kind: 'throttle', chunkBytes: 16 * 1024, intervalMs: 10_000 },
    });
    const client = await viaProxy({ timeoutMs: 700 });
    const r = await timed(() => client.repository(proxy.host, 'lib/seed').fetchBlobBytes({ digest: seedDigest, size: SIZE }, SIZE));
    assert.equal(codeOf(r.error), 'REGISTRY_TIMEOUT', String(r.error));
    assert.match((r.error as Error).message, /stopped sending data for 700 ms/);
    assert.ok(r.ms < 5000, `failed after ${r.ms} ms`);
    recordFigure({
      area: 'client',
      item: 'blob GET stalls after 16 KiB, timeout 700 ms',
      tried: 1,
      outcome: `REGISTRY_TIMEOUT after ${r.ms} ms`,
      lost: 0,
    });
  });

  it('a slow blob that keeps coming is never cut off, however long it takes in all', async () => {
    proxy.clear();
    // A gap well inside the timeout, which undici checks on a coarse clock (± half a second).
    proxy.add({
      name: 'trickle',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      fault: { kind: 'throttle', chunkBytes: 32 * 1024, intervalMs: 300 },
    });
    const client = await viaProxy({ timeoutMs: 1500 });
    const r = await timed(() => client.repository(proxy.host, 'lib/seed').fetchBlobBytes({ digest: seedDigest, size: SIZE }, SIZE));
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(digestOf(r.value!), seedDigest);
    assert.ok(r.ms > 2000, `took ${r.ms} ms: longer than the 1.5 s timeout in all`);
    recordFigure({
      area: 'client',
      item: 'blob GET trickling 32 KiB every 300 ms, timeout 1.5 s',
      tried: 1,
      outcome: `completed in ${r.ms} ms, digest verified`,
      lost: 0,
    });
  });

  it('a token service that never answers fails with REGISTRY_TIMEOUT naming the token', async () => {
    proxy.clear();
    proxy.add({ name: 'hang token', path: /^\/service\/token/, fault: { kind: 'hang' } });
    const client = await viaProxy({ timeoutMs: 700 });
    const r = await timed(() => client.repository(proxy.host, 'lib/seed').fetchManifest('1.0.0'));
    assert.equal(codeOf(r.error), 'REGISTRY_TIMEOUT', String(r.error));
    assert.match((r.error as Error).message, /sent no answer for 700 ms to get a token for 127\.0\.0\.1:\d+/);
  });
});

/** The blob is in the registry (read straight from it, not through the proxy) with exactly these bytes. */
async function assertStored(repo: string, digest: string, bytes: Buffer): Promise<void> {
  const direct = await reg.client(reg.admin);
  try {
    const got = await direct.repository(reg.host, repo).fetchBlobBytes({ digest, size: bytes.length }, bytes.length);
    assert.ok(got.equals(bytes), `${repo} holds ${digest} intact`);
  } finally {
    await direct.close();
  }
}
