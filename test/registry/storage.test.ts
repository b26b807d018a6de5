// The registry's filesystem storage: blobs, uploads (chunked, verified,
// surviving a restart), links, manifests and tags under concurrency, and what
// a crash leaves behind. Every test gets its own temp root.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createFilesystemStorage, isStorageError, sweepTemp, type RegistryStorage } from '../../src/registry/storage/index.js';
import { tempDir } from '../peers/tmp.js';

const REPO = 'charts/hello';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const cleanups: Array<() => Promise<void>> = [];
after(() => Promise.all(cleanups.map((c) => c())));

async function fresh(): Promise<{ root: string; storage: RegistryStorage }> {
  const { dir, cleanup } = await tempDir('chartprov-storage-');
  cleanups.push(cleanup);
  const root = join(dir, 'registry');
  return { root, storage: await createFilesystemStorage(root) };
}

function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function putBlob(storage: RegistryStorage, repo: string, data: Buffer): Promise<string> {
  const id = await storage.createUpload(repo);
  const digest = sha256(data);
  await storage.commitUpload(repo, id, digest, Readable.from([data]));
  return digest;
}

function code(expected: string) {
  return (err: unknown) => isStorageError(err) && err.code === expected;
}

describe('blobs', () => {
  it('round-trips a blob, with range reads', async () => {
    const { storage } = await fresh();
    const data = randomBytes(10_000);
    const digest = await putBlob(storage, REPO, data);
    assert.equal(await storage.statBlob(digest), data.length);
    assert.deepEqual(await readAll(await storage.openBlob(digest)), data);
    assert.deepEqual(await readAll(await storage.openBlob(digest, { start: 100, end: 199 })), data.subarray(100, 200));
    assert.deepEqual(await readAll(await storage.openBlob(digest, { start: 9_990, end: 20_000 })), data.subarray(9_990));
    await assert.rejects(storage.openBlob(digest, { start: 10_000, end: 10_001 }), code('RANGE_NOT_SATISFIABLE'));
    await assert.rejects(storage.openBlob(digest, { start: 5, end: 4 }), code('RANGE_NOT_SATISFIABLE'));
    const absent = sha256('absent');
    assert.equal(await storage.statBlob(absent), undefined);
    await assert.rejects(storage.openBlob(absent), code('BLOB_UNKNOWN'));
    await assert.rejects(storage.openBlob('md5:abc'), code('DIGEST_INVALID'));
  });

  it('appends chunks at the right offsets and refuses a wrong one without keeping it', async () => {
    const { storage } = await fresh();
    const id = await storage.createUpload(REPO);
    assert.match(id, /^[A-Za-z0-9-]+$/);
    assert.equal(await storage.uploadSize(REPO, id), 0);
    const a = randomBytes(1000);
    const b = randomBytes(500);
    assert.equal(await storage.appendUpload(REPO, id, Readable.from([a]), { offset: 0 }), 1000);
    await assert.rejects(storage.appendUpload(REPO, id, Readable.from([b]), { offset: 999 }), (err: unknown) => {
      return code('BLOB_UPLOAD_INVALID')(err) && (err as { size?: number }).size === 1000;
    });
    await assert.rejects(storage.appendUpload(REPO, id, Readable.from([b]), { maxBytes: 1200 }), code('BLOB_UPLOAD_INVALID'));
    assert.equal(await storage.uploadSize(REPO, id), 1000, 'a refused chunk is not kept');
    assert.equal(await storage.appendUpload(REPO, id, Readable.from([b]), { offset: 1000 }), 1500);
    const c = Buffer.from('tail');
    const whole = Buffer.concat([a, b, c]);
    assert.equal(await storage.commitUpload(REPO, id, sha256(whole), Readable.from([c])), whole.length);
    assert.deepEqual(await readAll(await storage.openBlob(sha256(whole))), whole);
    assert.equal(await storage.uploadSize(REPO, id), undefined, 'the upload is gone after commit');
    assert.equal(await storage.isLinked(REPO, sha256(whole)), true);
    await assert.rejects(storage.appendUpload(REPO, id, Readable.from([c])), code('BLOB_UPLOAD_UNKNOWN'));
    await assert.rejects(storage.cancelUpload(REPO, id), code('BLOB_UPLOAD_UNKNOWN'));
    assert.equal(await storage.uploadSize(REPO, '../../etc'), undefined);
  });

  it('keeps the upload and stores nothing when the digest does not match', async () => {
    const { storage } = await fresh();
    const id = await storage.createUpload(REPO);
    const data = Buffer.from('hello blob');
    await storage.appendUpload(REPO, id, Readable.from([data]));
    const wrong = sha256('something else');
    await assert.rejects(storage.commitUpload(REPO, id, wrong), code('DIGEST_INVALID'));
    await assert.rejects(storage.commitUpload(REPO, id, 'sha256:nothex'), code('DIGEST_INVALID'));
    assert.equal(await storage.statBlob(wrong), undefined);
    assert.equal(await storage.statBlob(sha256(data)), undefined);
    assert.equal(await storage.isLinked(REPO, wrong), false);
    assert.equal(await storage.uploadSize(REPO, id), data.length);
    assert.equal(await storage.commitUpload(REPO, id, sha256(data)), data.length);
    assert.equal(await storage.statBlob(sha256(data)), data.length);
  });

  it('a whole blob in one request (putBlob): stored and linked when it matches; nothing left when not', async () => {
    const { root, storage } = await fresh();
    const data = randomBytes(3 * 1024 * 1024 + 17); // several write batches
    const digest = sha256(data);
    assert.equal(await storage.putBlob(REPO, digest, Readable.from([data.subarray(0, 70_000), data.subarray(70_000)])), data.length);
    assert.deepEqual(await readAll(await storage.openBlob(digest)), data);
    assert.equal(await storage.isLinked(REPO, digest), true);
    // The same bytes again (another repository): linked there, stored once.
    assert.equal(await storage.putBlob('charts/other', digest, Readable.from([data])), data.length);
    assert.equal(await storage.isLinked('charts/other', digest), true);
    // Claiming a stored digest with other bytes links nothing: no mount by guessing a digest.
    await assert.rejects(storage.putBlob('charts/thief', digest, Readable.from([Buffer.from('not it')])), code('DIGEST_INVALID'));
    assert.equal(await storage.isLinked('charts/thief', digest), false);
    await assert.rejects(storage.putBlob(REPO, sha256('x'), Readable.from([Buffer.from('y')])), code('DIGEST_INVALID'));
    assert.equal(await storage.statBlob(sha256('x')), undefined);
    await assert.rejects(storage.putBlob(REPO, sha256(data), Readable.from([data]), 1024), code('BLOB_UPLOAD_INVALID'));
    // An empty body is the empty blob; sha512 digests are checked with sha512.
    assert.equal(await storage.putBlob(REPO, sha256(''), undefined), 0);
    const long = `sha512:${createHash('sha512').update('abc').digest('hex')}`;
    assert.equal(await storage.putBlob(REPO, long, Readable.from([Buffer.from('abc')])), 3);
    // No upload folder, temp file or empty blob folder is left behind by any of them, refused or not.
    for (const repo of [REPO, 'charts/other', 'charts/thief']) {
      const left = await readdir(join(root, 'repositories', repo, '_uploads')).catch(() => []);
      assert.deepEqual(left, [], `${repo}: upload folders left`);
    }
    const files = (await readdir(join(root, 'blobs'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    assert.deepEqual(files.filter((f) => f.name !== 'data').map((f) => f.name), [], 'temp files left in the blob store');
    const [, xHex] = sha256('x').split(':') as [string, string];
    await assert.rejects(stat(join(root, 'blobs', 'sha256', xHex.slice(0, 2), xHex)), /ENOENT/, 'a refused blob leaves no folder');
  });

  it('two putBlob of one new blob at once: both succeed, one copy stored, no temp file left', async () => {
    const { root, storage } = await fresh();
    const data = randomBytes(200_000);
    const digest = sha256(data);
    const sizes = await Promise.all(['charts/a', 'charts/b', 'charts/c'].map((repo) => storage.putBlob(repo, digest, Readable.from([data]))));
    assert.deepEqual(sizes, [data.length, data.length, data.length]);
    for (const repo of ['charts/a', 'charts/b', 'charts/c']) assert.equal(await storage.isLinked(repo, digest), true);
    const [, hex] = digest.split(':') as [string, string];
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex)), ['data']);
  });

  it('a refused putBlob never breaks a good one of the same digest running at the same time', async () => {
    const { root, storage } = await fresh();
    const failures: string[] = [];
    // A new digest per pair, so that each pair races on a folder neither found: the good
    // request starts as the refused one ends (a few event-loop turns either way), so that
    // the refused one's clean-up removes the folder while the good one is about to write into it.
    const turns = (n: number) => Array.from({ length: n }).reduce<Promise<unknown>>((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve());
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const good = randomBytes(2000 + i);
          const digest = sha256(good);
          const body = new PassThrough();
          const bad = storage.putBlob(REPO, digest, body).then(
            () => failures.push('bad: accepted'),
            (err: unknown) => (code('DIGEST_INVALID')(err) ? undefined : failures.push(`bad: ${String(err)}`)),
          );
          body.end(randomBytes(2000 + i));
          await turns((i + round) % 12);
          try {
            await storage.putBlob(REPO, digest, Readable.from([good]));
            assert.deepEqual((await storage.readBlob(digest)).body, good);
          } catch (err) {
            failures.push(`good: ${String(err)}`);
          }
          await bad;
        }),
      );
    }
    assert.deepEqual(failures, []);
    const files = (await readdir(join(root, 'blobs'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    assert.equal(files.filter((f) => f.name !== 'data').length, 0, 'no temp file left');
  });

  it('readBlob: small blobs and ranges whole in memory, larger ones as a stream, with the size', async () => {
    const { storage } = await fresh();
    const small = randomBytes(3000);
    const large = randomBytes(200_000);
    const [ds, dl, de] = [await putBlob(storage, REPO, small), await putBlob(storage, REPO, large), await putBlob(storage, REPO, Buffer.alloc(0))];
    const s = await storage.readBlob(ds);
    assert.ok(Buffer.isBuffer(s.body), 'a 3 KB blob comes as one buffer');
    assert.equal(s.size, small.length);
    assert.deepEqual(s.body, small);
    const l = await storage.readBlob(dl);
    assert.ok(!Buffer.isBuffer(l.body), 'a 200 KB blob comes as a stream');
    assert.equal(l.size, large.length);
    assert.deepEqual(await readAll(l.body as Readable), large);
    const r = await storage.readBlob(dl, { start: 1000, end: 1999 });
    assert.ok(Buffer.isBuffer(r.body));
    assert.equal(r.size, large.length, 'the whole blob size, not the range');
    assert.deepEqual(r.body, large.subarray(1000, 2000));
    const tail = await storage.readBlob(dl, { start: 100_000, end: 10_000_000 }, 0);
    assert.deepEqual(await readAll(tail.body as Readable), large.subarray(100_000));
    const e = await storage.readBlob(de);
    assert.equal(e.size, 0);
    assert.deepEqual(e.body, Buffer.alloc(0));
    assert.deepEqual(await readAll(await storage.openBlob(de)), Buffer.alloc(0));
    await assert.rejects(storage.readBlob(ds, { start: 3000, end: 3001 }), code('RANGE_NOT_SATISFIABLE'));
    await assert.rejects(storage.readBlob(sha256('absent')), code('BLOB_UNKNOWN'));
  });

  it('re-hashes an upload on commit after a restart, and commits an identical blob twice', async () => {
    const { root, storage } = await fresh();
    const id = await storage.createUpload(REPO);
    const a = randomBytes(70_000);
    await storage.appendUpload(REPO, id, Readable.from([a]));
    const restarted = await createFilesystemStorage(root);
    assert.equal(await restarted.uploadSize(REPO, id), a.length);
    const b = randomBytes(3000);
    assert.equal(await restarted.appendUpload(REPO, id, Readable.from([b]), { offset: a.length }), a.length + b.length);
    const whole = Buffer.concat([a, b]);
    await assert.rejects(restarted.commitUpload(REPO, id, sha256('x')), code('DIGEST_INVALID'));
    assert.equal(await restarted.commitUpload(REPO, id, sha256(whole)), whole.length);
    assert.deepEqual(await readAll(await restarted.openBlob(sha256(whole))), whole);
    // sha512 is accepted too: the running sha256 does not serve, the file is re-hashed.
    const other = randomBytes(100);
    const id512 = await storage.createUpload('other/repo');
    const d512 = `sha512:${createHash('sha512').update(other).digest('hex')}`;
    assert.equal(await storage.commitUpload('other/repo', id512, d512, Readable.from([other])), 100);
    // The same content again: the stored blob stays, the new repo gets its link.
    assert.equal(await putBlob(storage, 'third', whole), sha256(whole));
    assert.equal(await storage.isLinked('third', sha256(whole)), true);
  });

  it('cancels an upload', async () => {
    const { storage } = await fresh();
    const id = await storage.createUpload(REPO);
    await storage.appendUpload(REPO, id, Readable.from([Buffer.from('abc')]));
    await storage.cancelUpload(REPO, id);
    assert.equal(await storage.uploadSize(REPO, id), undefined);
    await assert.rejects(storage.commitUpload(REPO, id, sha256('abc')), code('BLOB_UPLOAD_UNKNOWN'));
  });

  it('runs 50 uploads of different blobs at once', async () => {
    const { storage } = await fresh();
    const blobs = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 37));
    const digests = await Promise.all(
      blobs.map(async (data, i) => {
        const repo = `concurrent/r${i % 5}`;
        const id = await storage.createUpload(repo);
        await storage.appendUpload(repo, id, Readable.from([data.subarray(0, 500)]), { offset: 0 });
        await storage.appendUpload(repo, id, Readable.from([data.subarray(500)]), { offset: 500 });
        await storage.commitUpload(repo, id, sha256(data));
        return sha256(data);
      }),
    );
    for (const [i, digest] of digests.entries()) {
      assert.deepEqual(await readAll(await storage.openBlob(digest)), blobs[i]);
      assert.equal(await storage.isLinked(`concurrent/r${i % 5}`, digest), true);
    }
  });

  it('links, mounts and unlinks blobs per repository', async () => {
    const { storage } = await fresh();
    const digest = await putBlob(storage, 'a/one', Buffer.from('shared'));
    assert.equal(await storage.isLinked('a/one', digest), true);
    assert.equal(await storage.isLinked('b/two', digest), false);
    await storage.linkBlob('b/two', digest);
    await storage.linkBlob('b/two', digest);
    assert.equal(await storage.isLinked('b/two', digest), true);
    await storage.unlinkBlob('a/one', digest);
    await storage.unlinkBlob('a/one', digest);
    assert.equal(await storage.isLinked('a/one', digest), false);
    assert.equal(await storage.statBlob(digest), 6, 'unlinking never deletes the shared blob');
    await assert.rejects(storage.linkBlob('c', sha256('never stored')), code('BLOB_UNKNOWN'));
  });
});

describe('manifests and tags', () => {
  it('stores manifests with their media type, by tag and digest, and lists them', async () => {
    const { storage } = await fresh();
    const m1 = Buffer.from('{"schemaVersion":2,"n":1}');
    const m2 = Buffer.from('{"schemaVersion":2,"n":2}');
    const d1 = await storage.putManifest(REPO, m1, MANIFEST_TYPE, '0.1.0');
    const d2 = await storage.putManifest(REPO, m2, 'application/vnd.oci.image.index.v1+json', 'latest');
    await storage.putManifest(REPO, m1, MANIFEST_TYPE, 'stable');
    await storage.putManifest('other', m2, MANIFEST_TYPE);
    assert.equal(d1, sha256(m1));
    assert.deepEqual(await storage.getManifest(REPO, '0.1.0'), { bytes: m1, mediaType: MANIFEST_TYPE, digest: d1 });
    assert.equal((await storage.getManifest(REPO, d2))?.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(await storage.getManifest(REPO, 'nope'), undefined);
    assert.equal(await storage.getManifest('unknown/repo', d1), undefined);
    assert.deepEqual(await storage.listTags(REPO), ['0.1.0', 'latest', 'stable']);
    assert.deepEqual(await storage.listManifests(REPO), [d1, d2].sort());
    assert.deepEqual(await storage.listRepositories(), [REPO, 'other']);
    await assert.rejects(storage.getManifest(REPO, 'sha256:123'), code('DIGEST_INVALID'));
    await assert.rejects(storage.getManifest(REPO, '.hidden'), code('TAG_INVALID'));
    await assert.rejects(storage.putManifest(REPO, m1, MANIFEST_TYPE, 'bad tag'), code('TAG_INVALID'));
    await assert.rejects(storage.putManifest(REPO, m1, 'bad\ntype'), code('MANIFEST_INVALID'));

    assert.equal(await storage.deleteManifest(REPO, d1), true);
    assert.equal(await storage.deleteManifest(REPO, d1), false);
    assert.deepEqual(await storage.listTags(REPO), ['latest'], 'its tags went with it');
    assert.equal(await storage.getManifest(REPO, d1), undefined);
    assert.deepEqual(await storage.getManifest('other', d2).then((m) => m?.digest), d2, 'other repositories keep theirs');
    assert.equal(await storage.deleteTag(REPO, 'latest'), true);
    assert.equal(await storage.deleteTag(REPO, 'latest'), false);
    assert.equal((await storage.getManifest(REPO, d2))?.digest, d2, 'deleting a tag keeps the manifest');
  });

  it('ends 50 concurrent puts of one tag on one complete manifest', async () => {
    const { storage } = await fresh();
    const manifests = Array.from({ length: 50 }, (_, i) => Buffer.from(JSON.stringify({ schemaVersion: 2, i, pad: 'x'.repeat(i * 100) })));
    const digests = await Promise.all(manifests.map((m) => storage.putManifest(REPO, m, MANIFEST_TYPE, 'latest')));
    const got = await storage.getManifest(REPO, 'latest');
    assert.ok(got);
    assert.ok(digests.includes(got.digest));
    assert.equal(sha256(got.bytes), got.digest);
    assert.deepEqual(await storage.listTags(REPO), ['latest']);
    assert.equal((await storage.listManifests(REPO)).length, 50);
  });
});

describe('safety', () => {
  it('refuses path tricks in repository names, tags and upload ids', async () => {
    const { storage } = await fresh();
    const digest = await putBlob(storage, REPO, Buffer.from('x'));
    for (const bad of ['', '..', '../x', 'a/../b', '/abs', 'a//b', 'a\\b', 'a/', '_uploads', 'a/_manifests', '.hidden', 'UPPER']) {
      await assert.rejects(storage.createUpload(bad), code('NAME_INVALID'), bad);
      await assert.rejects(storage.isLinked(bad, digest), code('NAME_INVALID'), bad);
      await assert.rejects(storage.putManifest(bad, Buffer.from('{}'), MANIFEST_TYPE), code('NAME_INVALID'), bad);
      await assert.rejects(storage.listTags(bad), code('NAME_INVALID'), bad);
    }
    await assert.rejects(storage.getManifest(REPO, '../../x'), code('TAG_INVALID'));
    await assert.rejects(storage.appendUpload(REPO, '../../../etc/passwd', Readable.from([])), code('BLOB_UPLOAD_UNKNOWN'));
    await assert.rejects(storage.statBlob('sha256:../../etc'), code('DIGEST_INVALID'));
    await assert.rejects(storage.statBlob('sha1:' + 'a'.repeat(40)), code('DIGEST_INVALID'));
  });

  it('keeps files 0600 and folders 0700', async () => {
    const { root, storage } = await fresh();
    await putBlob(storage, REPO, Buffer.from('private'));
    await storage.putManifest(REPO, Buffer.from('{}'), MANIFEST_TYPE, 'v1');
    const id = await storage.createUpload(REPO);
    await storage.appendUpload(REPO, id, Readable.from([Buffer.from('partial')]));
    const walk = async (dir: string): Promise<number> => {
      let seen = 0;
      assert.equal((await stat(dir)).mode & 0o777, 0o700, dir);
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) seen += await walk(path);
        else {
          assert.equal((await stat(path)).mode & 0o777, 0o600, path);
          seen++;
        }
      }
      return seen;
    };
    assert.ok((await walk(root)) >= 7);
  });

  it('survives a crash: stray temp files and partial uploads change nothing visible', async () => {
    const { root, storage } = await fresh();
    const blob = await putBlob(storage, REPO, Buffer.from('layer'));
    const manifest = Buffer.from('{"schemaVersion":2}');
    const digest = await storage.putManifest(REPO, manifest, MANIFEST_TYPE, 'v1');
    const id = await storage.createUpload(REPO);
    await storage.appendUpload(REPO, id, Readable.from([Buffer.from('half an upl')]));
    // What writes killed before their rename leave: temp files beside real ones,
    // and a tag folder holding only a temp file.
    const tagDir = join(root, 'repositories/charts/hello/_manifests/tags');
    await writeFile(join(tagDir, 'v1', '.link.999.deadbeef.tmp'), 'sha256:0');
    await mkdir(join(tagDir, 'ghost'), { mode: 0o700 });
    await writeFile(join(tagDir, 'ghost', '.link.999.cafe.tmp'), 'sha256:');
    const [, hex] = blob.split(':') as [string, string];
    await writeFile(join(root, 'blobs/sha256', hex.slice(0, 2), hex, '.data.999.beef.tmp'), 'garbage');
    await mkdir(join(root, 'repositories/crashed/_manifests/tags/x'), { recursive: true });

    const after = await createFilesystemStorage(root);
    assert.deepEqual(await after.getManifest(REPO, 'v1'), { bytes: manifest, mediaType: MANIFEST_TYPE, digest });
    assert.deepEqual(await after.listTags(REPO), ['v1']);
    assert.deepEqual(await after.listTags('crashed'), []);
    assert.deepEqual(await readAll(await after.openBlob(blob)), Buffer.from('layer'));
    assert.equal(await after.uploadSize(REPO, id), 11);
    assert.equal(await sweepTemp(root, 60_000), 0, 'young temp files may be writes in progress');
    assert.equal(await sweepTemp(root, 0), 3);
    assert.deepEqual(await after.listTags(REPO), ['v1']);
    assert.equal((await after.getManifest(REPO, digest))?.digest, digest);
    assert.equal(await after.commitUpload(REPO, id, sha256('half an upload'), Readable.from([Buffer.from('oad')])), 14);
  });

  it('streams a 64 MiB blob in 1 MiB chunks without holding it in memory', async () => {
    const { storage } = await fresh();
    const chunk = Buffer.alloc(1 << 20);
    const expected = createHash('sha256');
    const id = await storage.createUpload(REPO);
    const before = process.memoryUsage().rss;
    let peak = before;
    for (let i = 0; i < 64; i++) {
      chunk.fill(i); // reuse one buffer: only the storage could hold 64 MiB
      chunk.writeUInt32BE(i * 7919, 0);
      expected.update(chunk);
      await storage.appendUpload(REPO, id, Readable.from([chunk]), { offset: i << 20 });
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const digest = `sha256:${expected.digest('hex')}`;
    // The running hash serves the commit: no re-read of the 64 MiB.
    assert.equal(await storage.commitUpload(REPO, id, digest), 64 << 20);
    const check = createHash('sha256');
    for await (const part of await storage.openBlob(digest)) {
      check.update(part as Buffer);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.equal(`sha256:${check.digest('hex')}`, digest);
    assert.ok(peak - before < 48 << 20, `rss grew by ${Math.round((peak - before) / 2 ** 20)} MiB`);
  });
});
