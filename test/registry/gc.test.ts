// Garbage collection of the registry's storage: what is kept (tagged
// manifests, index children, referrers of kept manifests, anything a corrupt
// manifest might name), what goes, the data-folder lock that keeps gc away
// from a running server, and what a kill -9 in the middle leaves behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { isChartprovError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import {
  acquireDataLock,
  collectGarbage,
  createFilesystemStorage,
  LOCK_FILE,
  type GcReport,
  type RegistryStorage,
} from '../../src/registry/storage/index.js';
import { tempDir } from '../peers/tmp.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';
const DAY_MS = 24 * 60 * 60 * 1000;
const GC_MODULE = new URL('../../src/registry/storage/gc.js', import.meta.url).href;
const LOCK_MODULE = new URL('../../src/registry/storage/data-lock.js', import.meta.url).href;

const cleanups: Array<() => Promise<void>> = [];
after(() => Promise.all(cleanups.map((c) => c())));

async function fresh(): Promise<{ root: string; storage: RegistryStorage }> {
  const { dir, cleanup } = await tempDir('chartprov-gc-');
  cleanups.push(cleanup);
  const root = join(dir, 'registry');
  return { root, storage: await createFilesystemStorage(root) };
}

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

/** A manifest's descriptor plus the digests of the blobs it names. */
interface Pushed extends Desc {
  blobs: string[];
}

async function blob(storage: RegistryStorage, repo: string, content: string, mediaType = LAYER): Promise<Desc> {
  const data = Buffer.from(content);
  const digest = digestOf(data);
  const id = await storage.createUpload(repo);
  await storage.commitUpload(repo, id, digest, Readable.from([data]));
  return { mediaType, digest, size: data.length };
}

interface ImageSpec {
  layers: string[];
  /** Config content; the empty config `{}` when absent, shared like in real registries. */
  config?: string;
  tag?: string;
  subject?: Desc;
}

async function image(storage: RegistryStorage, repo: string, spec: ImageSpec): Promise<Pushed> {
  const config = await blob(storage, repo, spec.config ?? '{}', spec.config ? 'application/vnd.cncf.helm.config.v1+json' : EMPTY_CONFIG);
  const layers = await Promise.all(spec.layers.map((l) => blob(storage, repo, l)));
  const body = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, ...(spec.subject ? { subject: spec.subject } : {}) };
  const bytes = Buffer.from(JSON.stringify(body));
  const digest = await storage.putManifest(repo, bytes, OCI_MANIFEST, spec.tag);
  return { mediaType: OCI_MANIFEST, digest, size: bytes.length, blobs: [config.digest, ...layers.map((l) => l.digest)] };
}

async function index(storage: RegistryStorage, repo: string, children: Desc[], tag?: string): Promise<Pushed> {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map(descOf) }));
  const digest = await storage.putManifest(repo, bytes, OCI_INDEX, tag);
  return { mediaType: OCI_INDEX, digest, size: bytes.length, blobs: [] };
}

function descOf(d: Desc): Desc {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The manifest and everything it names are served and hash to their digests. */
async function assertServed(storage: RegistryStorage, repo: string, reference: string): Promise<void> {
  const m = await storage.getManifest(repo, reference);
  assert.ok(m, `${repo}:${reference} is served`);
  const parsed = JSON.parse(m.bytes.toString('utf8')) as { config?: Desc; layers?: Desc[]; manifests?: Desc[] };
  for (const d of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) {
    assert.equal(digestOf(await readAll(await storage.openBlob(d.digest))), d.digest, `${repo}:${reference} blob ${d.digest}`);
  }
  for (const child of parsed.manifests ?? []) await assertServed(storage, repo, child.digest);
}

async function assertGone(storage: RegistryStorage, digests: string[]): Promise<void> {
  for (const d of digests) assert.equal(await storage.statBlob(d), undefined, `${d} was deleted`);
}

function deleted(report: GcReport): string[] {
  return report.blobsDeleted.map((b) => b.digest).sort();
}

describe('gc: what is kept and what goes', () => {
  it('deletes what only a deleted manifest used, keeps blobs shared with other repositories, and unlinks', async () => {
    const { root, storage } = await fresh();
    const a = await image(storage, 'charts/a', { config: 'cfg-a', layers: ['shared layer', 'only a'], tag: '1.0.0' });
    const b = await image(storage, 'charts/b', { config: 'cfg-b', layers: ['shared layer', 'only b'], tag: '1.0.0' });
    const orphan = await blob(storage, 'charts/a', 'uploaded, never named');
    assert.equal(await storage.deleteManifest('charts/b', b.digest), true);

    const report = await collectGarbage(root);
    const gone = [b.digest, b.blobs[0]!, b.blobs[2]!, orphan.digest].sort();
    assert.deepEqual(deleted(report), gone);
    assert.equal(
      report.bytesFreed,
      report.blobsDeleted.reduce((n, x) => n + x.size, 0),
    );
    assert.equal(report.dryRun, false);
    assert.equal(report.manifestsMarked, 1);
    assert.equal(report.blobsMarked, new Set([a.digest, ...a.blobs]).size);
    assert.deepEqual(report.manifestsDeleted, []);
    await assertGone(storage, gone);
    await assertServed(storage, 'charts/a', '1.0.0');
    assert.equal(await storage.isLinked('charts/b', b.blobs[1]!), true, 'the shared layer stays linked');
    assert.equal(await storage.isLinked('charts/b', b.blobs[2]!), false);
    assert.equal(await storage.isLinked('charts/a', orphan.digest), false);
    assert.equal(report.linksRemoved, 3);
    assert.equal(await stat(join(root, LOCK_FILE)).catch(() => undefined), undefined, 'the lock is released');

    const again = await collectGarbage(root);
    assert.deepEqual(again.blobsDeleted, [], 'a second run finds nothing');
    assert.equal(again.linksRemoved, 0);
  });

  it('keeps an index and its children; deleteUntagged removes untagged manifests, an untagged index parents first', async () => {
    const { storage, root } = await fresh();
    const c1 = await image(storage, 'multi', { config: 'c1', layers: ['l1'] });
    const c2 = await image(storage, 'multi', { config: 'c2', layers: ['l2'] });
    const idx = await index(storage, 'multi', [c1, c2], 'latest');
    const loose = await image(storage, 'multi', { config: 'loose', layers: ['loose layer'] });

    assert.deepEqual((await collectGarbage(root)).blobsDeleted, [], 'without deleteUntagged every revision is kept');
    const report = await collectGarbage(root, { deleteUntagged: true });
    assert.deepEqual(report.manifestsDeleted, [{ repo: 'multi', digest: loose.digest }]);
    assert.deepEqual(deleted(report), [loose.digest, ...loose.blobs].sort());
    await assertServed(storage, 'multi', 'latest');
    assert.deepEqual(await storage.listManifests('multi'), [c1.digest, c2.digest, idx.digest].sort());

    await storage.deleteTag('multi', 'latest');
    const untagged = await collectGarbage(root, { deleteUntagged: true });
    assert.equal(untagged.manifestsDeleted[0]?.digest, idx.digest, 'the index goes before its children');
    assert.deepEqual(untagged.manifestsDeleted.map((m) => m.digest).sort(), [c1.digest, c2.digest, idx.digest].sort());
    assert.deepEqual(deleted(untagged), [idx.digest, c1.digest, c2.digest, ...c1.blobs, ...c2.blobs].sort());
    assert.deepEqual(await storage.listManifests('multi'), []);
  });

  it('keeps untagged referrers (and theirs) of a kept subject; a subject keeps nothing, so an untagged one goes with its referrers', async () => {
    const { storage, root } = await fresh();
    const chart = await image(storage, 'charts/hello', { config: 'chart cfg', layers: ['chart tgz'], tag: '0.1.0' });
    const prov = await image(storage, 'charts/hello', { layers: ['prov'], subject: descOf(chart) });
    const sigOfProv = await image(storage, 'charts/hello', { layers: ['signature of prov'], subject: descOf(prov) });
    const old = await image(storage, 'charts/hello', { config: 'old cfg', layers: ['old tgz'] });
    const oldProv = await image(storage, 'charts/hello', { layers: ['old prov'], subject: descOf(old) });
    const dangling = await image(storage, 'charts/hello', {
      layers: ['points at nothing stored'],
      subject: { mediaType: OCI_MANIFEST, digest: digestOf('never pushed'), size: 12 },
    });

    const report = await collectGarbage(root, { deleteUntagged: true });
    const removed = report.manifestsDeleted.map((m) => m.digest);
    assert.deepEqual([...removed].sort(), [old.digest, oldProv.digest, dangling.digest].sort());
    assert.ok(removed.indexOf(oldProv.digest) < removed.indexOf(old.digest), 'a referrer goes before its subject');
    // The empty config is shared with the kept referrers: it stays.
    const emptyConfig = prov.blobs[0]!;
    const gone = [old.digest, oldProv.digest, dangling.digest, ...old.blobs, oldProv.blobs[1]!, dangling.blobs[1]!].sort();
    assert.deepEqual(deleted(report), gone);
    for (const m of [chart, prov, sigOfProv]) await assertServed(storage, 'charts/hello', m.digest);
    assert.notEqual(await storage.statBlob(emptyConfig), undefined);
  });

  it('a dry run deletes nothing and reports what the real run then deletes', async () => {
    const { storage, root } = await fresh();
    await image(storage, 'r', { config: 'kept', layers: ['kept layer'], tag: 'v1' });
    const untagged = await image(storage, 'r', { config: 'untagged', layers: ['untagged layer'] });
    const doomed = await image(storage, 'other', { config: 'deleted', layers: ['deleted layer'], tag: 'v1' });
    await storage.deleteManifest('other', doomed.digest);
    const before = await snapshot(root);

    const lines: string[] = [];
    const dry = await collectGarbage(root, { dryRun: true, deleteUntagged: true, log: (l) => lines.push(l) });
    assert.deepEqual(await snapshot(root), before, 'not a file changed');
    assert.equal(dry.dryRun, true);
    assert.ok(
      lines.some((l) => l.includes('would delete') && l.includes(untagged.digest)),
      lines.join('\n'),
    );

    const real = await collectGarbage(root, { deleteUntagged: true });
    assert.deepEqual(real.blobsDeleted, dry.blobsDeleted);
    assert.deepEqual(real.manifestsDeleted, dry.manifestsDeleted);
    assert.equal(real.bytesFreed, dry.bytesFreed);
    assert.equal(real.linksRemoved, dry.linksRemoved);
    assert.deepEqual(deleted(real), [untagged.digest, ...untagged.blobs, doomed.digest, ...doomed.blobs].sort());
  });

  it('a corrupt manifest blob keeps itself, what it mentions, its repository’s links and untagged revisions', async () => {
    const { storage, root } = await fresh();
    const m = await image(storage, 'broken', { config: 'cfg', layers: ['first layer', 'second layer'], tag: 'v1' });
    const untagged = await image(storage, 'broken', { config: 'untagged cfg', layers: ['untagged layer'] });
    const linkedOnly = await blob(storage, 'broken', 'linked, named by nothing readable');
    const elsewhere = await blob(storage, 'fine', 'unreferenced in a healthy repository');
    // Only the corrupt bytes still name the first layer: no link keeps it.
    await storage.unlinkBlob('broken', m.blobs[1]!);
    const path = blobPath(root, m.digest);
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.indexOf(m.blobs[1]!) + 71));

    const report = await collectGarbage(root, { deleteUntagged: true });
    assert.deepEqual(deleted(report), [elsewhere.digest]);
    assert.deepEqual(report.manifestsDeleted, []);
    assert.equal(report.unreadable.length, 1);
    assert.equal(report.unreadable[0]?.repo, 'broken');
    assert.match(report.unreadable[0]!.problem, new RegExp(m.digest));
    for (const d of [m.digest, ...m.blobs, untagged.digest, ...untagged.blobs, linkedOnly.digest])
      assert.notEqual(await storage.statBlob(d), undefined, `${d} is kept`);
    await assertServed(storage, 'broken', untagged.digest);
  });

  it('removes uploads untouched for a day, keeps young ones', async () => {
    const { storage, root } = await fresh();
    const old = await storage.createUpload('r');
    await storage.appendUpload('r', old, Readable.from([Buffer.from('abandoned')]));
    const young = await storage.createUpload('r');
    await storage.appendUpload('r', young, Readable.from([Buffer.from('in progress')]));
    const dir = join(root, 'repositories/r/_uploads', old);
    const past = new Date(Date.now() - DAY_MS - 60_000);
    for (const p of [join(dir, 'data'), join(dir, 'startedat'), dir]) await utimes(p, past, past);

    const dry = await collectGarbage(root, { dryRun: true });
    assert.equal(dry.uploadsRemoved, 1);
    assert.equal(await storage.uploadSize('r', old), 9);
    const report = await collectGarbage(root);
    assert.equal(report.uploadsRemoved, 1);
    assert.equal(await storage.uploadSize('r', old), undefined);
    assert.equal(await storage.uploadSize('r', young), 11);
  });
});

describe('gc: the data-folder lock', () => {
  it('refuses while a live process holds the lock, then takes over the lock it left when killed', async () => {
    const { root, storage } = await fresh();
    const orphan = await blob(storage, 'r', 'orphan');
    const holder = spawnNode(
      `const { acquireDataLock } = await import(${JSON.stringify(LOCK_MODULE)});
      await acquireDataLock(process.argv[1], 'registry server'); console.log('locked');
      process.stdin.resume();`,
      [root],
    );
    await waitForLine(holder, 'locked');

    await assert.rejects(collectGarbage(root), (err: unknown) => {
      assert.ok(isChartprovError(err));
      assert.equal(err.code, 'REGISTRY_DATA_LOCKED');
      assert.match(err.message, new RegExp(`registry server \\(pid ${holder.pid}`));
      assert.ok(err.hint.length > 0);
      return true;
    });
    assert.notEqual(await storage.statBlob(orphan.digest), undefined, 'nothing deleted under a live lock');

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    assert.equal(JSON.parse(await readFile(join(root, LOCK_FILE), 'utf8')).pid, holder.pid, 'kill -9 leaves the lock behind');
    assert.deepEqual(deleted(await collectGarbage(root)), [orphan.digest], 'a dead holder’s lock is taken over');
    assert.equal(await stat(join(root, LOCK_FILE)).catch(() => undefined), undefined);
  });

  it('takes over a lock of a finished process or a torn one; never a live one; release leaves others’ locks alone', async () => {
    const { root } = await fresh();
    const lockPath = join(root, LOCK_FILE);
    const finished = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(lockPath, JSON.stringify({ pid: finished, purpose: 'gc', startedAt: new Date().toISOString() }));
    const lock = await acquireDataLock(root, 'test');
    const held = JSON.parse(await readFile(lockPath, 'utf8'));
    assert.equal(held.pid, process.pid);
    assert.equal(held.purpose, 'test');
    assert.equal((await stat(lockPath)).mode & 0o777, 0o600);
    await assert.rejects(acquireDataLock(root, 'second'), /in use by test/, 'our own pid is alive too');
    await lock.release();
    await lock.release();
    assert.equal(await stat(lockPath).catch(() => undefined), undefined);

    // A process killed between the O_EXCL create and the write leaves an empty file.
    await writeFile(lockPath, '');
    const past = new Date(Date.now() - 60_000);
    await utimes(lockPath, past, past);
    const afterTorn = await acquireDataLock(root, 'after torn');
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, purpose: 'someone else', startedAt: 'now' }));
    await afterTorn.release();
    assert.match(await readFile(lockPath, 'utf8'), /someone else/, 'a lock that is no longer ours is not removed');
  });

  it('of several processes racing for one stale lock, exactly one wins', async () => {
    const { root } = await fresh();
    const finished = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(root, LOCK_FILE), JSON.stringify({ pid: finished, purpose: 'gc', startedAt: new Date().toISOString() }));
    const racers = Array.from({ length: 3 }, () =>
      spawnNode(
        `const { acquireDataLock } = await import(${JSON.stringify(LOCK_MODULE)});
        try { await acquireDataLock(process.argv[1], 'racer'); console.log('won'); }
        catch (err) { console.log(err.code ?? String(err)); }
        process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`,
        [root],
      ),
    );
    const outcomes = await Promise.all(racers.map((r) => waitForLine(r)));
    for (const r of racers) r.stdin.end();
    await Promise.all(racers.map((r) => once(r, 'exit')));
    assert.deepEqual(outcomes.sort(), ['REGISTRY_DATA_LOCKED', 'REGISTRY_DATA_LOCKED', 'won']);
  });
});

describe('gc: crash safety', () => {
  it('a kill -9 at any point leaves every kept manifest served, and the next run finishes', async (t) => {
    const { root: pristine, storage } = await fresh();
    const kept = await crashFixture(storage);
    // One log line per removal: killing after the k-th line stops gc at (or just after) its k-th step.
    const plan = await collectGarbage(pristine, { dryRun: true, deleteUntagged: true });
    const revisions = plan.manifestsDeleted.length;
    const steps = revisions + plan.blobsDeleted.length;
    assert.ok(revisions >= 10 && steps > 40, `${steps} steps`);
    // Among the untagged revisions, among the blobs, and just before the end; copies run side by side.
    const points = [revisions / 2, (revisions + steps) / 2, steps - 3].map((k) => Math.round(k) + Math.floor(Math.random() * 3));
    const runs = await Promise.all(
      points.map(async (killAfter, i) => {
        const dir = join(pristine, '..', `copy-${i}`);
        await cp(pristine, dir, { recursive: true });
        const run = await runGcChild(dir, killAfter);
        await assertConsistent(dir, kept);
        return { dir, run };
      }),
    );
    for (const { dir } of runs) {
      const final = await collectGarbage(dir, { deleteUntagged: true });
      assert.deepEqual(final.unreadable, []);
      const after = await createFilesystemStorage(dir);
      for (const [repo, { digests }] of kept) assert.deepEqual(await after.listManifests(repo), [...digests].sort());
      assert.deepEqual((await listAllBlobs(dir)).sort(), [...kept.blobs].sort(), 'only what is kept remains');
      await assertConsistent(dir, kept);
      assert.equal(await stat(join(dir, LOCK_FILE)).catch(() => undefined), undefined);
    }
    t.diagnostic(`${steps} steps; child runs: ${runs.map((r) => r.run).join(', ')}`);
  });
});

// ---- helpers for the lock and crash tests

function spawnNode(code: string, args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, ...args], { stdio: 'pipe' });
  child.stderr.setEncoding('utf8');
  let stderr = '';
  child.stderr.on('data', (d: string) => (stderr += d));
  child.on('exit', (status) => {
    if (status && status !== 0) process.stderr.write(`child failed (${status}): ${stderr}\n`);
  });
  return child;
}

/** Resolves with the first stdout line (or the first equal to `expected`); rejects if the child exits first. */
function waitForLine(child: ChildProcessWithoutNullStreams, expected?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (const line of buffered.split('\n').slice(0, -1)) {
        if (expected === undefined || line === expected) {
          child.stdout.off('data', onData);
          resolve(line);
          return;
        }
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (status, signal) => reject(new Error(`child exited (${status ?? signal}) before printing ${expected ?? 'a line'}`)));
  });
}

/** Runs gc in a child that prints its log, and kills it after `killAfter` lines; says where it got. */
async function runGcChild(dir: string, killAfter: number): Promise<string> {
  const child = spawnNode(
    `const { collectGarbage } = await import(${JSON.stringify(GC_MODULE)});
    console.log('start'); await collectGarbage(process.argv[1], { deleteUntagged: true, log: (l) => console.log(l) }); console.log('done');`,
    [dir],
  );
  const exited = once(child, 'exit');
  await waitForLine(child, 'start');
  let seen = 0;
  let finished = false;
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'done') finished = true;
      else if (++seen > killAfter) child.kill('SIGKILL');
    }
  };
  child.stdout.on('data', onData);
  if (killAfter === 0) child.kill('SIGKILL');
  await exited;
  return finished ? `finished (${killAfter})` : `killed after ${killAfter}`;
}

interface KeptSet extends Map<string, { refs: string[]; digests: Set<string> }> {
  blobs: Set<string>;
}

/** Kept: a tagged chart with its referrer, a tagged index with two children. Doomed: untagged manifests, their referrers, orphans. */
async function crashFixture(storage: RegistryStorage): Promise<KeptSet> {
  const chart = await image(storage, 'crash/a', { config: 'chart', layers: ['tgz a'], tag: '1.0.0' });
  const prov = await image(storage, 'crash/a', { layers: ['prov a'], subject: descOf(chart) });
  const [c1, c2] = await Promise.all([
    image(storage, 'crash/b', { config: 'c1', layers: ['b1', 'tgz a'] }),
    image(storage, 'crash/b', { config: 'c2', layers: ['b2'] }),
  ]);
  const idx = await index(storage, 'crash/b', [c1!, c2!], 'multi');
  await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const old = await image(storage, 'crash/a', { config: `old ${i}`, layers: [`old layer ${i}`, 'tgz a'] });
      await image(storage, 'crash/a', { layers: [`old prov ${i}`], subject: descOf(old) });
    }),
  );
  await Promise.all(Array.from({ length: 24 }, (_, i) => blob(storage, `crash/${i % 2 ? 'a' : 'b'}`, `orphan ${i} ${'x'.repeat(i * 13)}`)));
  const kept = new Map([
    ['crash/a', { refs: ['1.0.0', prov.digest], digests: new Set([chart.digest, prov.digest]) }],
    ['crash/b', { refs: ['multi'], digests: new Set([idx.digest, c1!.digest, c2!.digest]) }],
  ]) as KeptSet;
  kept.blobs = new Set([chart, prov, c1!, c2!, idx].flatMap((m) => [m.digest, ...m.blobs]));
  return kept;
}

/** Whatever point gc reached: kept manifests are served whole, every remaining revision and link names stored content. */
async function assertConsistent(dir: string, kept: KeptSet): Promise<void> {
  const storage = await createFilesystemStorage(dir);
  for (const [repo, { refs }] of kept) for (const ref of refs) await assertServed(storage, repo, ref);
  for (const repo of await storage.listRepositories()) {
    for (const digest of await storage.listManifests(repo)) await assertServed(storage, repo, digest);
    const layers = join(dir, 'repositories', repo, '_layers', 'sha256');
    for (const hex of await readdir(layers).catch(() => [])) {
      if (await stat(join(layers, hex, 'link')).catch(() => undefined))
        assert.notEqual(await storage.statBlob(`sha256:${hex}`), undefined, `${repo} links sha256:${hex}, which is stored`);
    }
  }
}

async function listAllBlobs(root: string): Promise<string[]> {
  const found: string[] = [];
  const base = join(root, 'blobs', 'sha256');
  for (const shard of await readdir(base)) {
    for (const hex of await readdir(join(base, shard))) {
      if (await stat(join(base, shard, hex, 'data')).catch(() => undefined)) found.push(`sha256:${hex}`);
    }
  }
  return found;
}

function blobPath(root: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(root, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** Every file's path, size and content hash under `root`. */
async function snapshot(root: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        lines.push(`${path}/`);
        await walk(path);
      } else lines.push(`${path} ${digestOf(await readFile(path))}`);
    }
  };
  await mkdir(root, { recursive: true });
  await walk(root);
  return lines.sort();
}
