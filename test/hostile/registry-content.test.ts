// Hostile content sent to the embedded registry, run as a child process so
// its peak RSS (VmHWM) is its own: a 128 MiB blob whose digest is a lie, and
// 4 MiB manifests built to cost (25,000 layer references, JSON nested 1.5
// million deep), the last two also pulled by the CLI. Faults, auth and limits
// are tested elsewhere (test/registry/); this is content validation only.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { digestOf } from '../../src/oci/digest.js';
import { parseHelmManifest } from '../../src/oci/helm-manifest-parse.js';
import { HELM_CHART_LAYER, HELM_CONFIG, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { ADMIN_PASSWORD, fetchToken, spawnEmbedded, startEmbedded, type SpawnedRegistry } from '../peers/embedded.js';
import { recordFigure } from '../peers/figures.js';
import { tempDir } from '../peers/tmp.js';
import { CHART_YAML, chartYamlEntry, tgz } from './corpus.js';
import { RSS_BOUND_MIB, inSandbox, judge, makeSandbox, resetTarget, type Sandbox } from './harness.js';

const REPO = 'hostile/content';
const admin = { username: 'admin', password: ADMIN_PASSWORD };

/** Peak RSS of a live process, MiB, from /proc (the registry child keeps running). */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  assert.ok(kib > 0, 'VmHWM in /proc/<pid>/status');
  return Math.round(kib / 1024);
}

/** Bytes under `dir`, recursively. */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

describe('hostile content → the embedded registry', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  let reg: SpawnedRegistry;
  let sb: Sandbox;
  let token: string;
  let config: { digest: string; size: number };
  let layer: { digest: string; size: number };

  const v2 = (path: string, init: RequestInit & { duplex?: 'half' } = {}) =>
    fetch(`${reg.url}/v2/${REPO}/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const putBlob = async (bytes: Buffer) => {
    const digest = digestOf(bytes);
    const res = await v2(`blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
    assert.equal(res.status, 201, await res.text());
    return { digest, size: bytes.length };
  };
  const putManifest = (tag: string, body: string | Buffer) =>
    v2(`manifests/${tag}`, { method: 'PUT', body, headers: { 'content-type': OCI_MANIFEST } });

  before(async () => {
    [data, sb] = await Promise.all([tempDir('chartprov-hostile-registry-'), makeSandbox()]);
    // The project is made in-process, then the data folder is served by a child.
    const setup = await startEmbedded({ dataDir: data.dir, projects: ['hostile'] });
    await setup.stop();
    reg = await spawnEmbedded({ dataDir: data.dir });
    token = await fetchToken(reg.url, admin, [`repository:${REPO}:pull,push`]);
    config = await putBlob(Buffer.from(JSON.stringify({ name: 'evil', version: '1.0.0', apiVersion: 'v2' })));
    layer = await putBlob(tgz([chartYamlEntry(CHART_YAML)]));
  });
  after(async () => {
    await reg?.stop();
    await data?.cleanup();
    await sb?.cleanup();
  });

  it('a 128 MiB blob uploaded under a digest it does not have: 400 DIGEST_INVALID, nothing kept, memory flat', async () => {
    const size = 128 << 20;
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    const real = createHash('sha256');
    for (let i = 0; i < 128; i++) real.update(chunk);
    const lie = digestOf('something else entirely');
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 128; i++) yield chunk;
      })(),
    );
    const res = await v2(`blobs/uploads/?digest=${lie}`, {
      method: 'POST',
      body: Readable.toWeb(body) as ReadableStream,
      duplex: 'half',
      headers: { 'content-length': String(size) },
    });
    const answer = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(res.status, 400);
    assert.equal(answer.errors[0]!.code, 'DIGEST_INVALID');
    for (const d of [lie, `sha256:${real.digest('hex')}`]) assert.equal((await v2(`blobs/${d}`, { method: 'HEAD' })).status, 404);
    const kept = await du(data.dir);
    const rss = await peakRssMiB(reg.pid);
    recordFigure({
      area: 'inputs',
      item: '128 MiB blob under a wrong digest → embedded registry',
      tried: 1,
      outcome: 'refused DIGEST_INVALID',
      lost: kept > 16 << 20 ? 1 : 0,
      measures: { peakRssMiB: rss, keptBytes: kept },
    });
    assert.ok(kept < 16 << 20, `the refused upload left ${kept} bytes in the data folder`);
    assert.ok(rss < RSS_BOUND_MIB, `registry peak RSS ${rss} MiB`);
  });

  it('a 4 MiB manifest of 25,000 layer references: stored as distribution does, and refused by pull', async () => {
    const one = { mediaType: HELM_CHART_LAYER, digest: layer.digest, size: layer.size };
    const count = Math.floor(((4 << 20) - 1024) / (JSON.stringify(one).length + 1));
    const layers = Array.from({ length: count }, () => one);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: HELM_CONFIG, ...config }, layers });
    assert.ok(manifest.length < 4 << 20 && manifest.length > 4 << 19 && count > 20_000, `${count} layers, ${manifest.length} bytes`);
    const started = Date.now();
    const res = await putManifest('1.0.0', manifest);
    assert.equal(res.status, 201, await res.text());
    const ms = Date.now() - started;
    const rss = await peakRssMiB(reg.pid);
    recordFigure({
      area: 'inputs',
      item: `manifest of ${count} layer references → embedded registry`,
      tried: 1,
      outcome: `stored in ${ms} ms`,
      lost: 0,
      measures: { peakRssMiB: rss },
    });
    assert.ok(rss < RSS_BOUND_MIB, `registry peak RSS ${rss} MiB`);

    await resetTarget(sb);
    const { run, lost } = await inSandbox(
      sb,
      ['pull', `oci://${reg.host}/${REPO}`, '--version', '1.0.0', '--untar', '-d', sb.target, '--plain-http', '-o', 'json'],
      {
        env: { CHARTPROV_USERNAME: admin.username, CHARTPROV_PASSWORD: admin.password },
      },
    );
    judge({ item: `manifest of ${count} chart layers → pull --untar`, run, code: 'NOT_A_CHART_ARTIFACT', lost });
    assert.deepEqual(await readdir(sb.target), []);
  });

  it("a 4 MiB manifest nested 1.5 million deep in an annotation: refused by the registry and by the client's manifest parser", async () => {
    const depth = 1_500_000;
    const manifest = `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${JSON.stringify({ mediaType: HELM_CONFIG, ...config })},"layers":[${JSON.stringify({ mediaType: HELM_CHART_LAYER, ...layer })}],"annotations":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const res = await putManifest('2.0.0', manifest);
    const status = res.status;
    const text = await res.text();
    const rss = await peakRssMiB(reg.pid);
    recordFigure({
      area: 'inputs',
      item: 'manifest nested 1.5 million deep → embedded registry',
      tried: 1,
      outcome: `HTTP ${status}`,
      lost: 0,
      measures: { peakRssMiB: rss },
    });
    // Refused before parsing, as Go's decoder refuses more than 10 000 levels (distribution, Helm).
    assert.equal(status, 400, text);
    assert.match(text, /MANIFEST_INVALID.*nested more than 10000 levels/);
    assert.ok(rss < RSS_BOUND_MIB, `registry peak RSS ${rss} MiB`);
    // The client refuses the same from a registry that stores it, without building it in memory.
    assert.throws(
      () => parseHelmManifest(manifest),
      (err: unknown) => (err as { code?: string }).code === 'NOT_A_CHART_ARTIFACT',
    );
    recordFigure({
      area: 'inputs',
      item: 'manifest nested 1.5 million deep → client manifest parser',
      tried: 1,
      outcome: 'refused NOT_A_CHART_ARTIFACT',
      lost: 0,
    });
  });
});
