// The storage check (`chartprov serve check`): a clean store reports its
// counts and nothing else; each kind of damage made by hand (a flipped byte,
// a deleted blob, a tag naming a manifest that is gone, an index without its
// child…) is reported as such and nothing else is; temp files are leftovers,
// not damage; memory does not grow with blob size; the data-folder lock keeps
// it away from a running server; and the CLI's text, JSON and exit status.
import assert from 'node:assert/strict';
import { mkdir, open, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { isChartprovError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { checkRegistryStorage, type StorageCheckReport } from '../../src/registry/storage/check.js';
import {
  acquireDataLock,
  createFilesystemStorage,
  LOCK_FILE,
  removeInterruptedWrites,
  type RegistryStorage,
} from '../../src/registry/storage/index.js';
import { runCli } from '../peers/cli.js';
import { tempDir } from '../peers/tmp.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

const cleanups: Array<() => Promise<void>> = [];
after(() => Promise.all(cleanups.map((c) => c())));

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

interface Fixture {
  root: string;
  storage: RegistryStorage;
  chart: Desc & { config: string; layer: string };
  other: Desc;
  idx: Desc;
}

const blobPath = (root: string, digest: string) => {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(root, 'blobs', alg, hex.slice(0, 2), hex, 'data');
};
const repoPath = (root: string, repo: string, ...parts: string[]) => join(root, 'repositories', ...repo.split('/'), ...parts);

async function blob(storage: RegistryStorage, repo: string, content: string | Buffer): Promise<Desc> {
  const data = Buffer.from(content);
  const digest = digestOf(data);
  const id = await storage.createUpload(repo);
  await storage.commitUpload(repo, id, digest, Readable.from([data]));
  return { mediaType: LAYER, digest, size: data.length };
}

async function manifest(
  storage: RegistryStorage,
  repo: string,
  name: string,
  tag?: string,
): Promise<Desc & { config: string; layer: string }> {
  const config = await blob(storage, repo, `{"name":"${name}"}`);
  const layer = await blob(storage, repo, `layer of ${name} ${'z'.repeat(100)}`);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
  const digest = await storage.putManifest(repo, bytes, OCI_MANIFEST, tag);
  return { mediaType: OCI_MANIFEST, digest, size: bytes.length, config: config.digest, layer: layer.digest };
}

/** Two repositories: a tagged chart, another tagged manifest, and an index of both in a nested repository name. */
async function fixture(): Promise<Fixture> {
  const { dir, cleanup } = await tempDir('chartprov-check-');
  cleanups.push(cleanup);
  const root = join(dir, 'data');
  const storage = await createFilesystemStorage(root);
  const chart = await manifest(storage, 'p/chart', 'chart', '1.0.0');
  const other = await manifest(storage, 'p/chart', 'other', '2.0.0');
  const a = await manifest(storage, 'p/multi/x', 'a');
  const b = await manifest(storage, 'p/multi/x', 'b');
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [a, b].map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    }),
  );
  const idx = { mediaType: OCI_INDEX, digest: await storage.putManifest('p/multi/x', bytes, OCI_INDEX, 'multi'), size: bytes.length };
  return { root, storage, chart, other, idx };
}

const kinds = (report: StorageCheckReport) => report.problems.map((p) => `${p.kind} ${p.tag ?? p.digest ?? ''}`.trim()).sort();

describe('storage check', () => {
  it('a clean store: every count, no problems, no leftovers, and the lock released', async () => {
    const { root, storage } = await fixture();
    // An upload in progress is no problem either.
    await storage.appendUpload('p/chart', await storage.createUpload('p/chart'), Readable.from([Buffer.from('half')]));
    const report = await checkRegistryStorage({ dataDir: root });
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.leftovers, []);
    assert.equal(report.ok, true);
    // 4 manifests × (config + layer) + 4 manifests + 1 index.
    assert.deepEqual(
      {
        repositories: report.repositories,
        blobs: report.blobs,
        manifests: report.manifests,
        tags: report.tags,
        links: report.links,
        uploads: report.uploads,
      },
      { repositories: 2, blobs: 13, manifests: 5, tags: 3, links: 8, uploads: 1 },
    );
    assert.ok(report.blobBytes > 0);
    await assert.rejects(stat(join(root, LOCK_FILE)), /ENOENT/);
  });

  it('a blob whose bytes changed is blob-corrupt, and only that (the manifest naming it is not reported twice)', async () => {
    const { root, chart } = await fixture();
    const path = blobPath(root, chart.layer);
    const bytes = await readFile(path);
    bytes[3] ^= 1;
    await writeFile(path, bytes);
    // A corrupt manifest blob too: reported as a blob, not again as an unreadable manifest.
    const m = blobPath(root, chart.digest);
    await writeFile(m, (await readFile(m, 'utf8')).replace('schemaVersion', 'schemaVersiom'));
    const report = await checkRegistryStorage({ dataDir: root });
    assert.deepEqual(kinds(report), [`blob-corrupt ${chart.digest}`, `blob-corrupt ${chart.layer}`].sort());
    const problem = report.problems.find((p) => p.digest === chart.layer)!;
    assert.equal(problem.path, `blobs/sha256/${chart.layer.slice(7, 9)}/${chart.layer.slice(7)}/data`);
    assert.match(problem.message, /hashes to sha256:/);
    assert.equal(report.ok, false);
  });

  it('a missing blob is blob-missing for the manifest needing it and link-dangling for the repository linking it', async () => {
    const { root, chart } = await fixture();
    await rm(join(blobPath(root, chart.config), '..'), { recursive: true });
    const report = await checkRegistryStorage({ dataDir: root });
    assert.deepEqual(kinds(report), [`blob-missing ${chart.config}`, `link-dangling ${chart.config}`]);
    const missing = report.problems.find((p) => p.kind === 'blob-missing')!;
    assert.equal(missing.repository, 'p/chart');
    assert.match(missing.message, new RegExp(`manifest ${chart.digest} in p/chart needs blob ${chart.config}`));
  });

  it('a tag naming a manifest the repository does not hold is tag-dangling; one holding no digest is tag-invalid', async () => {
    const { root, chart, other } = await fixture();
    // The revision goes, its tag stays: what a delete that skipped the tags would leave.
    await rm(repoPath(root, 'p/chart', '_manifests', 'revisions', 'sha256', chart.digest.slice(7)), { recursive: true });
    await writeFile(repoPath(root, 'p/chart', '_manifests', 'tags', '2.0.0', 'link'), 'not a digest');
    const report = await checkRegistryStorage({ dataDir: root });
    assert.deepEqual(kinds(report), ['tag-dangling 1.0.0', 'tag-invalid 2.0.0']);
    assert.equal(report.problems.find((p) => p.kind === 'tag-dangling')!.digest, chart.digest);
    assert.equal(report.manifests, 4, `${other.digest} and the others are still held`);
  });

  it("a held manifest whose bytes are gone is manifest-missing; an index's missing child is blob-missing", async () => {
    const { root, chart, idx } = await fixture();
    await rm(blobPath(root, chart.digest));
    const index = JSON.parse(await readFile(blobPath(root, idx.digest), 'utf8')) as { manifests: Desc[] };
    const child = index.manifests[1]!.digest;
    await rm(blobPath(root, child));
    const report = await checkRegistryStorage({ dataDir: root });
    assert.deepEqual(kinds(report), [`blob-missing ${child}`, `manifest-missing ${chart.digest}`, `manifest-missing ${child}`].sort());
    const viaIndex = report.problems.find((p) => p.kind === 'blob-missing')!;
    assert.match(viaIndex.message, new RegExp(`manifest ${idx.digest} in p/multi/x needs child manifest ${child}`));
    // Folders without their data are leftovers (what a gc killed between its two removals leaves), not more problems.
    assert.deepEqual(
      report.leftovers.map((l) => l.kind),
      ['empty-folder', 'empty-folder'],
    );
  });

  it('an unreadable revision record and a manifest that is not JSON are manifest-invalid; a stray file in the blob store is unexpected', async () => {
    const { root, storage, other } = await fixture();
    await writeFile(repoPath(root, 'p/chart', '_manifests', 'revisions', 'sha256', other.digest.slice(7), 'link'), '{"digest":"sha256:0"}');
    const junk = Buffer.from('this is not json');
    const junkDigest = digestOf(junk);
    await storage.putManifest('p/junk', junk, OCI_MANIFEST, 'junk');
    await writeFile(join(root, 'blobs', 'sha256', 'README'), 'hello');
    const report = await checkRegistryStorage({ dataDir: root });
    // The tag of the manifest whose record is unreadable names nothing the repository can serve.
    assert.deepEqual(
      kinds(report),
      [`manifest-invalid ${junkDigest}`, `manifest-invalid ${other.digest}`, 'tag-dangling 2.0.0', 'unexpected-entry'].sort(),
    );
  });

  it('temp files of killed writes are leftovers, not problems', async () => {
    const { root, chart } = await fixture();
    const tagDir = repoPath(root, 'p/chart', '_manifests', 'tags', '1.0.0');
    await writeFile(join(tagDir, `.link.99999.0badf00d.tmp`), chart.digest);
    await writeFile(join(blobPath(root, chart.layer), '..', '.data.99999.12345678.tmp'), 'half');
    const report = await checkRegistryStorage({ dataDir: root });
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.leftovers.map((l) => `${l.kind} ${l.path.split('/').pop()}`),
      ['temp-file .data.99999.12345678.tmp', 'temp-file .link.99999.0badf00d.tmp'],
    );
  });

  it('streams: hashing a 256 MiB blob does not grow memory by its size', async () => {
    const { root } = await fixture();
    // Sparse, so the test writes nothing; named by a digest it does not have, so it is also reported.
    const fake = `sha256:${'ab'.repeat(32)}`;
    const path = blobPath(root, fake);
    await mkdir(join(path, '..'), { recursive: true });
    const fh = await open(path, 'w');
    await fh.truncate(256 * 1024 * 1024);
    await fh.close();
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const report = await checkRegistryStorage({ dataDir: root });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.deepEqual(kinds(report), [`blob-corrupt ${fake}`]);
    assert.ok(report.blobBytes >= 256 * 1024 * 1024);
    const grew = (peak - before) / (1024 * 1024);
    assert.ok(grew < 64, `memory grew by ${grew.toFixed(0)} MiB while hashing 256 MiB`);
  });

  it('refuses while another holder has the data folder (REGISTRY_DATA_LOCKED), and a folder holding no registry (FILE_NOT_FOUND)', async () => {
    const { root } = await fixture();
    const lock = await acquireDataLock(root, 'registry server');
    try {
      await assert.rejects(
        checkRegistryStorage({ dataDir: root }),
        (err: unknown) => isChartprovError(err) && err.code === 'REGISTRY_DATA_LOCKED',
      );
    } finally {
      await lock.release();
    }
    const empty = join(root, '..', 'not-a-registry');
    await mkdir(empty);
    await assert.rejects(
      checkRegistryStorage({ dataDir: empty }),
      (err: unknown) => isChartprovError(err) && err.code === 'FILE_NOT_FOUND',
    );
    await assert.rejects(stat(join(empty, LOCK_FILE)), /ENOENT/, 'no lock file left in a folder that is no registry');
  });
});

describe('chartprov serve check', () => {
  it('text on a clean store (exit 0); problems, one a line, and exit 1; -o json; refused while locked', async () => {
    const { root, chart } = await fixture();
    const clean = await runCli(['serve', 'check', '--data', root]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /^check: 13 blobs \(\d+ bytes\) re-hashed, 5 manifests and 3 tags in 2 repositories: no problems$/m);

    await rm(join(blobPath(root, chart.layer), '..'), { recursive: true });
    const bad = await runCli(['serve', 'check', '--data', root]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(
      bad.stdout,
      new RegExp(`^blob-missing: manifest ${chart.digest} in p/chart needs blob ${chart.layer}, which is not stored \\(blobs/sha256/`, 'm'),
    );
    assert.match(bad.stdout, /^check: 12 blobs .*: 2 problems$/m);

    const json = await runCli(['serve', 'check', '--data', root, '-o', 'json']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as StorageCheckReport;
    assert.equal(report.ok, false);
    assert.deepEqual(kinds(report), [`blob-missing ${chart.layer}`, `link-dangling ${chart.layer}`]);

    const lock = await acquireDataLock(root, 'registry server');
    try {
      const locked = await runCli(['serve', 'check', '--data', root]);
      assert.equal(locked.code, 1);
      assert.match(locked.stderr, /^error\[REGISTRY_DATA_LOCKED\]: .*in use by registry server/m);
    } finally {
      await lock.release();
    }
  });
});

describe('temp files of killed writes', () => {
  it("the server's start removes other processes' temp files (what the check lists as leftovers), never this process's", async () => {
    const { root, chart } = await fixture();
    const tagDir = repoPath(root, 'p/chart', '_manifests', 'tags', '1.0.0');
    const dead = join(tagDir, '.link.99999.0badf00d.tmp');
    const mine = join(blobPath(root, chart.layer), '..', `.data.${process.pid}.12345678.tmp`);
    await writeFile(dead, chart.digest);
    await writeFile(mine, 'a write in progress');
    assert.equal((await checkRegistryStorage({ dataDir: root })).leftovers.length, 2);
    assert.equal(await removeInterruptedWrites(root), 1);
    await assert.rejects(stat(dead), /ENOENT/);
    await stat(mine);
    assert.deepEqual(
      (await checkRegistryStorage({ dataDir: root })).leftovers.map((l) => l.path.split('/').pop()),
      [`.data.${process.pid}.12345678.tmp`],
    );
  });

  it("a temp file with our pid but older than this process is an earlier process's (pid reuse, PID 1 in a container): removed", async () => {
    const { root, chart } = await fixture();
    const old = join(blobPath(root, chart.layer), '..', `.data.${process.pid}.0ddba11.tmp`);
    await writeFile(old, 'left by a killed predecessor with the same pid');
    const before = new Date(Date.now() - process.uptime() * 1000 - 60_000);
    await utimes(old, before, before);
    assert.equal(await removeInterruptedWrites(root), 1);
    await assert.rejects(stat(old), /ENOENT/);
  });
});
