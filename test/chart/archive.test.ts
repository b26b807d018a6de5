import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGzip, gzipSync } from 'node:zlib';
import { packageChartToBuffer, readChartArchive } from '../../src/chart/index.js';
import { tempDir } from '../peers/tmp.js';
import { chartFixtures, helloWorldHelm3, readTgz } from './support.js';

/** One raw tar header: lets the tests write entries node-tar would refuse to create. */
function tarHeader(name: string, opts: { size?: number; type?: string; linkname?: string } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${(opts.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.fill(0x20, 148, 156);
  h.write(opts.type ?? '0', 156);
  h.write(opts.linkname ?? '', 157, 100);
  h.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function tarFile(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([tarHeader(name, { size: body.length }), body, pad]);
}

function tgz(...parts: Buffer[]): Buffer {
  return gzipSync(Buffer.concat([...parts, Buffer.alloc(1024)]));
}

const chartYaml = 'apiVersion: v2\nname: evil\nversion: 1.0.0\n';

/**
 * A gzip of `count` blocks, each `prefix` (if any) then `mib` MiB of zeros,
 * written in 1 MiB steps so the test itself stays small.
 */
async function zeroBomb(count: number, mib: number, prefix?: (i: number) => Buffer): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const zeros = Buffer.alloc(1 << 20);
  for (let n = 0; n < count; n++) {
    if (prefix) gz.write(prefix(n));
    for (let i = 0; i < mib; i++) {
      if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
    }
  }
  gz.end();
  await done;
  return Buffer.concat(out);
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('readChartArchive', () => {
  it('reads the Helm 3 fixture archive', async () => {
    const info = await readChartArchive(helloWorldHelm3);
    assert.equal(info.chartName, 'hello-world');
    assert.equal(info.metadata.name, 'hello-world');
    assert.equal(info.metadata.version, '0.1.0');
    assert.equal(info.metadata.apiVersion, 'v2');
    assert.ok(info.entries.includes('hello-world/.helmignore'));
    assert.equal(info.entries[0], 'hello-world/Chart.yaml');
    const stored = (await readTgz(helloWorldHelm3)).find((e) => e.path === 'hello-world/Chart.yaml')!;
    assert.equal(info.chartYamlText, stored.data.toString('utf8'));
  });

  it('reads from bytes and picks the top chart, not a dependency', async () => {
    const { data } = await packageChartToBuffer({ chartDir: join(chartFixtures, 'equiv') });
    const info = await readChartArchive(data);
    assert.equal(info.metadata.name, 'equiv');
    assert.ok(info.entries.includes('equiv/charts/sub/Chart.yaml'));
    assert.ok(!info.entries.some((e) => e.endsWith('/')), 'no folder entries');
  });

  it('skips folder entries as Helm does', async () => {
    const info = await readChartArchive(tgz(tarHeader('evil/', { type: '5' }), tarFile('evil/Chart.yaml', chartYaml)));
    assert.deepEqual(info.entries, ['evil/Chart.yaml']);
  });

  const hostile: [string, Buffer, RegExp][] = [
    ['a "../" entry', tgz(tarFile('evil/Chart.yaml', chartYaml), tarFile('../evil.txt', 'x')), /outside the chart folder/],
    ['a ".." inside the path', tgz(tarFile('evil/Chart.yaml', chartYaml), tarFile('evil/../../x', 'x')), /outside the chart folder/],
    ['an absolute path', tgz(tarFile('/etc/evil/Chart.yaml', chartYaml)), /absolute path/],
    [
      'a symlink',
      tgz(tarFile('evil/Chart.yaml', chartYaml), tarHeader('evil/link', { type: '2', linkname: '/etc/passwd' })),
      /symbolic link/,
    ],
    [
      'a hard link',
      tgz(tarFile('evil/Chart.yaml', chartYaml), tarHeader('evil/hard', { type: '1', linkname: 'evil/Chart.yaml' })),
      /hard link/,
    ],
    ['two top folders', tgz(tarFile('evil/Chart.yaml', chartYaml), tarFile('other/values.yaml', 'a: 1')), /more than one top-level folder/],
    ['a file outside any folder', tgz(tarFile('Chart.yaml', chartYaml)), /not inside a chart folder/],
    ['the same path twice', tgz(tarFile('evil/Chart.yaml', chartYaml), tarFile('evil/Chart.yaml', chartYaml)), /twice/],
    ['gzip around garbage', gzipSync(Buffer.from('this is not a tar archive at all'.repeat(40))), /not a valid tar archive/],
    ['a truncated gzip stream', tgz(tarFile('evil/Chart.yaml', chartYaml)).subarray(0, 40), /not a valid gzip stream/],
    ['gzip inside gzip', gzipSync(tgz(tarFile('evil/Chart.yaml', chartYaml))), /another gzip stream/],
    ['a tar cut short', gzipSync(tarFile('evil/Chart.yaml', chartYaml).subarray(0, 520)), /truncated/],
  ];
  for (const [what, bytes, message] of hostile) {
    it(`refuses ${what} with ChartArchiveError`, async () => {
      await assert.rejects(readChartArchive(bytes), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CHART_ARCHIVE_INVALID', err.message);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('refuses something that is not gzip with NotAChartError', async () => {
    await assert.rejects(readChartArchive(Buffer.from('apiVersion: v2\n')), { code: 'NOT_A_CHART', message: /not gzip-compressed/ });
    await assert.rejects(readChartArchive(Buffer.alloc(0)), { code: 'NOT_A_CHART' });
  });

  it('wants Chart.yaml in the top folder', async () => {
    await assert.rejects(readChartArchive(tgz(tarFile('evil/values.yaml', 'a: 1\n'))), {
      code: 'NOT_A_CHART',
      message: /Chart\.yaml file is missing/,
    });
    await assert.rejects(readChartArchive(tgz(tarFile('evil/charts/sub/Chart.yaml', chartYaml))), { code: 'NOT_A_CHART' });
    await assert.rejects(readChartArchive(tgz(tarFile('evil/Chart.yaml', 'name: [x\n'))), { code: 'CHART_YAML_INVALID' });
  });

  // Speed and memory of these are measured in bench/, not asserted here.
  it('refuses a gzip bomb (75 files of 4 MiB of zeros: 300 MiB) at the decompressed limit', async () => {
    const bomb = await zeroBomb(75, 4, (i) => tarHeader(`evil/part${i}.bin`, { size: 4 << 20 }));
    assert.ok(bomb.length < 1 << 20, 'the bomb itself is small');
    await assert.rejects(readChartArchive(bomb), { code: 'CHART_ARCHIVE_INVALID', message: /more than 104857600 bytes/ });
  });

  it('stops reading at the end-of-archive marker (a bomb of zeros after it is never inflated)', async () => {
    const chart = tarFile('evil/Chart.yaml', chartYaml);
    // 200 MiB of zeros after the marker: over the 100 MiB limit if inflated.
    const bomb = await zeroBomb(1, 200, () => chart);
    assert.equal((await readChartArchive(bomb)).metadata.name, 'evil');
    await assert.rejects(readChartArchive(await zeroBomb(1, 200)), { code: 'NOT_A_CHART', message: /holds no files/ });
  });

  it('refuses a file bigger than Helm loads before reading its body', async () => {
    // With a smaller total limit than the body: refused by the file limit, so before the body was inflated.
    const bomb = await zeroBomb(1, 64, () => tarHeader('evil/huge.bin', { size: 64 << 20 }));
    await assert.rejects(readChartArchive(bomb, { maxBytes: 6 << 20 }), {
      code: 'CHART_ARCHIVE_INVALID',
      message: /larger than 5242880 bytes/,
    });
  });

  it('honours a smaller maxBytes', async () => {
    const big = tgz(tarFile('evil/Chart.yaml', chartYaml), tarFile('evil/big.txt', 'x'.repeat(200_000)));
    await assert.rejects(readChartArchive(big, { maxBytes: 64 * 1024 }), { code: 'CHART_ARCHIVE_INVALID', message: /65536/ });
    assert.equal((await readChartArchive(big)).metadata.name, 'evil');
  });

  it('a missing file is FileNotFoundError', async () => {
    await assert.rejects(readChartArchive('/nonexistent/chart-1.0.0.tgz'), { code: 'FILE_NOT_FOUND' });
  });
});

describe('readChartArchive: the archive file', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
  });
  after(() => tmp.cleanup());

  it('returns the sha256 and size of the file it read', async () => {
    const info = await readChartArchive(helloWorldHelm3);
    const bytes = await readFile(helloWorldHelm3);
    assert.equal(info.sha256, sha256(bytes));
    assert.equal(info.size, bytes.length);
    const fromBytes = await readChartArchive(bytes);
    assert.equal(fromBytes.sha256, info.sha256);
    assert.equal(fromBytes.size, info.size);
  });

  it('the digest covers the whole file, also what follows the end-of-archive marker', async () => {
    // Helm hashes the whole file; the reader stops at the marker, the hash must not.
    const file = join(tmp.dir, 'padded-1.0.0.tgz');
    const bytes = await zeroBomb(1, 16, () => tarFile('evil/Chart.yaml', chartYaml));
    assert.ok(bytes.length > 8 * 1024, 'far more compressed bytes than the marker needs');
    await writeFile(file, bytes);
    const info = await readChartArchive(file);
    assert.equal(info.metadata.name, 'evil');
    assert.equal(info.size, bytes.length);
    assert.equal(info.sha256, sha256(bytes));
  });

  it('refuses a file larger than the limit', async () => {
    const file = join(tmp.dir, 'big-1.0.0.tgz');
    await writeFile(file, await zeroBomb(1, 80, () => tarFile('evil/Chart.yaml', chartYaml)));
    assert.ok((await readFile(file)).length > 64 * 1024);
    await assert.rejects(readChartArchive(file, { maxBytes: 64 * 1024 }), { code: 'CHART_ARCHIVE_INVALID', message: /65536/ });
    await assert.rejects(readChartArchive(await readFile(file), { maxBytes: 64 * 1024 }), {
      code: 'CHART_ARCHIVE_INVALID',
      message: /65536/,
    });
  });

  it('a folder is NotAChartError with a hint to package it', async () => {
    const dir = join(tmp.dir, 'mychart');
    await mkdir(dir);
    await assert.rejects(readChartArchive(dir), (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, 'NOT_A_CHART', err.message);
      assert.match(err.message, /is a folder/);
      assert.match(err.hint ?? '', /package it first/);
      return true;
    });
  });

  it('a read error is FileReadError, not a raw Node error', async (t) => {
    // /proc/self/mem opens and stats as a regular file, then fails to read (EIO).
    if (!existsSync('/proc/self/mem')) return t.skip('needs Linux /proc');
    const link = join(tmp.dir, 'mem-1.0.0.tgz');
    await symlink('/proc/self/mem', link);
    await assert.rejects(readChartArchive(link), { code: 'FILE_UNREADABLE' });
  });

  it('names with line breaks stay on one line in messages', async () => {
    const file = join(tmp.dir, 'bad\nname.tgz');
    await writeFile(file, 'not gzip');
    await assert.rejects(readChartArchive(file), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NOT_A_CHART');
      assert.ok(!err.message.includes('\n'), err.message);
      assert.ok(err.message.includes('"bad\\nname.tgz"'), err.message);
      return true;
    });
  });
});
