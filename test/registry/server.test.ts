import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { RegistryClient } from '../../src/oci/client.js';
import { digestOf } from '../../src/oci/digest.js';
import { HELM_CONFIG, OCI_EMPTY_CONFIG, OCI_INDEX, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { startRegistry, type RunningRegistry } from '../../src/registry/server.js';
import { goldens, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';

let reg: RunningRegistry;
let client: RegistryClient;
let work: string;
let cleanup: () => Promise<void>;
const logLines: string[] = [];

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-registry-'));
  reg = await startRegistry({ dataDir: join(work, 'data'), auth: 'none', log: (l) => logLines.push(l) });
  client = await RegistryClient.create({ plainHttp: true });
});

after(async () => {
  await reg?.close();
  await cleanup?.();
});

function u(path: string): string {
  return `${reg.url}${path}`;
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string }[] };
  return body.errors[0]!.code;
}

async function pushBytes(name: string, bytes: Buffer): Promise<string> {
  const res = await fetch(u(`/v2/${name}/blobs/uploads/?digest=${digestOf(bytes)}`), { method: 'POST', body: bytes });
  assert.equal(res.status, 201);
  return digestOf(bytes);
}

function manifestOf(config: { digest: string; size: number; mediaType: string }, layers: { digest: string; size: number }[], extra = {}) {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: layers.map((l) => ({ mediaType: 'application/octet-stream', ...l })),
      ...extra,
    }),
  );
}

describe('registry server', () => {
  test('GET /v2/ answers with the API version and binds to loopback', async () => {
    const res = await fetch(u('/v2/'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
    assert.ok(logLines.some((l) => /^GET \/v2\/ 200 [\d.]+ms$/.test(l)));
  });

  test('blobs: monolithic, chunked, streamed, mount, range reads', async () => {
    const repo = client.repository(reg.host, 'team/app');
    const small = Buffer.from('hello registry');
    const pushed = await repo.pushBlob({ bytes: small });
    assert.equal(pushed.digest, digestOf(small));
    const back = Buffer.concat(await (await repo.openBlob({ digest: pushed.digest })).toArray());
    assert.deepEqual(back, small);

    // chunked: a file larger than monolithicMax, PATCHed in chunks
    const big = Buffer.alloc(300_000, 7);
    big.write('chunked payload', 1000);
    const file = join(work, 'big.bin');
    await writeFile(file, big);
    const chunked = await repo.pushBlob({ path: file }, { monolithicMax: 1000, chunkSize: 64 * 1024, assumeAbsent: true });
    assert.equal(chunked.digest, digestOf(big));
    assert.equal(chunked.how, 'uploaded');

    // streamed: unknown length
    const streamedBytes = Buffer.from('x'.repeat(70_000));
    const streamed = await repo.pushBlob({ stream: Readable.from([streamedBytes.subarray(0, 1000), streamedBytes.subarray(1000)]) });
    assert.equal(streamed.digest, digestOf(streamedBytes));

    // raw blob HEAD/GET
    const head = await fetch(u(`/v2/team/app/blobs/${chunked.digest}`), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(big.length));
    assert.equal(head.headers.get('docker-content-digest'), chunked.digest);
    assert.equal(head.headers.get('content-type'), 'application/octet-stream');

    const part = await fetch(u(`/v2/team/app/blobs/${chunked.digest}`), { headers: { Range: 'bytes=1000-1014' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000-1014/${big.length}`);
    assert.equal(await part.text(), 'chunked payload');
    const bad = await fetch(u(`/v2/team/app/blobs/${chunked.digest}`), { headers: { Range: `bytes=${big.length}-` } });
    assert.equal(bad.status, 416);
    await bad.arrayBuffer();

    // mount into another repository; the blob is not visible there before
    const before = await fetch(u(`/v2/other/blobs/${pushed.digest}`), { method: 'HEAD' });
    assert.equal(before.status, 404);
    const other = client.repository(reg.host, 'other');
    const mounted = await other.pushBlob({ bytes: small }, { mountFrom: ['team/app'] });
    assert.equal(mounted.how, 'mounted');
    const mountRes = await fetch(u(`/v2/third/blobs/uploads/?mount=${digestOf(Buffer.from('nope'))}&from=team/app`), { method: 'POST' });
    assert.equal(mountRes.status, 202, 'unknown mount opens an upload');
    assert.match(mountRes.headers.get('location')!, /^\/v2\/third\/blobs\/uploads\/.+/);
  });

  test('blob GETs: small ones whole, large ones streamed, ranges on both, HEAD ignores Range, a blob gone from the store is 404', async () => {
    const small = Buffer.from('a small config');
    const large = Buffer.alloc(200_000);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7919) & 0xff;
    const [ds, dl, de] = [await pushBytes('reads/app', small), await pushBytes('reads/app', large), await pushBytes('reads/app', Buffer.alloc(0))];
    for (const [digest, bytes] of [[ds, small], [dl, large], [de, Buffer.alloc(0)]] as const) {
      const res = await fetch(u(`/v2/reads/app/blobs/${digest}`));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(bytes.length));
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    }
    for (const [from, to] of [[0, 0], [70_000, 199_999], [150_000, 10_000_000], [-1, 5000]] as const) {
      const range = from < 0 ? `bytes=-${to}` : `bytes=${from}-${to}`;
      const res = await fetch(u(`/v2/reads/app/blobs/${dl}`), { headers: { Range: range } });
      const start = from < 0 ? large.length - to : from;
      const end = from < 0 ? large.length - 1 : Math.min(to, large.length - 1);
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${large.length}`, range);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), large.subarray(start, end + 1), range);
    }
    const head = await fetch(u(`/v2/reads/app/blobs/${dl}`), { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
    assert.equal(head.status, 200, 'HEAD answers for the whole blob, as distribution');
    assert.equal(head.headers.get('content-length'), String(large.length));
    const emptyRange = await fetch(u(`/v2/reads/app/blobs/${de}`), { headers: { Range: 'bytes=0-' } });
    assert.equal(emptyRange.status, 416);
    await emptyRange.arrayBuffer();
    // Linked, but its file is gone (damage): unknown, as distribution says, and the server carries on.
    const [, hex] = ds.split(':') as [string, string];
    await rm(join(work, 'data', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'));
    for (const method of ['GET', 'HEAD']) {
      const gone = await fetch(u(`/v2/reads/app/blobs/${ds}`), { method });
      assert.equal(gone.status, 404, method);
      if (method === 'GET') assert.deepEqual(await gone.json(), { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: ds } }] });
    }
    assert.equal((await fetch(u(`/v2/reads/app/blobs/${dl}`))).status, 200);
  });

  test('raw chunked upload with Content-Range, status, wrong offset, cancel', async () => {
    const start = await fetch(u('/v2/raw/blobs/uploads/'), { method: 'POST' });
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('range'), '0-0');
    assert.ok(start.headers.get('docker-upload-uuid'));
    const loc = start.headers.get('location')!;
    const a = Buffer.from('abcdef');
    const p1 = await fetch(u(loc), {
      method: 'PATCH',
      body: a.subarray(0, 3),
      headers: { 'Content-Range': '0-2', 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-2');
    const wrong = await fetch(u(loc), { method: 'PATCH', body: a.subarray(3), headers: { 'Content-Range': '5-7' } });
    assert.equal(wrong.status, 416);
    assert.equal(wrong.headers.get('range'), '0-2');
    await wrong.arrayBuffer();
    const status = await fetch(u(loc));
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-2');
    const bad = await fetch(u(`${loc}?digest=${digestOf('something else')}`), { method: 'PUT', body: a.subarray(3) });
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
    // the final chunk stayed in the upload on the mismatch: commit without body now
    const done = await fetch(u(`${loc}?digest=${digestOf(a)}`), { method: 'PUT' });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('docker-content-digest'), digestOf(a));
    assert.equal(done.headers.get('location'), `/v2/raw/blobs/${digestOf(a)}`);

    const other = await fetch(u('/v2/raw/blobs/uploads/'), { method: 'POST' });
    const oloc = other.headers.get('location')!;
    assert.equal((await fetch(u(oloc), { method: 'DELETE' })).status, 204);
    const gone = await fetch(u(oloc));
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
  });

  test('error cases: bad digest, unknown blob, invalid name; blob delete unlinks', async () => {
    const mono = await fetch(u(`/v2/raw/blobs/uploads/?digest=${digestOf('other')}`), { method: 'POST', body: 'payload' });
    assert.equal(mono.status, 400);
    assert.equal(await errorCode(mono), 'DIGEST_INVALID');
    const badDigest = await fetch(u('/v2/raw/blobs/sha256:xyz'));
    assert.equal(badDigest.status, 400);
    assert.equal(await errorCode(badDigest), 'DIGEST_INVALID');
    const unknown = await fetch(u(`/v2/raw/blobs/${digestOf('never pushed')}`));
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'BLOB_UNKNOWN');
    const name = await fetch(u(`/v2/Bad_Name/blobs/${digestOf('x')}`));
    assert.equal(name.status, 400);
    assert.equal(await errorCode(name), 'NAME_INVALID');
    const kept = await pushBytes('raw', Buffer.from('to delete'));
    const del = await fetch(u(`/v2/raw/blobs/${kept}`), { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal((await fetch(u(`/v2/raw/blobs/${kept}`), { method: 'HEAD' })).status, 404, 'unlinked from the repository');
    const again = await fetch(u(`/v2/raw/blobs/${kept}`), { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.equal(await errorCode(again), 'BLOB_UNKNOWN');
    const noTags = await fetch(u('/v2/nothing/here/tags/list'));
    assert.equal(noTags.status, 404);
    assert.equal(await errorCode(noTags), 'NAME_UNKNOWN');
    const noManifest = await fetch(u('/v2/raw/manifests/latest'));
    assert.equal(noManifest.status, 404);
    assert.equal(await errorCode(noManifest), 'MANIFEST_UNKNOWN');
  });

  test('manifests: push, fetch, missing blob, oversize, tag pagination, catalog', async () => {
    const name = 'm/charts';
    const config = Buffer.from('{"name":"x","version":"1.0.0"}');
    const layer = Buffer.from('layer bytes');
    const cd = await pushBytes(name, config);
    const ld = await pushBytes(name, layer);
    const repo = client.repository(reg.host, name);
    const bytes = manifestOf({ mediaType: HELM_CONFIG, digest: cd, size: config.length }, [{ digest: ld, size: layer.length }]);
    const pushed = await repo.pushManifest('1.0.0', bytes, OCI_MANIFEST);
    assert.equal(pushed.digest, digestOf(bytes));
    const fetched = await repo.fetchManifest('1.0.0');
    assert.deepEqual(fetched.bytes, bytes);
    assert.equal(fetched.mediaType, OCI_MANIFEST);
    const byDigest = await fetch(u(`/v2/${name}/manifests/${pushed.digest}`), { method: 'HEAD' });
    assert.equal(byDigest.status, 200);
    assert.equal(byDigest.headers.get('docker-content-digest'), pushed.digest);
    assert.equal(byDigest.headers.get('content-type'), OCI_MANIFEST);

    const missing = manifestOf({ mediaType: HELM_CONFIG, digest: cd, size: config.length }, [{ digest: digestOf('absent'), size: 6 }]);
    const res = await fetch(u(`/v2/${name}/manifests/bad`), { method: 'PUT', body: missing, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
    const tooBig = await fetch(u(`/v2/${name}/manifests/huge`), { method: 'PUT', body: huge, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(tooBig.status, 413);
    assert.equal(await errorCode(tooBig), 'MANIFEST_INVALID');
    const notJson = await fetch(u(`/v2/${name}/manifests/nj`), { method: 'PUT', body: '{', headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(notJson.status, 400);
    assert.equal(await errorCode(notJson), 'MANIFEST_INVALID');
    const wrongType = await fetch(u(`/v2/${name}/manifests/wt`), { method: 'PUT', body: bytes, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(wrongType.status, 400);
    await wrongType.arrayBuffer();
    const badTag = await fetch(u(`/v2/${name}/manifests/-bad`), { method: 'PUT', body: bytes, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(badTag.status, 400);
    assert.equal(await errorCode(badTag), 'TAG_INVALID');

    for (const t of ['1.1.0', '0.9.0', '2.0.0', 'b', 'a']) await repo.pushManifest(t, bytes, OCI_MANIFEST);
    const all = ['0.9.0', '1.0.0', '1.1.0', '2.0.0', 'a', 'b'];
    assert.deepEqual(await repo.listTags(), all);
    const page1 = await fetch(u(`/v2/${name}/tags/list?n=2`));
    assert.deepEqual(((await page1.json()) as { tags: string[] }).tags, ['0.9.0', '1.0.0']);
    assert.equal(page1.headers.get('link'), `</v2/${name}/tags/list?n=2&last=1.0.0>; rel="next"`);
    const page3 = await fetch(u(`/v2/${name}/tags/list?n=2&last=1.1.0`));
    assert.deepEqual(((await page3.json()) as { tags: string[] }).tags, ['2.0.0', 'a']);
    assert.ok(page3.headers.get('link'));
    const last = await fetch(u(`/v2/${name}/tags/list?n=2&last=a`));
    assert.deepEqual(((await last.json()) as { tags: string[] }).tags, ['b']);
    assert.equal(last.headers.get('link'), null);

    const cat = await fetch(u('/v2/_catalog?n=100'));
    assert.ok(((await cat.json()) as { repositories: string[] }).repositories.includes(name));

    const del = await fetch(u(`/v2/${name}/manifests/a`), { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.ok(!(await repo.listTags()).includes('a'));
  });

  test('index children must exist', async () => {
    const name = 'idx';
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: digestOf('nope'), size: 4 }],
      }),
    );
    const res = await fetch(u(`/v2/${name}/manifests/v1`), { method: 'PUT', body: index, headers: { 'Content-Type': OCI_INDEX } });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  });

  test('referrers with and without artifactType filter, OCI-Subject', async () => {
    const name = 'ref/app';
    const config = Buffer.from('{}');
    const layer = Buffer.from('subject layer');
    const cd = await pushBytes(name, config);
    const ld = await pushBytes(name, layer);
    const subjectBytes = manifestOf({ mediaType: HELM_CONFIG, digest: cd, size: 2 }, [{ digest: ld, size: layer.length }]);
    const subject = await client.repository(reg.host, name).pushManifest('1.0.0', subjectBytes, OCI_MANIFEST);
    const subjectDesc = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subjectBytes.length };

    const sig = Buffer.from('signature');
    const sd = await pushBytes(name, sig);
    const ref1 = manifestOf({ ...OCI_EMPTY_CONFIG }, [{ digest: sd, size: sig.length }], {
      artifactType: 'application/vnd.example.sig',
      subject: subjectDesc,
      annotations: { who: 'jane' },
    });
    const ref2 = manifestOf({ mediaType: 'application/vnd.example.sbom', digest: cd, size: 2 }, [{ digest: ld, size: layer.length }], {
      subject: subjectDesc,
    });
    const ok1 = await fetch(u(`/v2/${name}/manifests/${digestOf(ref1)}`), {
      method: 'PUT',
      body: ref1,
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(ok1.status, 201);
    assert.equal(ok1.headers.get('oci-subject'), subject.digest);
    assert.equal(ok1.headers.get('location'), `/v2/${name}/manifests/${digestOf(ref1)}`);
    const ok2 = await client.repository(reg.host, name).pushManifest(digestOf(ref2), ref2, OCI_MANIFEST);
    assert.equal(ok2.digest, digestOf(ref2));

    const all = await fetch(u(`/v2/${name}/referrers/${subject.digest}`));
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), OCI_INDEX);
    assert.equal(all.headers.get('oci-filters-applied'), null);
    const idx = (await all.json()) as {
      mediaType: string;
      manifests: { digest: string; artifactType: string; annotations?: object; size: number }[];
    };
    assert.equal(idx.mediaType, OCI_INDEX);
    const byDigest = new Map(idx.manifests.map((m) => [m.digest, m]));
    assert.equal(idx.manifests.length, 2);
    assert.equal(byDigest.get(digestOf(ref1))!.artifactType, 'application/vnd.example.sig');
    assert.deepEqual(byDigest.get(digestOf(ref1))!.annotations, { who: 'jane' });
    assert.equal(byDigest.get(digestOf(ref1))!.size, ref1.length);
    assert.equal(byDigest.get(digestOf(ref2))!.artifactType, 'application/vnd.example.sbom');

    const filtered = await fetch(u(`/v2/${name}/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`));
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    const fidx = (await filtered.json()) as { manifests: { digest: string }[] };
    assert.deepEqual(
      fidx.manifests.map((m) => m.digest),
      [digestOf(ref2)],
    );
    const none = await fetch(u(`/v2/${name}/referrers/${digestOf('no subject')}`));
    assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);

    // A deleted referrer leaves the list; pushed again, it is back.
    assert.equal((await fetch(u(`/v2/${name}/manifests/${digestOf(ref2)}`), { method: 'DELETE' })).status, 202);
    const after = (await (await fetch(u(`/v2/${name}/referrers/${subject.digest}`))).json()) as { manifests: { digest: string }[] };
    assert.deepEqual(
      after.manifests.map((m) => m.digest),
      [digestOf(ref1)],
    );
    await client.repository(reg.host, name).pushManifest(digestOf(ref2), ref2, OCI_MANIFEST);
    const again = (await (await fetch(u(`/v2/${name}/referrers/${subject.digest}`))).json()) as { manifests: unknown[] };
    assert.equal(again.manifests.length, 2);
  });

  test('manifest GET honours Accept: listed types only, wildcards, no header', async () => {
    const name = 'accept/app';
    const config = Buffer.from('{"a":1}');
    const cd = await pushBytes(name, config);
    const bytes = manifestOf({ mediaType: HELM_CONFIG, digest: cd, size: config.length }, []);
    await client.repository(reg.host, name).pushManifest('1.0.0', bytes, OCI_MANIFEST);
    const get = (accept?: string) => fetch(u(`/v2/${name}/manifests/1.0.0`), accept === undefined ? {} : { headers: { Accept: accept } });
    assert.equal((await get()).status, 200);
    assert.equal((await get(`application/vnd.docker.distribution.manifest.v2+json, ${OCI_MANIFEST};q=0.9`)).status, 200);
    assert.equal((await get('*/*')).status, 200);
    assert.equal((await get('application/*')).status, 200);
    const refused = await get('application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(refused.status, 404);
    assert.equal(await errorCode(refused), 'MANIFEST_UNKNOWN');
  });

  test('one server per data folder: a second start is refused until the first closes', async () => {
    const dataDir = join(work, 'locked');
    const first = await startRegistry({ dataDir, auth: 'none' });
    await assert.rejects(startRegistry({ dataDir, auth: 'none' }), { code: 'REGISTRY_DATA_LOCKED' });
    await first.close();
    // A lock left by a process that had our pid (a restarted container) is stale.
    await writeFile(join(dataDir, '.lock'), JSON.stringify({ pid: process.pid, purpose: 'registry server', startedAt: 'then' }));
    const second = await startRegistry({ dataDir, auth: 'none' });
    await second.close();
  });

  test('PUT to an unknown upload with a body answers 404 on a live connection; sha512 manifest names are refused', async () => {
    const body = Buffer.from('late body');
    const res = await fetch(u(`/v2/raw/blobs/uploads/${'a'.repeat(32)}?digest=${digestOf(body)}`), { method: 'PUT', body });
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
    const config = Buffer.from('{"s":512}');
    const cd = await pushBytes('raw', config);
    const m = manifestOf({ mediaType: HELM_CONFIG, digest: cd, size: config.length }, []);
    const sha512 = `sha512:${(await import('node:crypto')).createHash('sha512').update(m).digest('hex')}`;
    const put = await fetch(u(`/v2/raw/manifests/${sha512}`), { method: 'PUT', body: m, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), 'DIGEST_INVALID');
  });

  test('blob size limit: monolithic and chunked uploads past it are refused and leave nothing', async () => {
    const small = await startRegistry({ dataDir: join(work, 'limited'), auth: 'none', limits: { maxBlobBytes: 1024 } });
    try {
      const big = Buffer.alloc(2048, 7);
      const mono = await fetch(`${small.url}/v2/lim/app/blobs/uploads/?digest=${digestOf(big)}`, { method: 'POST', body: big });
      assert.equal(mono.status, 413);
      assert.equal(await errorCode(mono), 'SIZE_INVALID');
      const start = await fetch(`${small.url}/v2/lim/app/blobs/uploads/`, { method: 'POST' });
      const loc = start.headers.get('location')!;
      const first = await fetch(`${small.url}${loc}`, { method: 'PATCH', body: big.subarray(0, 1000), headers: { 'Content-Range': '0-999' } });
      assert.equal(first.status, 202);
      const second = await fetch(`${small.url}${loc}`, { method: 'PATCH', body: big.subarray(1000), headers: { 'Content-Range': '1000-2047' } });
      assert.equal(second.status, 413);
      const status = await fetch(`${small.url}${loc}`);
      assert.equal(status.headers.get('range'), '0-999', 'the refused chunk is not kept');
      assert.equal((await fetch(`${small.url}/v2/lim/app/blobs/${digestOf(big)}`, { method: 'HEAD' })).status, 404);
    } finally {
      await small.close();
    }
  });

  test('CLI push then pull --verify, and Helm 4 pulls with --verify', async () => {
    const { chart, prov } = goldens.helm4;
    const push = await runCli(['push', chart, `oci://${reg.host}/proj`, '--plain-http']);
    assert.equal(push.code, 0, push.stderr);
    const out = join(work, 'pulled');
    const pull = await runCli(verifiedPullArgs(`oci://${reg.host}/proj/hello-world`, out, '--plain-http'));
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(await readFile(join(out, 'hello-world-0.1.0.tgz')), await readFile(chart));

    const helmOut = join(work, 'helm');
    await mkdir(helmOut);
    const helm = await runHelm(4, verifiedPullArgs(`oci://${reg.host}/proj/hello-world`, helmOut, '--plain-http'));
    assert.equal(helm.code, 0, helm.stderr);
    assert.deepEqual(await readFile(join(helmOut, 'hello-world-0.1.0.tgz')), await readFile(chart));
    assert.ok((await stat(prov)).size > 0);
  });
});
