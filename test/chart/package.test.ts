import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, chmod, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MTIME, packageChart, packageChartToBuffer, resolveMtime } from '../../src/chart/index.js';
import { tempDir } from '../peers/tmp.js';
import { chartFixtures, readTgz } from './support.js';

const FIXTURE = join(chartFixtures, 'equiv');

const sha256File = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/** Runs fn with SOURCE_DATE_EPOCH set (or unset), restoring it after. */
async function withEpoch<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined) delete process.env.SOURCE_DATE_EPOCH;
  else process.env.SOURCE_DATE_EPOCH = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
}

describe('packageChart: archive format', () => {
  it('writes regular files only, mode 0644, uid/gid 0, no user names, one fixed mtime, one top folder', async () => {
    const { data } = await withEpoch(undefined, () => packageChartToBuffer({ chartDir: FIXTURE }));
    assert.deepEqual([...data.subarray(0, 4)], [0x1f, 0x8b, 0x08, 0x00], 'gzip, no file name or extra fields');
    assert.deepEqual([...data.subarray(4, 8)], [0, 0, 0, 0], 'no mtime in the gzip header');
    assert.equal(data[9], 0xff, 'gzip OS byte fixed');
    const entries = await readTgz(data);
    assert.ok(entries.length > 10);
    for (const e of entries) {
      assert.equal(e.type, 'File', e.path);
      assert.equal(e.mode, 0o644, e.path);
      assert.equal(e.uid, 0);
      assert.equal(e.gid, 0);
      assert.ok(!e.uname && !e.gname, 'empty user and group names');
      assert.equal(e.mtime?.getTime(), DEFAULT_MTIME.getTime(), e.path);
      assert.ok(e.path.startsWith('equiv/'), e.path);
    }
  });

  it('handles paths longer than 100 bytes and non-ASCII names', async () => {
    const tmp = await tempDir();
    try {
      const chart = join(tmp.dir, 'long');
      const deep = join(chart, 'files', 'a'.repeat(60), 'b'.repeat(60));
      await mkdir(deep, { recursive: true });
      await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: long\nversion: 1.0.0\n');
      await writeFile(join(deep, 'c'.repeat(90)), 'deep\n');
      await writeFile(join(deep, `${'d'.repeat(150)}.txt`), 'pax\n');
      await writeFile(join(chart, 'files', 'übersicht-日本.txt'), 'unicode\n');
      const { data } = await packageChartToBuffer({ chartDir: chart });
      const byPath = new Map((await readTgz(data)).map((e) => [e.path, e.data.toString()]));
      assert.equal(byPath.get(`long/files/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(90)}`), 'deep\n');
      assert.equal(byPath.get(`long/files/${'a'.repeat(60)}/${'b'.repeat(60)}/${'d'.repeat(150)}.txt`), 'pax\n');
      assert.equal(byPath.get('long/files/übersicht-日本.txt'), 'unicode\n');
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('packageChart: reproducible', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
  });
  after(() => tmp.cleanup());

  it('gives the same bytes twice, from copies with other mtimes, into other folders', async () => {
    const copy = join(tmp.dir, 'copy', 'equiv');
    await cp(FIXTURE, copy, { recursive: true });
    const old = new Date('2001-02-03T04:05:06Z');
    for (const f of ['Chart.yaml', 'values.yaml', 'templates/deployment.yaml', 'charts/sub/Chart.yaml'])
      await utimes(join(copy, f), old, old);
    const outs = ['a', 'b', 'c'].map((n) => join(tmp.dir, n));
    await Promise.all(outs.map((o) => mkdir(o)));
    const results = await withEpoch(undefined, () =>
      Promise.all([
        packageChart({ chartDir: FIXTURE, destination: outs[0] }),
        packageChart({ chartDir: FIXTURE, destination: outs[1] }),
        packageChart({ chartDir: copy, destination: outs[2] }),
      ]),
    );
    const digests = await Promise.all(results.map((r) => sha256File(r.path)));
    assert.equal(new Set(digests).size, 1, 'same sha256 everywhere');
    assert.equal(results[0]!.sha256, digests[0], 'the returned digest is that of the bytes written');
    assert.equal(results[0]!.size, (await readFile(results[0]!.path)).length);
    const buf = await withEpoch(undefined, () => packageChartToBuffer({ chartDir: copy }));
    assert.equal(buf.sha256, digests[0]);
  });

  it('SOURCE_DATE_EPOCH sets every mtime; an explicit mtime wins over it', async () => {
    const a = await withEpoch('1700000000', () => packageChartToBuffer({ chartDir: FIXTURE }));
    const b = await withEpoch('1700000000', () => packageChartToBuffer({ chartDir: FIXTURE }));
    const c = await withEpoch(undefined, () => packageChartToBuffer({ chartDir: FIXTURE }));
    assert.equal(a.sha256, b.sha256);
    assert.notEqual(a.sha256, c.sha256);
    for (const e of await readTgz(a.data)) assert.equal(e.mtime?.getTime(), 1700000000 * 1000);
    const explicit = await withEpoch('1700000000', () =>
      packageChartToBuffer({ chartDir: FIXTURE, mtime: new Date('2020-01-01T00:00:00Z') }),
    );
    for (const e of await readTgz(explicit.data)) assert.equal(e.mtime?.toISOString(), '2020-01-01T00:00:00.000Z');
  });

  it('refuses a SOURCE_DATE_EPOCH that is not a number of seconds', () => {
    assert.throws(() => resolveMtime(undefined, { SOURCE_DATE_EPOCH: 'yesterday' }), { code: 'USAGE' });
    assert.equal(resolveMtime(undefined, {}), DEFAULT_MTIME.getTime() / 1000);
    assert.equal(resolveMtime(undefined, { SOURCE_DATE_EPOCH: '42' }), 42);
  });
});

describe('packageChart: atomic write', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
  });
  after(() => tmp.cleanup());

  it('a missing destination is FileNotFoundError', async () => {
    await assert.rejects(packageChart({ chartDir: FIXTURE, destination: join(tmp.dir, 'nope') }), { code: 'FILE_NOT_FOUND' });
  });

  it('a destination that is a file is FileWriteError', async () => {
    const file = join(tmp.dir, 'file');
    await writeFile(file, 'x');
    await assert.rejects(packageChart({ chartDir: FIXTURE, destination: file }), { code: 'FILE_WRITE_FAILED' });
  });

  it('a destination under a regular file is FileWriteError', async () => {
    // ENOTDIR, for root too.
    const file = join(tmp.dir, 'a-file');
    await writeFile(file, 'x');
    await assert.rejects(packageChart({ chartDir: FIXTURE, destination: join(file, 'sub') }), { code: 'FILE_WRITE_FAILED' });
  });

  it('a folder we may not write into is FileWriteError and leaves nothing behind', async (t) => {
    if (process.getuid?.() === 0) return t.skip('chmod does not stop root');
    const dest = join(tmp.dir, 'ro');
    await mkdir(dest);
    await chmod(dest, 0o555);
    try {
      await assert.rejects(packageChart({ chartDir: FIXTURE, destination: dest }), { code: 'FILE_WRITE_FAILED' });
      assert.deepEqual(await readdir(dest), []);
    } finally {
      await chmod(dest, 0o755);
    }
  });

  it('a failure while writing removes the temp file', async () => {
    // The final name is taken by a folder: the rename fails after the temp file was written.
    const dest = join(tmp.dir, 'taken');
    await mkdir(join(dest, 'equiv-0.3.1.tgz', 'inside'), { recursive: true });
    await assert.rejects(packageChart({ chartDir: FIXTURE, destination: dest }), { code: 'FILE_WRITE_FAILED' });
    assert.deepEqual(await readdir(dest), ['equiv-0.3.1.tgz']);
  });

  it('replaces an existing archive and leaves no temp file', async () => {
    const dest = join(tmp.dir, 'again');
    await mkdir(dest);
    await writeFile(join(dest, 'equiv-0.3.1.tgz'), 'old');
    const r = await packageChart({ chartDir: FIXTURE, destination: dest });
    assert.deepEqual(await readdir(dest), ['equiv-0.3.1.tgz']);
    assert.equal(await sha256File(r.path), r.sha256);
  });
});
