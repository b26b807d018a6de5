// Referrers against registries that misbehave in the ways real ones do:
// no referrers API, a manifest with `subject` refused, a blob missing.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { attachReferrer, fallbackTag, hasReferrersApi } from '../../src/oci/referrers.js';
import { errorBody, json, makeClient, rejectsWith, send, sha256, startServer, type FakeServer } from './fake-registry.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

const subject = sha256('subject');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/vnd.example',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
    layers: [],
    subject: { mediaType: OCI_MANIFEST, digest: subject, size: 7 },
  }),
);

/** A registry without the referrers API that answers a manifest PUT with `status`/`code`. */
async function refusing(status: number, code: string): Promise<FakeServer> {
  const server = await startServer((req, res) => {
    if (req.path === '/v2/') return send(res, 200);
    if (req.path.includes('/referrers/')) return send(res, 404, '404 page not found');
    if (req.method === 'HEAD') return send(res, 404);
    if (req.method === 'PUT') return json(res, status, errorBody(code));
    return send(res, 404);
  });
  servers.push(server);
  return server;
}

describe('referrers against misbehaving registries', () => {
  test('a manifest with subject refused (400 MANIFEST_INVALID, 415) is REFERRER_REJECTED; nothing else is sent', async () => {
    for (const [status, code] of [
      [400, 'MANIFEST_INVALID'],
      [415, 'UNSUPPORTED'],
    ] as const) {
      const server = await refusing(status, code);
      const client = await makeClient();
      try {
        const repo = client.repository(server.host, 'charts/app');
        assert.equal(await hasReferrersApi(repo), false);
        await rejectsWith(attachReferrer(repo, subject, manifest), 'REFERRER_REJECTED');
        assert.equal(server.count((r) => r.path.endsWith(fallbackTag(subject))), 0, 'no fallback index written');
      } finally {
        await client.close();
      }
    }
  });

  test('a missing blob is reported as the registry said, not as a refused referrer', async () => {
    const server = await refusing(400, 'MANIFEST_BLOB_UNKNOWN');
    const client = await makeClient();
    try {
      await rejectsWith(attachReferrer(client.repository(server.host, 'charts/app'), subject, manifest), 'REGISTRY_ERROR', /MANIFEST_BLOB_UNKNOWN/);
    } finally {
      await client.close();
    }
  });
});
