// kill -9 of the embedded registry (with auth) in a child process, and what
// its data folder holds when it starts again: a blob upload killed half-way
// is not a blob, its upload can be resumed by id, and a push afterwards
// re-hashes; manifests being written when the process dies are either there
// whole or not at all, every tag resolves, every stored blob hashes to its
// name; the token signing key and the accounts survive (a token issued
// before the kill still works after it).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Accounts } from '../../src/registry/auth/accounts.js';
import { checkRegistryStorage } from '../../src/registry/storage/check.js';
import { ADMIN_PASSWORD, fetchToken, spawnEmbedded, type Creds, type SpawnedRegistry } from '../peers/embedded.js';
import { recordFigure } from '../peers/figures.js';
import { tempDir } from '../peers/tmp.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MiB = 1024 * 1024;
/** Manifests acknowledged per round before the kill. */
const PER_ROUND = 40;
const admin: Creds = { username: 'admin', password: ADMIN_PASSWORD };
const dev: Creds = { username: 'dev', password: 'Dev-Passw0rd-1' };
const late: Creds = { username: 'late', password: 'Late-Passw0rd-2' };

let work: string;
let dataDir: string;
let cleanup: () => Promise<void>;
let reg: SpawnedRegistry | undefined;
/** Issued by the first registry process; must keep working across every restart. */
let oldToken: string;
let tokenKey: string;

async function restart(): Promise<SpawnedRegistry> {
  await reg?.kill9();
  reg = await spawnEmbedded({ dataDir });
  return reg;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const url = (path: string) => `${reg!.url}${path}`;

async function hashStream(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function pushBlob(repo: string, bytes: Buffer, token: string): Promise<string> {
  const res = await fetch(url(`/v2/${repo}/blobs/uploads/?digest=${sha256(bytes)}`), { method: 'POST', body: bytes, headers: auth(token) });
  assert.equal(res.status, 201, await res.text());
  return sha256(bytes);
}

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-crash-'));
  dataDir = join(work, 'data');
  // The first start makes the admin; the accounts file is shared with other processes
  // (as `chartprov serve user add` does), so this one adds the project and a user.
  await restart();
  const accounts = await Accounts.open(dataDir);
  await accounts.createProject({ name: 'crash', public: false });
  await accounts.addUser({ name: dev.username, password: dev.password });
  await accounts.setMember('crash', dev.username, 'developer');
  oldToken = await fetchToken(reg!.url, admin, [
    'repository:crash/big:pull,push',
    'repository:crash/many:pull,push',
    'repository:crash/big2:pull,push',
  ]);
  tokenKey = await readFile(join(dataDir, 'auth', 'token.key'), 'utf8');
});

after(async () => {
  await reg?.kill9();
  await cleanup?.();
});

/**
 * Everything under the data folder is either complete or invisible: blobs
 * re-hash to their names, links name content that exists, and the only
 * other files are temp files (`.name.pid.hex.tmp`, never read) and uploads.
 */
async function checkDataDir(): Promise<{ blobs: number; tempFiles: string[]; uploads: number }> {
  const tempFiles: string[] = [];
  const unexpected: string[] = [];
  let blobs = 0;
  let uploads = 0;
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else files.push(p);
    }
  };
  await walk(dataDir);
  const blobExists = async (digest: string) =>
    stat(join(dataDir, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data')).then(
      (s) => s.isFile(),
      () => false,
    );
  for (const file of files) {
    const rel = relative(dataDir, file).split(sep);
    const name = rel[rel.length - 1]!;
    if (/^\..+\.tmp$/.test(name)) {
      tempFiles.push(rel.join('/'));
      continue;
    }
    if (rel[0] === 'blobs' && rel.length === 5 && rel[1] === 'sha256' && name === 'data') {
      assert.equal(rel[2], rel[3]!.slice(0, 2), `blob folder ${rel.join('/')}`);
      assert.equal(await hashStream(file), `sha256:${rel[3]}`, `blob ${rel.join('/')} does not hash to its name`);
      blobs++;
    } else if (rel[0] === 'repositories') {
      const at = (part: string) => rel.lastIndexOf(part);
      if (at('_uploads') === rel.length - 3 && (name === 'data' || name === 'startedat')) {
        if (name === 'data') uploads++;
      } else if (at('_layers') === rel.length - 4 && name === 'link') {
        const text = await readFile(file, 'utf8');
        assert.equal(text, `sha256:${rel[rel.length - 2]}`, `layer link ${rel.join('/')}`);
        assert.ok(await blobExists(text), `layer link ${rel.join('/')} names a missing blob`);
      } else if (at('revisions') === rel.length - 4 && name === 'link') {
        const record = JSON.parse(await readFile(file, 'utf8')) as { digest: string; mediaType: string };
        assert.equal(record.digest, `sha256:${rel[rel.length - 2]}`, `revision link ${rel.join('/')}`);
        assert.equal(record.mediaType, OCI_MANIFEST);
        assert.ok(await blobExists(record.digest), `revision ${rel.join('/')} names a missing blob`);
      } else if (at('tags') === rel.length - 3 && name === 'link') {
        const digest = await readFile(file, 'utf8');
        assert.match(digest, /^sha256:[a-f0-9]{64}$/, `tag link ${rel.join('/')}`);
        const manifestsDir = join(dataDir, ...rel.slice(0, rel.length - 3));
        assert.ok(
          await stat(join(manifestsDir, 'revisions', 'sha256', digest.slice(7), 'link')).then(
            () => true,
            () => false,
          ),
          `tag ${rel.join('/')} names a revision that is not there`,
        );
      } else if (at('referrers') === rel.length - 6 && name === 'link') {
        // Written before its revision: a link to no revision is allowed (and skipped by the referrers API).
        assert.equal(await readFile(file, 'utf8'), `sha256:${rel[rel.length - 2]}`, `referrer link ${rel.join('/')}`);
      } else unexpected.push(rel.join('/'));
    } else if (rel[0] === 'auth' && ['accounts.json', 'token.key', 'token.crt'].includes(name)) {
      if (name === 'accounts.json') JSON.parse(await readFile(file, 'utf8'));
    } else if (rel.length === 1 && name === '.lock') {
      // The data folder's lock: the running server's, never the killed one's.
      const lock = JSON.parse(await readFile(file, 'utf8')) as { pid: number };
      assert.equal(lock.pid, reg?.pid, 'the data lock belongs to the running server');
    } else unexpected.push(rel.join('/'));
  }
  assert.deepEqual(unexpected, [], 'files that are neither complete registry files nor temp files');
  return { blobs, tempFiles, uploads };
}

describe('kill -9 of the embedded registry', () => {
  it('mid-upload: the blob is unknown after restart, the upload resumes by id, the pushes afterwards re-hash', async () => {
    let last = Date.now();
    const laps: string[] = [];
    const lap = (what: string) => {
      laps.push(`${what} ${Date.now() - last}`);
      last = Date.now();
    };
    const total = 64 * MiB;
    const data = randomBytes(total);
    const digest = sha256(data);
    const start = await fetch(url('/v2/crash/big/blobs/uploads/'), { method: 'POST', headers: auth(oldToken) });
    assert.equal(start.status, 202);
    const location = start.headers.get('location')!;
    const id = start.headers.get('docker-upload-uuid')!;
    const uploadFile = join(dataDir, 'repositories', 'crash', 'big', '_uploads', id, 'data');

    // Stream the first 24 MiB of a chunked PATCH and hold the rest back; kill once the server has written 16 MiB.
    const req = httpRequest(url(location), {
      method: 'PATCH',
      headers: { ...auth(oldToken), 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    const outcome = new Promise<string>((resolve) => {
      req.on('response', (res) => resolve(`response ${res.statusCode}`));
      req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    for (let off = 0; off < 24 * MiB; off += MiB) {
      if (!req.write(data.subarray(off, off + MiB))) await new Promise((r) => req.once('drain', r));
    }
    const deadline = Date.now() + 20_000;
    while (((await stat(uploadFile).catch(() => undefined))?.size ?? 0) < 16 * MiB) {
      assert.ok(Date.now() < deadline, 'the server did not write 16 MiB of the upload');
      await new Promise((r) => setTimeout(r, 5));
    }
    lap('first 16 MiB');
    await reg!.kill9();
    console.log(`PATCH after kill -9: ${await outcome}`);
    const kept = (await stat(uploadFile)).size;
    assert.ok(kept >= 16 * MiB && kept <= 24 * MiB, `upload holds ${kept} bytes`);

    await restart();
    lap('restart');
    const ping = await fetch(url('/v2/'), { headers: auth(oldToken) });
    assert.equal(ping.status, 200, 'a token issued before the kill still works');
    const head = await fetch(url(`/v2/crash/big/blobs/${digest}`), { method: 'HEAD', headers: auth(oldToken) });
    assert.equal(head.status, 404, 'a half-uploaded blob is not a blob');

    // Resume: the status says how much is there; send the rest from that offset, then commit.
    const status = await fetch(url(location), { headers: auth(oldToken) });
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${kept - 1}`);
    const wrongOffset = await fetch(url(location), {
      method: 'PATCH',
      body: data.subarray(0, 10),
      headers: { ...auth(oldToken), 'content-range': '0-9', 'content-type': 'application/octet-stream' },
    });
    await wrongOffset.arrayBuffer();
    assert.equal(wrongOffset.status, 416);
    assert.equal(wrongOffset.headers.get('range'), `0-${kept - 1}`);
    const rest = await fetch(url(location), {
      method: 'PATCH',
      body: data.subarray(kept),
      headers: { ...auth(oldToken), 'content-range': `${kept}-${total - 1}`, 'content-type': 'application/octet-stream' },
    });
    await rest.arrayBuffer();
    assert.equal(rest.status, 202);
    assert.equal(rest.headers.get('range'), `0-${total - 1}`);
    // The running hash died with the process: the commit must hash the file (a wrong digest is refused first).
    const bad = await fetch(url(`${location}?digest=${sha256('not this')}`), { method: 'PUT', headers: auth(oldToken) });
    assert.equal(bad.status, 400, await bad.text());
    lap('resume');
    const commit = await fetch(url(`${location}?digest=${digest}`), { method: 'PUT', headers: auth(oldToken) });
    lap('commit (re-hash)');
    assert.equal(commit.status, 201, await commit.text());
    assert.equal(commit.headers.get('docker-content-digest'), digest);

    const got = await fetch(url(`/v2/crash/big/blobs/${digest}`), { headers: auth(oldToken) });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-length'), String(total));
    const h = createHash('sha256');
    for await (const chunk of got.body!) h.update(chunk);
    assert.equal(`sha256:${h.digest('hex')}`, digest);

    lap('read back');
    // Or start over: a new chunked upload of the same bytes into another repository, then a manifest naming it.
    const again = await fetch(url('/v2/crash/big2/blobs/uploads/'), { method: 'POST', headers: auth(oldToken) });
    assert.equal(again.status, 202);
    let loc = again.headers.get('location')!;
    for (let off = 0; off < total; off += 16 * MiB) {
      const chunk = await fetch(url(loc), {
        method: 'PATCH',
        body: data.subarray(off, off + 16 * MiB),
        headers: { ...auth(oldToken), 'content-range': `${off}-${off + 16 * MiB - 1}`, 'content-type': 'application/octet-stream' },
      });
      await chunk.arrayBuffer();
      assert.equal(chunk.status, 202);
      loc = chunk.headers.get('location')!;
    }
    const done = await fetch(url(`${loc}?digest=${digest}`), { method: 'PUT', headers: auth(oldToken) });
    assert.equal(done.status, 201, await done.text());
    const config = Buffer.from('{"after":"restart"}');
    const configDigest = await pushBlob('crash/big2', config, oldToken);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/octet-stream', digest, size: total }],
      }),
    );
    const put = await fetch(url('/v2/crash/big2/manifests/v1'), {
      method: 'PUT',
      body: manifest,
      headers: { ...auth(oldToken), 'content-type': OCI_MANIFEST },
    });
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('docker-content-digest'), sha256(manifest));

    lap('upload again + manifest');
    const report = await checkDataDir();
    lap('data walk');
    console.log(`upload phases (ms): ${laps.join(', ')}`);
    assert.equal(report.uploads, 0, 'committed uploads are gone');
    recordFigure({
      area: 'faults',
      item: 'kill -9 of the registry while a 64 MiB chunked upload streams',
      tried: 1,
      outcome: 'blob unknown after restart, upload resumed by id and committed after a re-hash; every blob re-hashes',
      lost: 0,
    });
  });

  it('during manifest PUTs: after restart every tag resolves to intact bytes, acknowledged pushes are all there', async () => {
    const token = oldToken;
    const config = Buffer.from('{"crash":"config"}');
    const layer = randomBytes(4096);
    const configDigest = await pushBlob('crash/many', config, token);
    const layerDigest = await pushBlob('crash/many', layer, token);
    /** tag → digest of every PUT that answered 201, over all rounds. */
    const acked = new Map<string, string>();
    /** Every manifest sent to the shared tag (answered or not). */
    const sharedSent = new Set<string>();
    let tempLeft = 0;

    for (let round = 0; round < 3; round++) {
      let stop = false;
      const failures: string[] = [];
      const worker = async (k: number) => {
        for (let i = 0; !stop; i++) {
          const shared = i % 5 === 4;
          const tag = shared ? 'shared' : `r${round}-w${k}-${i}`;
          // Some manifests are large (up to 512 KiB of annotation), so that writes take long enough to be cut.
          const pad = i % 3 === 0 ? 'x'.repeat(Math.floor(Math.random() * 512 * 1024)) : '';
          const bytes = Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_MANIFEST,
              config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
              layers: [{ mediaType: 'application/octet-stream', digest: layerDigest, size: layer.length }],
              annotations: { round: String(round), worker: String(k), i: String(i), pad },
            }),
          );
          if (shared) sharedSent.add(sha256(bytes));
          try {
            const res = await fetch(url(`/v2/crash/many/manifests/${tag}`), {
              method: 'PUT',
              body: bytes,
              headers: { ...auth(token), 'content-type': OCI_MANIFEST },
            });
            await res.arrayBuffer();
            if (res.status !== 201) failures.push(`${tag}: ${res.status}`);
            else if (!shared) acked.set(tag, sha256(bytes));
          } catch {
            return; // the server is gone
          }
        }
      };
      const ackedBefore = acked.size;
      const t0 = Date.now();
      const workers = Array.from({ length: 8 }, (_, k) => worker(k));
      const deadline = Date.now() + 10_000;
      while (acked.size - ackedBefore < PER_ROUND && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      await reg!.kill9();
      stop = true;
      await Promise.all(workers);
      assert.deepEqual(failures, []);
      assert.ok(acked.size - ackedBefore >= PER_ROUND, `round ${round}: only ${acked.size - ackedBefore} manifests acknowledged`);

      const t1 = Date.now();
      await restart();
      const t2 = Date.now();
      const report = await checkDataDir();
      const t3 = Date.now();
      tempLeft = report.tempFiles.length;

      const tagsRes = await fetch(url('/v2/crash/many/tags/list'), { headers: auth(token) });
      assert.equal(tagsRes.status, 200);
      const tags = ((await tagsRes.json()) as { tags: string[] }).tags;
      for (const [tag] of acked) assert.ok(tags.includes(tag), `acknowledged tag ${tag} is gone`);
      await inParallel(tags, 8, async (tag) => {
        const res = await fetch(url(`/v2/crash/many/manifests/${tag}`), { headers: { ...auth(token), accept: OCI_MANIFEST } });
        assert.equal(res.status, 200, `tag ${tag} does not resolve`);
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(sha256(bytes), res.headers.get('docker-content-digest'), `tag ${tag}: bytes and Docker-Content-Digest differ`);
        JSON.parse(bytes.toString('utf8'));
        if (acked.has(tag)) assert.equal(sha256(bytes), acked.get(tag), `tag ${tag} was acknowledged with other content`);
        if (tag === 'shared') assert.ok(sharedSent.has(sha256(bytes)), 'the shared tag names a manifest that was sent to it');
      });
      await inParallel([...new Set(acked.values())], 8, async (digest) => {
        const res = await fetch(url(`/v2/crash/many/manifests/${digest}`), {
          method: 'HEAD',
          headers: { ...auth(token), accept: OCI_MANIFEST },
        });
        assert.equal(res.status, 200, `acknowledged manifest ${digest} is gone`);
      });
      console.log(
        `round ${round}: ${acked.size} manifests acknowledged so far, ${tags.length} tags, ${report.blobs} blobs, ` +
          `${report.tempFiles.length} temp files left; ms: pushes ${t1 - t0}, restart ${t2 - t1}, data walk ${t3 - t2}, reads ${Date.now() - t3}`,
      );
    }
    console.log(`temp files left by killed writes (invisible to readers): ${tempLeft}`);
    recordFigure({
      area: 'faults',
      item: 'kill -9 of the registry during 8 concurrent manifest PUTs (some 512 KiB), one tag shared',
      tried: 3,
      outcome: `${acked.size} acknowledged manifests all served intact after restarts; every tag resolves`,
      lost: 0,
    });
  });

  it("a second server on the same data folder is refused while one runs; a killed one's lock is taken over", async () => {
    const running = reg!;
    await assert.rejects(spawnEmbedded({ dataDir }), (err: Error) => {
      const line = err.message.split('\n').find((l) => l.startsWith('error[')) ?? err.message;
      console.log(`second server on the same data folder: ${line}`);
      return /^error\[REGISTRY_DATA_LOCKED\]: .*in use/.test(line);
    });
    const ping = await fetch(url('/v2/'), { headers: auth(oldToken) });
    await ping.arrayBuffer();
    assert.equal(ping.status, 200, 'the first one still serves');
    assert.equal(reg, running);
    await restart(); // kill -9, then a new process takes the stale lock over
    const lock = JSON.parse(await readFile(join(dataDir, '.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, reg!.pid);
  });

  it('keeps the token signing key and the accounts: old tokens, the admin password and users made meanwhile still work', async () => {
    // A user added by another process while the registry runs, then a kill.
    const accounts = await Accounts.open(dataDir);
    await accounts.addUser({ name: late.username, password: late.password });
    await accounts.setMember('crash', late.username, 'developer');
    await restart();

    assert.equal(await readFile(join(dataDir, 'auth', 'token.key'), 'utf8'), tokenKey, 'the signing key is the same file');
    const old = await fetch(url('/v2/crash/many/tags/list'), { headers: auth(oldToken) });
    assert.equal(old.status, 200, 'a token issued by the first process');
    await old.arrayBuffer();
    for (const who of [admin, dev, late]) {
      const token = await fetchToken(reg!.url, who, ['repository:crash/many:pull', 'repository:crash/accounts:pull,push']);
      const res = await fetch(url('/v2/crash/accounts/blobs/uploads/'), { method: 'POST', headers: auth(token) });
      await res.arrayBuffer();
      assert.equal(res.status, 202, `${who.username} may push after the restart`);
      const list = await fetch(url('/v2/crash/many/tags/list'), { headers: auth(token) });
      await list.arrayBuffer();
      assert.equal(list.status, 200);
    }
    await assert.rejects(fetchToken(reg!.url, { username: 'dev', password: 'Not-The-Passw0rd' }, []), /401/);
    const noAuth = await fetch(url('/v2/'));
    await noAuth.arrayBuffer();
    assert.equal(noAuth.status, 401);
  });

  it('after all the kills, stopped cleanly: the storage check finds no problem, and the restarts removed the killed writes’ temp files', async () => {
    await reg!.stop();
    const report = await checkRegistryStorage({ dataDir });
    assert.deepEqual(report.problems, []);
    assert.deepEqual(
      report.leftovers.filter((l) => l.kind === 'temp-file'),
      [],
    );
    assert.ok(report.manifests > 3 * PER_ROUND && report.tags > 3 * PER_ROUND, `${report.manifests} manifests, ${report.tags} tags`);
    console.log(
      `storage check: ${report.blobs} blobs, ${report.manifests} manifests, ${report.tags} tags, ${report.leftovers.length} empty folders, ${report.uploads} uploads`,
    );
  });
});
