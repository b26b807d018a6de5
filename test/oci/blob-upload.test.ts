// Blob upload against an in-memory fake registry: HEAD shortcut, cross-repo
// mount (201) and its fallback (202), one PUT for small blobs, PATCH chunks
// with Content-Range for large files, one streamed PATCH for a stream of
// unknown digest, and what happens when the registry refuses.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { RegistryClient } from '../../src/oci/client.js';
import { tempDir } from '../peers/tmp.js';
import {
  makeClient,
  rejectsWith,
  send,
  sha256,
  startServer,
  uploadRegistry,
  type FakeServer,
  type Handler,
  type Recorded,
  type UploadRegistryOptions,
} from './fake-registry.js';

const REPO = 'charts/hello';

async function withUploads(
  opts: UploadRegistryOptions & { override?: (...args: Parameters<Handler>) => boolean },
  fn: (server: FakeServer, client: RegistryClient, blobs: Map<string, Buffer>) => Promise<void>,
): Promise<void> {
  const { handler, blobs } = uploadRegistry(opts);
  const server = await startServer((req, res, raw) => (opts.override?.(req, res, raw) ? undefined : handler(req, res, raw)));
  const client = await makeClient();
  try {
    await fn(server, client, blobs);
  } finally {
    await client.close();
    await server.close();
  }
}

const steps = (server: FakeServer) => server.requests.map((r) => r.method);
const isUpload = (r: Recorded) => r.path.includes('/blobs/uploads/');

describe('pushBlob', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir('chartprov-upload-')));
  after(() => cleanup());

  it('a registry that stores a blob sent with the POST gets small blobs in one request; one that does not is asked once', async () => {
    const one = Buffer.from('config');
    const two = Buffer.from('provenance');
    await withUploads({ singlePost: true }, async (server, client, blobs) => {
      const repo = client.repository(server.host, REPO);
      assert.equal((await repo.pushBlob({ bytes: one }, { digest: sha256(one), assumeAbsent: true })).how, 'uploaded');
      assert.equal((await repo.pushBlob({ bytes: two }, { digest: sha256(two), assumeAbsent: true })).how, 'uploaded');
      assert.deepEqual(steps(server), ['POST', 'POST']);
      assert.deepEqual(
        server.requests.map((r) => r.body.toString()),
        ['config', 'provenance'],
      );
      assert.deepEqual(blobs.get(`${REPO}@${sha256(two)}`), two);
    });
    await withUploads({}, async (server, client, blobs) => {
      const repo = client.repository(server.host, REPO);
      await repo.pushBlob({ bytes: one }, { digest: sha256(one), assumeAbsent: true });
      await repo.pushBlob({ bytes: two }, { digest: sha256(two), assumeAbsent: true });
      // The first POST carried the bytes and was answered 202: from then on, the ordinary way.
      assert.deepEqual(steps(server), ['POST', 'PUT', 'POST', 'PUT']);
      assert.deepEqual(
        server.requests.map((r) => r.body.length),
        [one.length, one.length, 0, two.length],
      );
      assert.deepEqual(blobs.get(`${REPO}@${sha256(one)}`), one);
      assert.deepEqual(blobs.get(`${REPO}@${sha256(two)}`), two);
    });
  });

  it('bytes that do not hash to the digest given are refused before anything is sent', async () => {
    await withUploads({ singlePost: true }, async (server, client) => {
      await rejectsWith(
        client.repository(server.host, REPO).pushBlob({ bytes: Buffer.from('a') }, { digest: sha256('b'), assumeAbsent: true }),
        'DIGEST_MISMATCH',
      );
      assert.equal(server.requests.length, 0);
    });
  });

  it('uploads a small blob with POST then one PUT ?digest= appended to a Location that has a query', async () => {
    const bytes = Buffer.from('a small chart layer');
    const digest = sha256(bytes);
    await withUploads({ stateQuery: '_state=abc%2Fdef&x=1' }, async (server, client, blobs) => {
      const pushed = await client.repository(server.host, REPO).pushBlob({ bytes });
      assert.deepEqual(pushed, { digest, size: bytes.length, how: 'uploaded' });
      assert.deepEqual(steps(server), ['HEAD', 'POST', 'PUT']);
      const put = server.requests[2]!;
      assert.match(put.url, new RegExp(`^/v2/${REPO}/blobs/uploads/[0-9a-f-]+\\?_state=abc%2Fdef&x=1&digest=sha256%3A[0-9a-f]{64}$`));
      assert.equal(put.query.get('digest'), digest);
      assert.deepEqual(put.body, bytes);
      assert.equal(put.headers['content-length'], String(bytes.length));
      assert.equal(put.headers['content-type'], 'application/octet-stream');
      assert.deepEqual(blobs.get(`${REPO}@${digest}`), bytes);
    });
  });

  it('resolves an absolute upload Location too', async () => {
    const bytes = Buffer.from('absolute location');
    await withUploads({ absoluteLocation: true }, async (server, client) => {
      await client.repository(server.host, REPO).pushBlob({ bytes });
      assert.deepEqual(steps(server), ['HEAD', 'POST', 'PUT']);
      assert.equal(server.requests[2]!.query.get('digest'), sha256(bytes));
    });
  });

  it('uploads nothing when HEAD says the registry has the blob', async () => {
    const bytes = Buffer.from('already there');
    const digest = sha256(bytes);
    await withUploads({ blobs: new Map([[`${REPO}@${digest}`, bytes]]) }, async (server, client) => {
      const pushed = await client.repository(server.host, REPO).pushBlob({ bytes });
      assert.deepEqual(pushed, { digest, size: bytes.length, how: 'exists' });
      assert.deepEqual(steps(server), ['HEAD']);
    });
  });

  it('mounts from another repository when the registry answers the mount POST with 201', async () => {
    const bytes = Buffer.from('in another repository');
    const digest = sha256(bytes);
    await withUploads({ blobs: new Map([[`charts/other@${digest}`, bytes]]) }, async (server, client, blobs) => {
      const pushed = await client.repository(server.host, REPO).pushBlob({ bytes }, { mountFrom: [REPO, 'charts/other'] });
      assert.deepEqual(pushed, { digest, size: bytes.length, how: 'mounted' });
      assert.deepEqual(steps(server), ['HEAD', 'POST']);
      const post = server.requests[1]!;
      assert.equal(post.query.get('mount'), digest);
      assert.equal(post.query.get('from'), 'charts/other');
      assert.equal(post.body.length, 0);
      assert.ok(blobs.has(`${REPO}@${digest}`));
    });
  });

  it('falls back to uploading at the Location of a mount answered 202', async () => {
    const bytes = Buffer.from('not mountable');
    const digest = sha256(bytes);
    await withUploads({ blobs: new Map([[`charts/other@${digest}`, bytes]]), mountable: () => false }, async (server, client, blobs) => {
      const pushed = await client.repository(server.host, REPO).pushBlob({ bytes }, { mountFrom: ['charts/other'] });
      assert.equal(pushed.how, 'uploaded');
      assert.deepEqual(steps(server), ['HEAD', 'POST', 'PUT']);
      assert.equal(server.requests[1]!.query.get('mount'), digest);
      assert.deepEqual(blobs.get(`${REPO}@${digest}`), bytes);
    });
  });

  it('uploads a large file in PATCH chunks with Content-Range and Content-Length, then a PUT ?digest= without body', async () => {
    const data = randomBytes(10_000);
    const path = join(dir, 'large.bin');
    await writeFile(path, data);
    await withUploads({}, async (server, client, blobs) => {
      const progress: number[] = [];
      const pushed = await client
        .repository(server.host, REPO)
        .pushBlob({ path }, { monolithicMax: 1024, chunkSize: 4096, onProgress: (n) => progress.push(n) });
      assert.deepEqual(pushed, { digest: sha256(data), size: data.length, how: 'uploaded' });
      assert.deepEqual(steps(server), ['POST', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
      const patches = server.requests.filter((r) => r.method === 'PATCH');
      assert.deepEqual(
        patches.map((r) => [r.headers['content-range'], r.headers['content-length'], r.body.length]),
        [
          ['0-4095', '4096', 4096],
          ['4096-8191', '4096', 4096],
          ['8192-9999', '1808', 1808],
        ],
      );
      const put = server.requests.at(-1)!;
      assert.equal(put.query.get('digest'), sha256(data));
      assert.equal(put.body.length, 0);
      assert.deepEqual(blobs.get(`${REPO}@${sha256(data)}`), data);
      assert.equal(progress.at(-1), data.length);
    });
  });

  it('hashes a small file of unknown digest first and uploads it in one PUT', async () => {
    const data = randomBytes(500);
    const path = join(dir, 'small.bin');
    await writeFile(path, data);
    await withUploads({}, async (server, client) => {
      const pushed = await client.repository(server.host, REPO).pushBlob({ path }, { monolithicMax: 1024 });
      assert.equal(pushed.digest, sha256(data));
      assert.deepEqual(steps(server), ['POST', 'PUT']);
      assert.deepEqual(server.requests[1]!.body, data);
    });
  });

  it('sends a stream of unknown digest in one streamed PATCH, then PUT with the computed digest', async () => {
    const parts = [randomBytes(3000), randomBytes(3000), randomBytes(100)];
    const data = Buffer.concat(parts);
    await withUploads({}, async (server, client, blobs) => {
      const pushed = await client.repository(server.host, REPO).pushBlob({ stream: Readable.from(parts) });
      assert.deepEqual(pushed, { digest: sha256(data), size: data.length, how: 'uploaded' });
      assert.deepEqual(steps(server), ['POST', 'PATCH', 'PUT']);
      const patch = server.requests[1]!;
      assert.equal(patch.headers['content-range'], undefined);
      assert.deepEqual(patch.body, data);
      const put = server.requests[2]!;
      assert.equal(put.query.get('digest'), sha256(data));
      assert.equal(put.body.length, 0);
      assert.ok(blobs.has(`${REPO}@${sha256(data)}`));
    });
  });

  it('reports a PUT answered 400 DIGEST_INVALID as DIGEST_MISMATCH', async () => {
    await withUploads({ refuseDigest: true }, async (server, client) => {
      await rejectsWith(
        client.repository(server.host, REPO).pushBlob({ bytes: Buffer.from('x') }),
        'DIGEST_MISMATCH',
        /registry computed another digest/,
      );
    });
  });

  it('does not retry a PATCH or the final PUT answered 503', async () => {
    for (const method of ['PATCH', 'PUT']) {
      await withUploads(
        { override: (req, res) => req.method === method && (send(res, 503, 'busy', { 'retry-after': '0' }), true) },
        async (server, client) => {
          const err = await rejectsWith(
            client.repository(server.host, REPO).pushBlob({ stream: Readable.from([Buffer.from('streamed')]) }),
            'REGISTRY_ERROR',
            /503/,
          );
          assert.equal(err.status, 503);
          assert.equal(
            server.count((r) => r.method === method),
            1,
            `${method} was sent again`,
          );
        },
      );
    }
  });

  it('retries the bodiless POST that opens an upload session on a 503 (safe: it sends no data)', async () => {
    let failed = false;
    await withUploads(
      {
        override: (req, res) => {
          if (req.method !== 'POST' || failed) return false;
          failed = true;
          send(res, 503, 'busy', { 'retry-after': '0' });
          return true;
        },
      },
      async (server, client) => {
        await client.repository(server.host, REPO).pushBlob({ bytes: Buffer.from('x') });
        assert.deepEqual(steps(server), ['HEAD', 'POST', 'POST', 'PUT']);
        assert.equal(server.count(isUpload), 3);
      },
    );
  });
});
