// The registry request loop against fake registries: retries (429 with
// Retry-After, 502/503/504, reset connections) only where they are safe,
// redirects that keep credentials at home, error bodies turned into messages,
// and the digest checks of manifest and blob reads.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import type { RegistryClient } from '../../src/oci/client.js';
import { tempDir } from '../peers/tmp.js';
import {
  basic,
  errorBody,
  json,
  makeClient,
  rejectsWith,
  send,
  sha256,
  startServer,
  type FakeServer,
  type Handler,
} from './fake-registry.js';

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }));
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** Runs `fn` with a fake registry and a client, closing both afterwards. */
async function withRegistry(
  handler: Handler,
  fn: (server: FakeServer, client: RegistryClient) => Promise<void>,
  opts: Parameters<typeof makeClient>[0] = {},
): Promise<void> {
  const server = await startServer(handler);
  const client = await makeClient(opts);
  try {
    await fn(server, client);
  } finally {
    await client.close();
    await server.close();
  }
}

const serveManifest = (_req: unknown, res: ServerResponse): void => send(res, 200, MANIFEST, { 'content-type': MANIFEST_TYPE });

describe('retries', () => {
  it('retries a 429 after its Retry-After (1 s) and succeeds', async () => {
    let n = 0;
    await withRegistry(
      (req, res) => (++n === 1 ? json(res, 429, errorBody('TOOMANYREQUESTS'), { 'retry-after': '1' }) : serveManifest(req, res)),
      async (server, client) => {
        const started = Date.now();
        const got = await client.repository(server.host, 'charts/a').fetchManifest('1.0.0');
        assert.deepEqual(got.bytes, MANIFEST);
        assert.equal(server.count(), 2);
        assert.ok(Date.now() - started >= 900, `waited only ${Date.now() - started} ms`);
      },
    );
  });

  it('gives up on a 429 that never ends with REGISTRY_RATE_LIMITED after the retries', async () => {
    await withRegistry(
      (_req, res) => json(res, 429, errorBody('TOOMANYREQUESTS'), { 'retry-after': '0' }),
      async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('1.0.0'), 'REGISTRY_RATE_LIMITED', /429/);
        assert.equal(server.count(), 3, 'one request and two retries');
      },
      { retries: 2 },
    );
  });

  it('retries a 503 on a GET (back-off, then Retry-After) and succeeds', async () => {
    let n = 0;
    await withRegistry(
      (req, res) => {
        n++;
        if (n === 1) return send(res, 503, 'busy');
        if (n === 2) return send(res, 502, 'bad gateway', { 'retry-after': '0' });
        serveManifest(req, res);
      },
      async (server, client) => {
        const got = await client.repository(server.host, 'charts/a').fetchManifest('1.0.0');
        assert.deepEqual(got.bytes, MANIFEST);
        assert.equal(server.count(), 3);
      },
    );
  });

  it('reports a 503 that lasts as REGISTRY_ERROR with the status, after the retries', async () => {
    await withRegistry(
      (_req, res) => send(res, 503, 'Service Unavailable', { 'retry-after': '0' }),
      async (server, client) => {
        const err = await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('1.0.0'), 'REGISTRY_ERROR', /503/);
        assert.equal(err.status, 503);
        assert.equal(server.count(), 3);
      },
    );
  });

  it('does not retry a 503 on a PATCH or a POST that carries data', async () => {
    await withRegistry(
      (_req, res) => send(res, 503, 'busy', { 'retry-after': '0' }),
      async (server, client) => {
        for (const method of ['PATCH', 'POST'] as const) {
          const before = server.count();
          const err = await rejectsWith(
            client.http.send({ method, url: new URL(`${server.origin}/v2/a/blobs/uploads/x`), body: 'data', what: 'upload' }),
            'REGISTRY_ERROR',
          );
          assert.equal(err.status, 503);
          assert.equal(server.count() - before, 1, `${method} was sent again`);
        }
      },
    );
  });

  it('retries a GET whose connection is reset before the answer', async () => {
    let n = 0;
    await withRegistry(
      (req, res, raw) => {
        if (++n === 1) return void raw.socket.destroy();
        serveManifest(req, res);
      },
      async (server, client) => {
        const got = await client.repository(server.host, 'charts/a').fetchManifest('1.0.0');
        assert.deepEqual(got.bytes, MANIFEST);
        assert.equal(server.count(), 2);
      },
    );
  });

  it('retries a GET whose connection is reset in the middle of the response body', async () => {
    let n = 0;
    await withRegistry(
      (req, res, raw) => {
        if (++n === 1) {
          res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'content-length': MANIFEST.length });
          res.write(MANIFEST.subarray(0, 10));
          setTimeout(() => raw.socket.destroy(), 20);
          return;
        }
        serveManifest(req, res);
      },
      async (server, client) => {
        const got = await client.repository(server.host, 'charts/a').fetchManifest('1.0.0');
        assert.deepEqual(got.bytes, MANIFEST);
        assert.equal(server.count(), 2);
      },
    );
  });

  it('does not retry a reset PATCH, and reports REGISTRY_UNREACHABLE', async () => {
    await withRegistry(
      (_req, _res, raw) => void raw.socket.destroy(),
      async (server, client) => {
        await rejectsWith(
          client.http.send({ method: 'PATCH', url: new URL(`${server.origin}/v2/a/blobs/uploads/x`), body: 'data', what: 'upload' }),
          'REGISTRY_UNREACHABLE',
          /reset|closed/,
        );
        assert.equal(server.count(), 1);
      },
    );
  });
});

describe('redirects', () => {
  const blob = Buffer.from('blob content behind a redirect');
  const digest = sha256(blob);
  const auth = basic('alice', 's3cret-pw');
  let storage: FakeServer;

  before(async () => {
    // Blob storage on another origin: a host name (localhost) the registry (127.0.0.1) does not share.
    storage = await startServer((_req, res) => send(res, 200, blob, { 'content-type': 'application/octet-stream' }));
  });
  after(() => storage.close());

  /** A Basic-auth registry that redirects blob GETs to `target(server)`. */
  const redirecting =
    (target: (host: string) => string): Handler =>
    (req, res, raw) => {
      if (req.headers.authorization !== auth) return send(res, 401, '', { 'www-authenticate': 'Basic realm="fake"' });
      if (req.path.startsWith('/storage/')) return send(res, 200, blob);
      send(res, 307, '', { location: target(raw.headers.host!) });
    };

  it('sends no Authorization to blob storage on another host, while the registry gets it', async () => {
    await withRegistry(
      redirecting(() => `http://localhost:${storage.port}/bucket/${digest}?sig=1`),
      async (server, client) => {
        const before = storage.count();
        const got = await client.repository(server.host, 'charts/a').fetchBlobBytes({ digest, size: blob.length }, 1024);
        assert.deepEqual(got, blob);
        const hops = storage.requests.slice(before);
        assert.equal(hops.length, 1);
        assert.equal(hops[0]!.headers.authorization, undefined, 'credentials leaked to another origin');
        assert.equal(hops[0]!.url, `/bucket/${digest}?sig=1`);
        assert.equal(server.requests.at(-1)!.headers.authorization, auth);
      },
      { credential: { username: 'alice', password: 's3cret-pw' } },
    );
  });

  it('sends no Authorization to another port of the same host', async () => {
    await withRegistry(
      redirecting(() => `http://127.0.0.1:${storage.port}/bucket/${digest}`),
      async (server, client) => {
        const before = storage.count();
        await client.repository(server.host, 'charts/a').fetchBlobBytes({ digest }, 1024);
        assert.equal(storage.requests.slice(before)[0]!.headers.authorization, undefined);
      },
      { credential: { username: 'alice', password: 's3cret-pw' } },
    );
  });

  it('keeps the Authorization on a redirect to the same origin', async () => {
    await withRegistry(
      redirecting((host) => `http://${host}/storage/${digest}`),
      async (server, client) => {
        const got = await client.repository(server.host, 'charts/a').fetchBlobBytes({ digest }, 1024);
        assert.deepEqual(got, blob);
        const last = server.requests.at(-1)!;
        assert.equal(last.path, `/storage/${digest}`);
        assert.equal(last.headers.authorization, auth);
        // 401, then authorized GET (307), then the same-origin hop, all without another challenge.
        assert.equal(
          server.count((r) => r.path.startsWith('/storage/')),
          1,
        );
        assert.equal(server.count(), 3);
      },
      { credential: { username: 'alice', password: 's3cret-pw' } },
    );
  });
});

describe('error bodies', () => {
  it('turns a 403 into REGISTRY_DENIED with the decoded {"errors":[…]} message', async () => {
    await withRegistry(
      (_req, res) => json(res, 403, errorBody('DENIED', 'requested access to the resource is denied')),
      async (server, client) => {
        await rejectsWith(
          client.repository(server.host, 'charts/a').fetchManifest('1.0.0'),
          'REGISTRY_DENIED',
          /DENIED: requested access to the resource is denied/,
        );
      },
    );
  });

  it('puts every decoded error of a 4xx/5xx body into the REGISTRY_ERROR message', async () => {
    await withRegistry(
      (_req, res) =>
        json(res, 400, {
          errors: [
            { code: 'MANIFEST_INVALID', message: 'manifest invalid' },
            { code: 'SIZE_INVALID', detail: { size: 3 } },
          ],
        }),
      async (server, client) => {
        const err = await rejectsWith(
          client.repository(server.host, 'charts/a').fetchManifest('1.0.0'),
          'REGISTRY_ERROR',
          /answered 400 to pull 127\.0\.0\.1:\d+\/charts\/a:1\.0\.0: MANIFEST_INVALID: manifest invalid; SIZE_INVALID$/,
        );
        assert.equal(err.status, 400);
      },
    );
  });

  it('shortens an HTML error page to its text and reports a 500 as REGISTRY_ERROR with the status', async () => {
    const html = `<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>
      <h1>Internal   Server Error</h1>\n<p>${'The proxy failed to reach the upstream. '.repeat(20)}</p></body></html>`;
    await withRegistry(
      (_req, res) => send(res, 500, html, { 'content-type': 'text/html' }),
      async (server, client) => {
        const err = await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('1.0.0'), 'REGISTRY_ERROR', /answered 500/);
        assert.equal(err.status, 500);
        assert.equal(server.count(), 1, 'a 500 is not retried');
        assert.doesNotMatch(err.message, /[<>\n]/);
        assert.match(err.message, /: 500 Internal Server Error Internal Server Error The proxy failed/);
        assert.match(err.message, /…$/);
        assert.ok(err.message.length < 320, `message is ${err.message.length} characters`);
      },
    );
  });

  it('reports a HEAD 403 (no body) as REGISTRY_DENIED', async () => {
    await withRegistry(
      (_req, res) => send(res, 403),
      async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/a').statBlob(sha256('x')), 'REGISTRY_DENIED');
      },
    );
  });
});

describe('manifests and tags', () => {
  it('follows Link rel="next" across tag list pages', async () => {
    const pages: Record<string, { tags: string[]; next?: string }> = {
      '': { tags: ['a', 'b'], next: '/v2/charts/x/tags/list?n=2&last=b' },
      b: { tags: ['c', 'd'], next: '/v2/charts/x/tags/list?n=2&last=d' },
      d: { tags: ['e'] },
    };
    await withRegistry(
      (req, res) => {
        const page = pages[req.query.get('last') ?? '']!;
        json(res, 200, { name: 'charts/x', tags: page.tags }, page.next ? { link: `<${page.next}>; rel="next"` } : {});
      },
      async (server, client) => {
        assert.deepEqual(await client.repository(server.host, 'charts/x').listTags(), ['a', 'b', 'c', 'd', 'e']);
        assert.deepEqual(
          server.requests.map((r) => r.url),
          ['/v2/charts/x/tags/list?n=1000', '/v2/charts/x/tags/list?n=2&last=b', '/v2/charts/x/tags/list?n=2&last=d'],
        );
      },
    );
  });

  it('reports a tag list 404 NAME_UNKNOWN as CHART_NOT_FOUND', async () => {
    await withRegistry(
      (_req, res) => json(res, 404, errorBody('NAME_UNKNOWN', 'repository name not known to registry')),
      async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/x').listTags(), 'CHART_NOT_FOUND');
      },
    );
  });

  it('fetches a manifest by digest when the content matches', async () => {
    const digest = sha256(MANIFEST);
    await withRegistry(serveManifest, async (server, client) => {
      const got = await client.repository(server.host, 'charts/a').fetchManifest(digest);
      assert.equal(got.digest, digest);
      assert.equal(got.mediaType, MANIFEST_TYPE);
      assert.equal(server.requests[0]!.path, `/v2/charts/a/manifests/${digest}`);
      assert.match(String(server.requests[0]!.headers.accept), /application\/vnd\.oci\.image\.manifest\.v1\+json/);
    });
  });

  it('rejects a manifest fetched by digest whose content is different with DIGEST_MISMATCH', async () => {
    const digest = sha256('some other manifest');
    await withRegistry(serveManifest, async (server, client) => {
      await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest(digest), 'DIGEST_MISMATCH', /does not match its digest/);
    });
  });

  it('rejects a manifest whose Docker-Content-Digest disagrees with its content', async () => {
    await withRegistry(
      (_req, res) => send(res, 200, MANIFEST, { 'content-type': MANIFEST_TYPE, 'docker-content-digest': sha256('else') }),
      async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('1.0.0'), 'DIGEST_MISMATCH', /registry says/);
      },
    );
  });

  it('refuses a manifest larger than 4 MiB with REGISTRY_ERROR', async () => {
    await withRegistry(
      (_req, res) => send(res, 200, Buffer.alloc(4 * 1024 * 1024 + 1, 32), { 'content-type': MANIFEST_TYPE }),
      async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('1.0.0'), 'REGISTRY_ERROR', /larger than 4194304 bytes/);
      },
    );
  });

  it('maps a manifest 404 NAME_UNKNOWN to CHART_NOT_FOUND and MANIFEST_UNKNOWN to VERSION_NOT_FOUND', async () => {
    await withRegistry(
      (req, res) =>
        req.path.includes('/missing-repo/')
          ? json(res, 404, errorBody('NAME_UNKNOWN', 'repository name not known to registry'))
          : json(res, 404, errorBody('MANIFEST_UNKNOWN', 'manifest unknown')),
      async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/missing-repo').fetchManifest('1.0.0'), 'CHART_NOT_FOUND');
        await rejectsWith(client.repository(server.host, 'charts/a').fetchManifest('9.9.9'), 'VERSION_NOT_FOUND', /charts\/a:9\.9\.9/);
      },
    );
  });
});

describe('blob downloads', () => {
  const good = Buffer.from('the real blob');
  const digest = sha256(good);
  const tampered: Handler = (_req, res) => send(res, 200, 'the fake blob');

  it('fails openBlob with DIGEST_MISMATCH when the content does not hash to the digest', async () => {
    await withRegistry(tampered, async (server, client) => {
      const stream = await client.repository(server.host, 'charts/a').openBlob({ digest, size: good.length });
      const err = await rejectsWith((async () => void (await stream.toArray()))(), 'DIGEST_MISMATCH', /content hashes to sha256:/);
      assert.ok(!err.message.includes('fake blob'));
    });
  });

  it('fails fetchBlobBytes with DIGEST_MISMATCH', async () => {
    await withRegistry(tampered, async (server, client) => {
      await rejectsWith(client.repository(server.host, 'charts/a').fetchBlobBytes({ digest }, 1024), 'DIGEST_MISMATCH');
    });
  });

  it('fails with DIGEST_MISMATCH, and nothing else, when Content-Length differs from the descriptor size', async () => {
    await withRegistry(tampered, async (server, client) => {
      await rejectsWith(
        client.repository(server.host, 'charts/a').fetchBlobBytes({ digest, size: 3 }, 1024),
        'DIGEST_MISMATCH',
        /is 13 bytes, but its descriptor says 3/,
      );
      // The aborted body errors on a later tick: stay in this test until it has.
      await sleep(50);
    });
  });

  it('aborts the download of a blob that grows past maxBytes, so the client can still close', async () => {
    const server = await startServer((_req, res) => send(res, 200, Buffer.alloc(8 * 1024 * 1024, 1)));
    const agent = new Agent();
    const client = await makeClient({ dispatcher: agent });
    try {
      await rejectsWith(
        client.repository(server.host, 'charts/a').fetchBlobBytes({ digest }, 1024),
        'DIGEST_MISMATCH',
        /more than the 1024 bytes/,
      );
      const closed = await Promise.race([agent.close().then(() => 'closed'), sleep(1000).then(() => 'still open after 1 s')]);
      assert.equal(closed, 'closed');
    } finally {
      await agent.destroy();
      await server.close();
    }
  });

  it('leaves neither the file nor a temp file when fetchBlobToFile gets bad content', async () => {
    const { dir, cleanup } = await tempDir('chartprov-http-');
    try {
      await withRegistry(tampered, async (server, client) => {
        await rejectsWith(client.repository(server.host, 'charts/a').fetchBlobToFile({ digest }, join(dir, 'a.tgz')), 'DIGEST_MISMATCH');
        assert.deepEqual(await readdir(dir), []);
      });
    } finally {
      await cleanup();
    }
  });

  it('writes the file when the content matches', async () => {
    const { dir, cleanup } = await tempDir('chartprov-http-');
    try {
      await withRegistry(
        (_req, res) => send(res, 200, good),
        async (server, client) => {
          await client.repository(server.host, 'charts/a').fetchBlobToFile({ digest, size: good.length }, join(dir, 'a.tgz'));
          assert.deepEqual(await readdir(dir), ['a.tgz']);
          assert.deepEqual(await readFile(join(dir, 'a.tgz')), good);
        },
      );
    } finally {
      await cleanup();
    }
  });

  it('reports a blob download cut off by a reset connection as REGISTRY_UNREACHABLE, not as a file write failure', async () => {
    const { dir, cleanup } = await tempDir('chartprov-http-');
    try {
      await withRegistry(
        (_req, res, raw) => {
          res.writeHead(200, { 'content-length': good.length });
          res.write(good.subarray(0, 4));
          setTimeout(() => raw.socket.destroy(), 20);
        },
        async (server, client) => {
          const err = await rejectsWith(
            client.repository(server.host, 'charts/a').fetchBlobToFile({ digest, size: good.length }, join(dir, 'a.tgz')),
            'REGISTRY_UNREACHABLE',
          );
          assert.deepEqual(await readdir(dir), [], String(err));
        },
      );
    } finally {
      await cleanup();
    }
  });
});
