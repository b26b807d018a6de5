// Registry faults beyond crash.test.ts's kill -9 of the server (issue 10):
// kill -9 of `chartprov serve gc` at several points, a disk that fills up
// (a size-limited tmpfs, as root), clients that disconnect in the middle of
// a blob, and uploads whose digest does not match. After each, the storage
// check (`checkRegistryStorage`) must find no problem, every acknowledged
// object must still be there, intact, and the server must keep serving.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Accounts } from '../../src/registry/auth/accounts.js';
import { checkRegistryStorage, type StorageCheckReport } from '../../src/registry/storage/check.js';
import { ADMIN_PASSWORD, fetchToken, spawnEmbedded, type SpawnedRegistry } from '../peers/embedded.js';
import { recordFigure } from '../peers/figures.js';
import { cliPath } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const MiB = 1024 * 1024;
const admin = { username: 'admin', password: ADMIN_PASSWORD };

let work: string;
let cleanup: () => Promise<void>;
const running = new Set<SpawnedRegistry>();

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-faults-'));
});
after(async () => {
  for (const reg of running) await reg.kill9();
  await cleanup?.();
});

// ---- a small HTTP client for one registry and one token

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

class Client {
  constructor(
    readonly reg: SpawnedRegistry,
    readonly token: string,
  ) {}

  static async open(reg: SpawnedRegistry, repos: string[]): Promise<Client> {
    return new Client(
      reg,
      await fetchToken(
        reg.url,
        admin,
        repos.map((r) => `repository:${r}:pull,push,delete`),
      ),
    );
  }

  async req(
    path: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const res = await fetch(`${this.reg.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${this.token}`, ...init.headers },
    }).catch((err: Error) => {
      throw new Error(
        `${init.method ?? 'GET'} ${path}: ${String(err.cause ?? err)}; registry ${this.reg.child.exitCode ?? this.reg.child.signalCode ?? 'running'} ${this.reg.stderr()}`,
      );
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  /** Monolithic upload (POST ?digest=); returns the status. */
  async pushBlob(repo: string, bytes: Buffer, digest = sha256(bytes)): Promise<number> {
    return (await this.req(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes })).status;
  }

  async blob(repo: string, bytes: Buffer, mediaType = LAYER): Promise<Desc> {
    const status = await this.pushBlob(repo, bytes);
    assert.equal(status, 201, `blob push to ${repo}`);
    return { mediaType, digest: sha256(bytes), size: bytes.length };
  }

  async putManifest(
    repo: string,
    ref: string,
    body: object,
    mediaType = OCI_MANIFEST,
  ): Promise<{ status: number; desc: Desc; body: Buffer }> {
    const bytes = Buffer.from(JSON.stringify(body));
    const res = await this.req(`/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
    return { status: res.status, body: res.body, desc: { mediaType, digest: sha256(bytes), size: bytes.length } };
  }

  /** A chart-like manifest: config + layers; returns its descriptor and every digest it needs. */
  async image(repo: string, ref: string, layers: Buffer[], extra: object = {}): Promise<{ desc: Desc; blobs: string[] }> {
    const config = await this.blob(repo, Buffer.from(JSON.stringify({ name: repo, ref, n: randomBytes(4).toString('hex') })), CONFIG);
    const descs = await Promise.all(layers.map((l) => this.blob(repo, l)));
    const put = await this.putManifest(repo, ref, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: descs, ...extra });
    assert.equal(put.status, 201, put.body.toString());
    return { desc: put.desc, blobs: [put.desc.digest, config.digest, ...descs.map((d) => d.digest)] };
  }

  /** The manifest at `ref` and every blob it names are served and hash to their digests. */
  async assertServed(repo: string, ref: string, digest?: string): Promise<void> {
    const m = await this.req(`/v2/${repo}/manifests/${ref}`, { headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
    assert.equal(m.status, 200, `${repo}:${ref} is served`);
    if (digest) assert.equal(sha256(m.body), digest, `${repo}:${ref} is the acknowledged manifest`);
    const parsed = JSON.parse(m.body.toString()) as { config?: Desc; layers?: Desc[]; manifests?: Desc[] };
    for (const d of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) {
      const b = await this.req(`/v2/${repo}/blobs/${d.digest}`);
      assert.equal(b.status, 200, `${repo} blob ${d.digest}`);
      assert.equal(sha256(b.body), d.digest);
    }
    for (const child of parsed.manifests ?? []) await this.assertServed(repo, child.digest, child.digest);
  }
}

async function startRegistry(dataDir: string, projects: string[]): Promise<SpawnedRegistry> {
  const reg = await spawnEmbedded({ dataDir });
  running.add(reg);
  void reg.exited.then(() => running.delete(reg));
  const accounts = await Accounts.open(dataDir);
  for (const p of projects) if (!accounts.getProject(p)) await accounts.createProject({ name: p, public: false });
  return reg;
}

async function assertClean(dataDir: string, what: string): Promise<StorageCheckReport> {
  const report = await checkRegistryStorage({ dataDir });
  assert.deepEqual(report.problems, [], `${what}: the storage check finds no problem`);
  return report;
}

async function uploadsIn(dataDir: string, repo: string): Promise<string[]> {
  return readdir(join(dataDir, 'repositories', ...repo.split('/'), '_uploads')).catch(() => []);
}

/** Temp files of interrupted writes (`.<name>.<pid>.<hex>.tmp`) anywhere under `dir`. */
async function tempFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && /^\..+\.tmp$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- kill -9 of `chartprov serve gc`

/** Runs `chartprov serve gc --delete-untagged -v`, SIGKILLs it after `killAfter` decision lines; says how far it got. */
async function gcKilledAfter(dataDir: string, killAfter: number): Promise<{ killed: boolean; lines: number }> {
  const child = spawn(process.execPath, [cliPath, 'serve', 'gc', '--delete-untagged', '-v', '--data', dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let lines = 0;
  let buffered = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) if (line.startsWith('gc: deleting') && ++lines >= killAfter) child.kill('SIGKILL');
  });
  const [code, signal] = await exited;
  assert.ok(signal === 'SIGKILL' || code === 0, `gc exited ${code ?? signal}`);
  return { killed: signal === 'SIGKILL', lines };
}

describe('registry faults', () => {
  it('kill -9 of serve gc: every kill leaves a clean store serving all it kept; the next gc finishes', async (t) => {
    const dataDir = join(work, 'gc');
    let reg = await startRegistry(dataDir, ['gc']);
    const c = await Client.open(reg, ['gc/keep', 'gc/junk']);
    const base = randomBytes(2048);
    const kept = new Map<string, string>(); // gc/keep ref → digest
    const keptBlobs = new Set<string>();
    const keep = (ref: string, m: { desc: Desc; blobs: string[] }) => {
      kept.set(ref, m.desc.digest);
      for (const b of m.blobs) keptBlobs.add(b);
    };
    for (let i = 0; i < 8; i++) keep(`1.0.${i}`, await c.image('gc/keep', `1.0.${i}`, [base, randomBytes(1000 + i)]));
    // An untagged referrer of a kept chart (its signature) and an index whose children are untagged: all kept.
    const subject = { mediaType: OCI_MANIFEST, digest: kept.get('1.0.0')!, size: 0 };
    subject.size = (await c.req(`/v2/gc/keep/manifests/1.0.0`, { headers: { accept: OCI_MANIFEST } })).body.length;
    const sig = await c.image('gc/keep', 'sig', [randomBytes(300)], { subject });
    await c.req('/v2/gc/keep/manifests/sig', { method: 'DELETE' });
    keep(sig.desc.digest, sig);
    const children = [await c.image('gc/keep', 'child-a', [base]), await c.image('gc/keep', 'child-b', [randomBytes(500)])];
    for (const child of children)
      await c.req(`/v2/gc/keep/manifests/${['child-a', 'child-b'][children.indexOf(child)]}`, { method: 'DELETE' });
    const idx = await c.putManifest(
      'gc/keep',
      'multi',
      { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((m) => m.desc) },
      OCI_INDEX,
    );
    assert.equal(idx.status, 201);
    keep('multi', { desc: idx.desc, blobs: [idx.desc.digest, ...children.flatMap((m) => m.blobs)] });
    // Garbage: untagged manifests (some sharing the kept base layer) and orphan blobs.
    const junk = Array.from({ length: 40 }, (_, i) => i);
    await Promise.all(
      junk.map(async (i) => {
        await c.image('gc/junk', `old-${i}`, i % 4 === 0 ? [base, randomBytes(700)] : [randomBytes(700 + i)]);
        assert.equal((await c.req(`/v2/gc/junk/manifests/old-${i}`, { method: 'DELETE' })).status, 202);
        assert.equal(await c.pushBlob('gc/junk', randomBytes(900 + i)), 201);
        assert.equal(await c.pushBlob('gc/junk', randomBytes(400 + i)), 201);
      }),
    );
    await reg.stop();
    const plan = await checkRegistryStorage({ dataDir });
    const garbage = plan.blobs - keptBlobs.size;
    assert.ok(garbage > 150, `${garbage} blobs of garbage`);

    // Kills among the untagged manifests, early among the blobs, and late among them.
    const points = [10, 40 + 5, 40 + Math.floor(garbage / 2)].map((k) => k + Math.floor(Math.random() * 5));
    const runs: string[] = [];
    let lost = 0;
    for (const killAfter of points) {
      const run = await gcKilledAfter(dataDir, killAfter);
      runs.push(`${run.killed ? 'killed' : 'finished'} after ${run.lines} deletions`);
      // The killed gc's lock is stale: the check takes it over, and so does the server.
      await assertClean(dataDir, `after gc was killed after ${run.lines} deletions`);
      reg = await startRegistry(dataDir, []);
      const after = new Client(reg, await fetchToken(reg.url, admin, ['repository:gc/keep:pull,push']));
      for (const [ref, digest] of kept) await after.assertServed('gc/keep', ref, digest);
      const referrers = await after.req(`/v2/gc/keep/referrers/${subject.digest}`);
      assert.deepEqual(
        (JSON.parse(referrers.body.toString()) as { manifests: Desc[] }).manifests.map((m) => m.digest),
        [sig.desc.digest],
      );
      // Still takes pushes; what it takes is kept from now on.
      const ref = `after-${runs.length}`;
      keep(ref, await after.image('gc/keep', ref, [base, randomBytes(64)]));
      await reg.stop();
    }
    const finish = spawnSync(process.execPath, [cliPath, 'serve', 'gc', '--delete-untagged', '--data', dataDir], { encoding: 'utf8' });
    assert.equal(finish.status, 0, finish.stderr);
    const cli = spawnSync(process.execPath, [cliPath, 'serve', 'check', '--data', dataDir, '-o', 'json'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stdout + cli.stderr);
    const report = JSON.parse(cli.stdout) as StorageCheckReport;
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.leftovers, [], 'gc removed what its killed runs left');
    const stored = new Set(await listBlobs(dataDir));
    for (const d of keptBlobs) if (!stored.has(d)) lost++;
    assert.equal(lost, 0, 'every blob a kept manifest needs is stored');
    assert.equal(report.blobs, keptBlobs.size, 'and nothing else: the garbage is gone');
    t.diagnostic(`${garbage} garbage blobs, 40 untagged manifests; gc runs: ${runs.join(', ')}`);
    recordFigure({
      area: 'faults',
      item: 'kill -9 of chartprov serve gc --delete-untagged (among untagged manifests, early and late among blobs)',
      tried: points.length,
      outcome: 'check clean after each kill, kept charts served, next gc finished and freed all garbage',
      lost,
      measures: { garbageBlobs: garbage, keptBlobs: keptBlobs.size },
    });
  });

  it('disk full: pushes fail with 507 and an OCI error body, reads go on, the server stays up; after space is freed pushes work and check is clean', async (t) => {
    const mnt = join(work, 'small');
    await mkdir(mnt);
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mnt]).status !== 0) {
      t.skip('needs root to mount a size-limited tmpfs');
      return;
    }
    try {
      const dataDir = join(mnt, 'data');
      const reg = await startRegistry(dataDir, ['full']);
      const c = await Client.open(reg, ['full/chart']);
      const acked = await c.image('full/chart', '1.0.0', [randomBytes(64 * 1024)]);
      const started = await c.req('/v2/full/chart/blobs/uploads/', { method: 'POST' });
      assert.equal(started.status, 202);
      const location = started.headers.get('location')!;
      const refusals: string[] = [];
      const refused = async (what: string, res: { status: number; body: Buffer }) => {
        assert.equal(res.status, 507, `${what}: ${res.status} ${res.body.toString()}`);
        const body = JSON.parse(res.body.toString()) as { errors: Array<{ code: string; message: string }> };
        assert.equal(body.errors[0]!.message, 'registry storage is full');
        refusals.push(what);
      };

      // Another tenant of the folder leaves 2 MiB: an 8 MiB blob runs out of space half-way.
      const filler = join(mnt, 'filler');
      const free = () => {
        const out = spawnSync('df', ['-B1', '--output=avail', mnt], { encoding: 'utf8' }).stdout.trim().split('\n');
        return Number(out[out.length - 1]);
      };
      await writeFile(filler, Buffer.alloc(Math.max(0, free() - 2 * MiB)));
      const big = randomBytes(8 * MiB);
      await refused(
        '8 MiB monolithic push into 2 MiB',
        await c.req(`/v2/full/chart/blobs/uploads/?digest=${sha256(big)}`, { method: 'POST', body: big }),
      );
      await refused(
        '8 MiB chunk (PATCH)',
        await c.req(location, { method: 'PATCH', body: big, headers: { 'content-type': 'application/octet-stream' } }),
      );
      // Now nothing at all is left.
      const fh = await open(filler, 'a');
      try {
        for (;;) await fh.write(Buffer.alloc(64 * 1024));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        await fh.close();
      }
      const small = randomBytes(10_000);
      await refused(
        'small monolithic push',
        await c.req(`/v2/full/chart/blobs/uploads/?digest=${sha256(small)}`, { method: 'POST', body: small }),
      );
      await refused('upload start', await c.req('/v2/full/chart/blobs/uploads/', { method: 'POST' }));
      const manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: CONFIG, digest: acked.blobs[1], size: 0 },
        layers: [],
        annotations: { pad: 'x'.repeat(9000) },
      };
      const config = await c.req(`/v2/full/chart/blobs/${acked.blobs[1]}`);
      manifest.config.size = config.body.length;
      await refused('manifest PUT', await c.putManifest('full/chart', '2.0.0', manifest));
      // One the client gives up on: nothing of it may stay behind, not even an empty folder.
      await refused(
        'manifest PUT, never retried',
        await c.putManifest('full/chart', 'gave-up', { ...manifest, annotations: { pad: 'y'.repeat(9000) } }),
      );

      // Nothing half-made is visible, reads and logins go on, the process is up.
      for (const d of [sha256(big), sha256(small)])
        assert.equal((await c.req(`/v2/full/chart/blobs/${d}`, { method: 'HEAD' })).status, 404);
      for (const tag of ['2.0.0', 'gave-up'])
        assert.equal((await c.req(`/v2/full/chart/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).status, 404);
      await c.assertServed('full/chart', '1.0.0', acked.desc.digest);
      await fetchToken(reg.url, admin, ['repository:full/chart:pull']);
      assert.equal(reg.child.exitCode, null, 'the server is still running');
      const status = await c.req(location);
      assert.equal(status.headers.get('range'), '0-0', 'the refused chunk was not kept');

      await rm(filler);
      assert.equal(await c.pushBlob('full/chart', big), 201, 'after space is freed');
      const resumed = await c.req(location, {
        method: 'PATCH',
        body: small,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${small.length - 1}` },
      });
      assert.equal(resumed.status, 202, 'the upload open while the disk was full goes on');
      assert.equal((await c.req(`${resumed.headers.get('location')!}?digest=${sha256(small)}`, { method: 'PUT' })).status, 201);
      assert.equal((await c.putManifest('full/chart', '2.0.0', manifest)).status, 201);
      const v3 = await c.image('full/chart', '3.0.0', [big, small]);
      await c.assertServed('full/chart', '2.0.0');
      await reg.stop();
      const report = await assertClean(dataDir, 'after the disk was full');
      assert.deepEqual(report.leftovers, [], 'no temp file or empty folder left by the refused writes');
      assert.equal(report.uploads, 0, 'no upload left behind by refused pushes');
      assert.deepEqual(await uploadsIn(dataDir, 'full/chart'), []);
      const stored = new Set(await listBlobs(dataDir));
      const lost = [...acked.blobs, ...v3.blobs].filter((d) => !stored.has(d)).length;
      assert.equal(lost, 0);
      t.diagnostic(`refused while full: ${refusals.join(', ')}`);
      recordFigure({
        area: 'faults',
        item: 'disk full (24 MiB tmpfs): blob pushes running out of space half-way, chunk, upload start, manifest PUT',
        tried: refusals.length,
        outcome: '507 "registry storage is full" each, reads and tokens served, server up; pushes work once space is freed; check clean',
        lost,
      });
    } finally {
      for (const reg of running) await reg.stop();
      if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
    }
  });

  describe('on one running registry', () => {
    let dataDir: string;
    let reg: SpawnedRegistry;
    let c: Client;
    before(async () => {
      dataDir = join(work, 'cuts');
      reg = await startRegistry(dataDir, ['faults']);
      c = await Client.open(reg, ['faults/cut', 'faults/digest', 'faults/other']);
    });
    after(async () => {
      await reg?.stop();
    });

    /**
     * Sends `head` and `sent` bytes of a body it announced longer (or chunked
     * and unfinished), waits until `received()` says the server has them,
     * then destroys the socket.
     */
    async function cutRequest(head: string, sent: Buffer, received: () => Promise<boolean>): Promise<void> {
      const socket = connect(reg.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(head);
      if (sent.length > 0) socket.write(sent);
      await eventually(received, 'the server has the bytes sent');
      socket.destroy();
    }

    /** Until `size()` reads 0 three times in a row: the server has dropped the cut chunk (or never kept any of it). */
    async function settlesAtZero(size: () => Promise<number>, what: string): Promise<void> {
      let zeros = 0;
      await eventually(async () => {
        zeros = (await size()) === 0 ? zeros + 1 : 0;
        return zeros >= 3;
      }, what);
    }

    const headers = (method: string, path: string, extra: string) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${reg.port}\r\nAuthorization: Bearer ${c.token}\r\nContent-Type: application/octet-stream\r\n${extra}\r\n`;

    it('a client that disconnects mid-blob: nothing is committed, the upload is as before the cut and can be restarted, the server stays healthy', async () => {
      const whole = randomBytes(3 * MiB);
      const cuts = [
        { how: 'PATCH, cut before the body', method: 'PATCH', sent: 0, chunked: false },
        { how: 'PATCH, cut after 300 KiB', method: 'PATCH', sent: 300 * 1024, chunked: false },
        { how: 'PATCH, cut after 2.5 MiB (written to disk)', method: 'PATCH', sent: 2.5 * MiB, chunked: false },
        { how: 'PATCH, cut one byte short', method: 'PATCH', sent: whole.length - 1, chunked: false },
        { how: 'PATCH chunked, cut mid-chunk', method: 'PATCH', sent: 1.5 * MiB, chunked: true },
        { how: 'PUT ?digest= with the body, cut after 1 MiB', method: 'PUT', sent: MiB, chunked: false },
        { how: 'POST ?digest= (monolithic), cut after 2 MiB', method: 'POST', sent: 2 * MiB, chunked: false },
      ];
      for (const cut of cuts) {
        // The POST goes last, with bytes of its own: the others' blob is stored by then (only
        // its link is deleted), and a cut while a new blob is written is what it must show.
        const data = cut.method === 'POST' ? randomBytes(3 * MiB) : whole;
        const digest = sha256(data);
        const open = await c.req('/v2/faults/cut/blobs/uploads/', { method: 'POST' });
        assert.equal(open.status, 202);
        const location = open.headers.get('location')!;
        const id = open.headers.get('docker-upload-uuid')!;
        const path =
          cut.method === 'POST'
            ? `/v2/faults/cut/blobs/uploads/?digest=${digest}`
            : cut.method === 'PUT'
              ? `${location}?digest=${digest}`
              : location;
        const length = cut.chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${data.length}\r\n`;
        const body = data.subarray(0, cut.sent);
        const uploadData = join(dataDir, 'repositories', 'faults', 'cut', '_uploads', id, 'data');
        const size = async () => (await stat(uploadData)).size;
        // Storage writes in 1 MiB batches: past 2 MiB, wait until they are on disk, so the cut must undo them.
        const settle = Date.now() + 150;
        const received =
          cut.sent >= 2 * MiB && cut.method !== 'POST' ? async () => (await size()) >= 2 * MiB : async () => Date.now() > settle;
        await cutRequest(
          headers(cut.method, path, length),
          cut.chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), body]) : body,
          received,
        );

        // The cut chunk is dropped (the upload holds what it held before it: nothing), and nothing is committed.
        await settlesAtZero(size, `${cut.how}: the upload is back to 0 bytes`);
        assert.equal((await c.req(`/v2/faults/cut/blobs/${digest}`, { method: 'HEAD' })).status, 404, `${cut.how}: nothing committed`);
        assert.equal((await c.req('/v2/')).status, 200);
        // Restart: the whole blob from offset 0 on the same upload, then commit.
        const again = await c.req(location, { method: 'PATCH', body: data, headers: { 'content-range': `0-${data.length - 1}` } });
        assert.equal(again.status, 202, `${cut.how}: the upload restarts at 0`);
        assert.equal((await c.req(`${again.headers.get('location')!}?digest=${digest}`, { method: 'PUT' })).status, 201);
        const got = await c.req(`/v2/faults/cut/blobs/${digest}`);
        assert.equal(sha256(got.body), digest);
        // Delete the link so the next cut finds nothing committed again (the blob stays until gc).
        assert.equal((await c.req(`/v2/faults/cut/blobs/${digest}`, { method: 'DELETE' })).status, 202);
      }
      // The monolithic POST wrote beside the blob's place in the store: its temp file is gone with the cut.
      await eventually(async () => (await uploadsIn(dataDir, 'faults/cut')).length === 0, 'no upload is left');
      await eventually(async () => (await tempFilesIn(join(dataDir, 'blobs'))).length === 0, 'no temp file is left in the blob store');
      assert.equal(reg.child.exitCode, null);
      recordFigure({
        area: 'faults',
        item: 'client disconnects mid-blob (raw socket: PATCH, chunked PATCH, PUT, POST ?digest= with the body cut short)',
        tried: cuts.length,
        outcome: 'nothing committed, upload back to its size before the cut, restart at 0 commits, server healthy',
        lost: 0,
      });
    });

    it('an upload with a wrong digest: 400 DIGEST_INVALID, nothing stored or linked under either digest; the right digest then commits', async () => {
      const data = randomBytes(200_000);
      const actual = sha256(data);
      // A digest of content stored in another repository: a mismatch must not link it here.
      const elsewhere = randomBytes(1000);
      await c.blob('faults/other', elsewhere);
      const wrong = [sha256('not this'), sha256(elsewhere), `sha512:${'0'.repeat(128)}`];
      const invalid = async (what: string, res: { status: number; body: Buffer }) => {
        assert.equal(res.status, 400, `${what}: ${res.body.toString()}`);
        assert.equal((JSON.parse(res.body.toString()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'DIGEST_INVALID');
      };
      let tried = 0;
      for (const claimed of wrong) {
        await invalid(
          `monolithic ${claimed}`,
          await c.req(`/v2/faults/digest/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: data }),
        );
        tried++;
      }
      await invalid('malformed', await c.req('/v2/faults/digest/blobs/uploads/?digest=sha256:abc', { method: 'POST', body: data }));
      assert.deepEqual(await uploadsIn(dataDir, 'faults/digest'), [], 'a refused monolithic upload leaves no upload');

      const open = await c.req('/v2/faults/digest/blobs/uploads/', { method: 'POST' });
      const patched = await c.req(open.headers.get('location')!, { method: 'PATCH', body: data.subarray(0, 100_000) });
      assert.equal(patched.status, 202);
      const loc = patched.headers.get('location')!;
      for (const [i, claimed] of wrong.entries()) {
        // The first PUT carries the last chunk: refused, and kept with the upload (it was received whole).
        const put = await c.req(`${loc}?digest=${claimed}`, { method: 'PUT', ...(i === 0 ? { body: data.subarray(100_000) } : {}) });
        await invalid(`chunked ${claimed}`, put);
        tried++;
      }
      for (const d of [...wrong.slice(0, 2), actual])
        assert.equal((await c.req(`/v2/faults/digest/blobs/${d}`, { method: 'HEAD' })).status, 404, `nothing stored or linked as ${d}`);
      const status = await c.req(loc);
      assert.equal(status.headers.get('range'), `0-${data.length - 1}`, 'the upload holds every byte received');
      assert.equal((await c.req(`${loc}?digest=${actual}`, { method: 'PUT' })).status, 201, 'the right digest commits');
      assert.equal(sha256((await c.req(`/v2/faults/digest/blobs/${actual}`)).body), actual);
      recordFigure({
        area: 'faults',
        item: "upload with a wrong digest (monolithic and chunked; another stored blob's digest; sha512; malformed)",
        tried: tried + 1,
        outcome: '400 DIGEST_INVALID each, nothing stored or linked, the upload kept for the right digest',
        lost: 0,
      });
    });

    it('a request refused half-way through its body (a chunked manifest over 4 MiB: 413) leaves its keep-alive connection serving the next one', async () => {
      const socket = connect(reg.port, '127.0.0.1');
      await once(socket, 'connect');
      let received = '';
      socket.setEncoding('latin1').on('data', (d: string) => (received += d));
      const big = Buffer.alloc(6 * MiB, 0x61);
      socket.write(
        headers('PUT', '/v2/faults/digest/manifests/big', 'Transfer-Encoding: chunked\r\n').replace(
          'application/octet-stream',
          OCI_MANIFEST,
        ),
      );
      socket.write(`${big.length.toString(16)}\r\n`);
      socket.write(big);
      socket.write('\r\n0\r\n\r\n');
      socket.write(headers('GET', '/v2/', ''));
      try {
        await eventually(async () => /HTTP\/1\.1 200 /.test(received), 'the second request on the connection is answered');
      } finally {
        socket.destroy();
      }
      assert.match(received, /^HTTP\/1\.1 413 /);
    });

    it('afterwards the store is clean', async () => {
      await reg.stop();
      const report = await assertClean(dataDir, 'after the cuts and wrong digests');
      assert.deepEqual(report.leftovers, []);
      assert.equal(report.uploads, 0);
    });
  });
});

async function listBlobs(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const base = join(dataDir, 'blobs', 'sha256');
  for (const shard of await readdir(base)) {
    for (const hex of await readdir(join(base, shard))) {
      if (await stat(join(base, shard, hex, 'data')).catch(() => undefined)) found.push(`sha256:${hex}`);
    }
  }
  return found;
}
