import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createGzip, gzipSync } from 'node:zlib';
import { packageChartToBuffer, readChartArchive, sha256File } from '../../src/chart/index.js';
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

/** Runs fn while sampling RSS; returns its peak growth in MiB. */
async function peakRssGrowth(fn: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  return (peak - start) / (1 << 20);
}

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

  it('stops a gzip bomb (75 files of 4 MiB of zeros: 300 MiB) fast and in bounded memory', async () => {
    const bomb = await zeroBomb(75, 4, (i) => tarHeader(`evil/part${i}.bin`, { size: 4 << 20 }));
    assert.ok(bomb.length < 1 << 20, 'the bomb itself is small');
    const started = Date.now();
    const growth = await peakRssGrowth(() =>
      assert.rejects(readChartArchive(bomb), { code: 'CHART_ARCHIVE_INVALID', message: /more than 104857600 bytes/ }),
    );
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    assert.ok(growth < 64, `memory grew by ${growth.toFixed(0)} MiB`);
  });

  it('stops reading at the end-of-archive marker (a bomb of zeros after it is never inflated)', async () => {
    const chart = tarFile('evil/Chart.yaml', chartYaml);
    const bomb = await zeroBomb(1, 200, () => chart);
    const started = Date.now();
    assert.equal((await readChartArchive(bomb)).metadata.name, 'evil');
    assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
    await assert.rejects(readChartArchive(await zeroBomb(1, 200)), { code: 'NOT_A_CHART', message: /holds no files/ });
  });

  it('refuses a file bigger than Helm loads before reading its body', async () => {
    const bomb = await zeroBomb(1, 64, () => tarHeader('evil/huge.bin', { size: 64 << 20 }));
    const started = Date.now();
    await assert.rejects(readChartArchive(bomb), { code: 'CHART_ARCHIVE_INVALID', message: /larger than 5242880 bytes/ });
    assert.ok(Date.now() - started < 2_000);
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

describe('sha256File', () => {
  it('streams the digest of a file', async () => {
    const expected = createHash('sha256')
      .update(await readFile(helloWorldHelm3))
      .digest('hex');
    assert.equal(await sha256File(helloWorldHelm3), expected);
  });
  it('a missing file is FileNotFoundError', async () => {
    await assert.rejects(sha256File('/nonexistent/file'), { code: 'FILE_NOT_FOUND' });
  });
});
