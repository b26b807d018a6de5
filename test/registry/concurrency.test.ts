// Many clients at once against the embedded registry with auth: 50 charts
// signed and pushed in parallel by chartprov's push flow (each with its own
// client, login and token) all pull back verified with the digests they were
// pushed with; 50 different manifests PUT to the same tag at once all answer
// 201, the tag ends on exactly one of them, intact and with its blobs, and
// every one of them stays retrievable by digest.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create as createTar } from 'tar';
import { pullChart } from '../../src/flows/pull-chart.js';
import { pushCharts, type PushResult } from '../../src/flows/push-charts.js';
import { createSigner, type Signer } from '../../src/flows/signer.js';
import { loadVerificationKeys } from '../../src/flows/verify-charts.js';
import { startEmbedded, type Creds, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const N = 50;

let e: EmbeddedRegistry;
let dev: Creds;
let work: string;
let cleanup: () => Promise<void>;
let signer: Signer;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-concurrency-'));
  e = await startEmbedded({ projects: ['helm-charts', 'race'] });
  dev = await e.addUser('dev', { roles: { 'helm-charts': 'developer', race: 'developer' } });
  signer = await createSigner({ keyrings: [keyFile('john-secring.gpg')], keyName: 'john@example.com', env: {} });
});

after(async () => {
  await e?.stop();
  await cleanup?.();
});

/** A minimal chart archive `chart-NN-VERSION.tgz` with some unique bytes. */
async function makeChart(i: number): Promise<{ path: string; name: string; version: string }> {
  const name = `chart-${String(i).padStart(2, '0')}`;
  const version = `1.0.${i}`;
  const src = join(work, 'src', name);
  await mkdir(join(src, 'templates'), { recursive: true });
  await writeFile(
    join(src, 'Chart.yaml'),
    `apiVersion: v2\nname: ${name}\nversion: ${version}\ndescription: chart number ${i}\ntype: application\n`,
  );
  await writeFile(
    join(src, 'values.yaml'),
    `seed: ${randomBytes(16).toString('hex')}\npad: ${randomBytes(2048 * (i % 7)).toString('base64')}\n`,
  );
  await writeFile(join(src, 'templates', 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-${name}\n`);
  const path = join(work, `${name}-${version}.tgz`);
  await createTar({ cwd: join(work, 'src'), file: path, gzip: true, portable: true }, [name]);
  return { path, name, version };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('concurrent pushes to the embedded registry with auth', () => {
  it(`${N} signed charts pushed at once (one client, login and token each) all pull back verified`, async () => {
    const charts = await Promise.all(Array.from({ length: N }, (_, i) => makeChart(i)));
    const t0 = Date.now();
    const pushed = await Promise.all(
      charts.map((c) =>
        pushCharts({
          charts: [c.path],
          destination: `oci://${e.host}/helm-charts`,
          plainHttp: true,
          sign: signer,
          env: {},
          registryConfig: join(work, 'no-config.json'),
          clientOptions: { credential: { username: dev.username, password: dev.password } },
        }),
      ),
    );
    const pushMs = Date.now() - t0;
    const results = pushed.map((p) => p.results[0]!);
    const failed = results.filter((r): r is Extract<PushResult, { ok: false }> => !r.ok);
    assert.deepEqual(
      failed.map((f) => `${f.chart}: ${f.error.code} ${f.error.message}`),
      [],
    );
    const ok = results as Extract<PushResult, { ok: true }>[];
    assert.equal(new Set(ok.map((r) => r.digest)).size, N, 'every chart has its own manifest');
    for (const r of ok) assert.equal(r.provenance, 'signed');

    // Every tag serves the manifest that was pushed, byte for byte.
    const token = await e.token(dev, ...charts.map((c) => `repository:helm-charts/${c.name}:pull`));
    await Promise.all(
      ok.map(async (r) => {
        const res = await fetch(`${e.url}/v2/${r.repository}/manifests/${r.tag}`, { headers: { ...auth(token), accept: OCI_MANIFEST } });
        assert.equal(res.status, 200);
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(sha256(bytes), r.digest);
        assert.equal(res.headers.get('docker-content-digest'), r.digest);
      }),
    );

    const keys = await loadVerificationKeys([keyFile('all-pubring.gpg')]);
    const t1 = Date.now();
    const pulled = await Promise.all(
      charts.map((c, i) =>
        pullChart({
          ref: `oci://${e.host}/helm-charts/${c.name}`,
          version: c.version,
          destination: join(work, 'pulled', String(i)),
          verify: true,
          keys,
          plainHttp: true,
          env: {},
          registryConfig: join(work, 'no-config.json'),
          clientOptions: { credential: { username: dev.username, password: dev.password } },
        }),
      ),
    );
    const pullMs = Date.now() - t1;
    for (const [i, p] of pulled.entries()) {
      const c = charts[i]!;
      assert.equal(p.digest, ok[i]!.digest, `${c.name}: pulled digest`);
      assert.equal(p.version, c.version);
      assert.ok(p.verified, `${c.name} verified`);
      assert.match(p.verified.signer.userId ?? '', /John The Signer/);
      assert.deepEqual(await readFile(p.chartPath!), await readFile(c.path), `${c.name}: archive bytes`);
      assert.equal(p.verified.sha256, sha256(await readFile(c.path)).slice(7));
    }
    console.log(`${N} pushes in ${pushMs} ms, ${N} verified pulls in ${pullMs} ms`);
  });

  it(`${N} different manifests PUT to the same tag at once: all 201, the tag names one of them, intact, with its blobs`, async () => {
    const repo = 'race/same-tag';
    const token = await e.token(dev, `repository:${repo}:pull,push`);
    // Every client uploads the same config (concurrent commits of one digest) and its own layer.
    const config = Buffer.from('{"race":"shared config"}');
    const layers = Array.from({ length: N }, (_, i) => Buffer.concat([Buffer.from(`layer ${i} `), randomBytes(1024 + i * 97)]));
    const manifests = layers.map((layer, i) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
          layers: [{ mediaType: 'application/octet-stream', digest: sha256(layer), size: layer.length }],
          annotations: { client: String(i) },
        }),
      ),
    );
    const upload = async (bytes: Buffer) => {
      const res = await fetch(`${e.url}/v2/${repo}/blobs/uploads/?digest=${sha256(bytes)}`, {
        method: 'POST',
        body: bytes,
        headers: auth(token),
      });
      const text = await res.text();
      return `${res.status}${res.status === 201 ? '' : ` ${text}`}`;
    };
    const blobStatuses = await Promise.all(layers.flatMap((layer) => [upload(config), upload(layer)]));
    assert.deepEqual(
      blobStatuses.filter((s) => s !== '201'),
      [],
    );

    const t0 = Date.now();
    const puts = await Promise.all(
      manifests.map(async (bytes) => {
        const res = await fetch(`${e.url}/v2/${repo}/manifests/latest`, {
          method: 'PUT',
          body: bytes,
          headers: { ...auth(token), 'content-type': OCI_MANIFEST },
        });
        const text = await res.text();
        return { status: res.status, digest: res.headers.get('docker-content-digest'), text };
      }),
    );
    const putMs = Date.now() - t0;
    for (const [i, p] of puts.entries()) {
      assert.equal(p.status, 201, p.text);
      assert.equal(p.digest, sha256(manifests[i]!));
    }

    const head = await fetch(`${e.url}/v2/${repo}/manifests/latest`, { headers: { ...auth(token), accept: OCI_MANIFEST } });
    assert.equal(head.status, 200);
    const winner = Buffer.from(await head.arrayBuffer());
    const index = manifests.findIndex((m) => m.equals(winner));
    assert.ok(index >= 0, 'the tag holds exactly one of the manifests pushed, byte for byte');
    assert.equal(head.headers.get('docker-content-digest'), sha256(winner));
    for (const blob of [config, layers[index]!]) {
      const res = await fetch(`${e.url}/v2/${repo}/blobs/${sha256(blob)}`, { headers: auth(token) });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob);
    }
    const tags = (await (await fetch(`${e.url}/v2/${repo}/tags/list`, { headers: auth(token) })).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['latest']);

    await Promise.all(
      manifests.map(async (bytes) => {
        const res = await fetch(`${e.url}/v2/${repo}/manifests/${sha256(bytes)}`, { headers: { ...auth(token), accept: OCI_MANIFEST } });
        assert.equal(res.status, 200);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
      }),
    );
    console.log(`${N} manifest PUTs to one tag in ${putMs} ms; the tag holds client ${index}'s`);
  });
});
