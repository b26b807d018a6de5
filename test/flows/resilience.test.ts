// The chartprov command against the embedded registry behind a fault-injecting
// proxy (issue 10, part 4), as a user meets a bad network: pull resumes a
// chart blob cut off mid-way, or fails clearly and leaves the destination
// exactly as it was (archive and --untar alike); --timeout / CHARTPROV_TIMEOUT
// stop a silent registry but not a slow one; push starts a broken upload over
// and waits out a 429; copy and mirror report the one version a 503 broke
// and carry the others over.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageAndSignChart, pushCharts } from '../../src/index.js';
import { helloWorldSource } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { resumesWithin, startFaultProxy, type FaultProxy } from '../peers/fault-proxy.js';
import { recordFigure } from '../peers/figures.js';
import { tempDir } from '../peers/tmp.js';

const NOISE = 192 * 1024;
const CHART = 'hello-world';
const BLOB_GET = /\/blobs\/sha256:/;

let work: string;
let cleanup: () => Promise<void>;
let reg: EmbeddedRegistry;
let proxy: FaultProxy;
/** The archives pushed to charts/hello-world, by version. */
const archives: Record<string, string> = {};

/** Credentials for the proxy's host (and the registry's, for copy and mirror) from the environment, as CI gives them. */
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  CHARTPROV_USERNAME: reg.admin.username,
  CHARTPROV_PASSWORD: reg.admin.password,
  CHARTPROV_REGISTRY: `${proxy.host},${reg.host}`,
  ...extra,
});

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/** Every name under `dir` (hidden ones too) with its size and hash: to prove a failed pull changed nothing. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    out.push(e.isDirectory() ? `${path}/` : `${path} ${(await stat(path)).size} ${await sha256(path)}`);
  }
  return out.sort();
}

/** A destination that already holds a previous pull and a file of the user's. */
async function usedDestination(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, `${CHART}-0.1.0.tgz`), 'the archive pulled last week\n');
  await writeFile(join(dir, 'notes.txt'), 'mine\n');
  return dir;
}

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-flow-resilience-'));
  reg = await startEmbedded({ projects: ['charts', 'copies', 'mirrored', 'resumed'] });
  proxy = await startFaultProxy(reg.url);
  const src = await helloWorldSource(work);
  // Random bytes do not compress: the chart layer is ~200 KiB, big enough to break in the middle.
  await mkdir(join(src, 'files'));
  await writeFile(join(src, 'files', 'noise.bin'), randomBytes(NOISE));
  for (const version of ['0.1.0', '0.2.0', '0.3.0', '0.4.0']) {
    const r = await packageAndSignChart({ chartDir: src, destination: join(work, 'dist'), version });
    archives[version] = r.path;
  }
  const pushed = await pushCharts({
    charts: ['0.1.0', '0.2.0', '0.3.0'].map((v) => archives[v]!),
    destination: `oci://${reg.host}/charts`,
    plainHttp: true,
    clientOptions: { credential: { ...reg.admin } },
  });
  assert.equal(pushed.failed, 0, JSON.stringify(pushed.results));
});

after(async () => {
  await proxy?.close();
  await reg?.stop();
  await cleanup?.();
});

const ref = (version: string, host = proxy.host) => [`oci://${host}/charts/${CHART}`, '--version', version, '--plain-http'];

describe('pull through a connection that breaks', () => {
  it('a chart blob cut off mid-way is resumed and the pull succeeds', async () => {
    proxy.clear();
    const rule = proxy.add({
      name: 'reset chart blob',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-response', afterBytes: 80_000 },
    });
    const dest = join(work, 'pull-resumed');
    const r = await runCli(['pull', ...ref('0.1.0'), '-d', dest], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rule.injected, 1);
    assert.equal(await sha256(join(dest, `${CHART}-0.1.0.tgz`)), await sha256(archives['0.1.0']!));
    assert.ok(
      proxy.requests.some((q) => resumesWithin(q.range, 80_000)),
      'resumed with a Range request',
    );
    recordFigure({
      area: 'client',
      item: 'chartprov pull: chart blob reset after 80000 bytes once',
      tried: 1,
      outcome: 'resumed (Range), exit 0, archive intact',
      lost: 0,
    });
  });

  for (const untar of [false, true]) {
    it(`a blob that keeps breaking: REGISTRY_UNREACHABLE, and the destination is exactly as before${untar ? ' (--untar)' : ''}`, async () => {
      proxy.clear();
      const rule = proxy.add({
        name: 'reset every time',
        method: 'GET',
        path: BLOB_GET,
        authorized: true,
        fault: { kind: 'reset-response', afterBytes: 30_000 },
      });
      const dest = await usedDestination(untar ? 'pull-broken-untar' : 'pull-broken');
      const before = await snapshot(dest);
      const r = await runCli(['pull', ...ref('0.2.0'), '-d', dest, ...(untar ? ['--untar'] : [])], { env: env() });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error\[REGISTRY_UNREACHABLE\]: connection to registry 127\.0\.0\.1:\d+ broke off after \d+ of \d+ bytes of blob sha256:/m,
      );
      assert.match(r.stderr, /resumed 3 times/);
      assert.equal(rule.injected, 4, 'the first try and three resumes');
      const afterwards = await snapshot(dest);
      assert.deepEqual(afterwards, before, 'no partial archive, no partial chart folder, no staging folder left');
      recordFigure({
        area: 'client',
        item: `chartprov pull${untar ? ' --untar' : ''}: chart blob reset after every 30000 bytes`,
        tried: rule.injected,
        outcome: 'exit 1 REGISTRY_UNREACHABLE after 3 resumes; destination unchanged',
        lost: afterwards.filter((p) => !before.includes(p)).length,
      });
    });
  }

  it('--untar after a blob that broke once unpacks the whole chart', async () => {
    proxy.clear();
    proxy.add({
      name: 'reset once',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-response', afterBytes: 50_000 },
    });
    const dest = join(work, 'untar-resumed');
    const r = await runCli(['pull', ...ref('0.3.0'), '-d', dest, '--untar'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(join(dest, CHART, 'files', 'noise.bin'))).size, NOISE);
    assert.match(await readFile(join(dest, CHART, 'Chart.yaml'), 'utf8'), /^version: 0\.3\.0$/m);
  });
});

describe('timeouts', () => {
  it('CHARTPROV_TIMEOUT and --timeout: a registry that never answers fails with REGISTRY_TIMEOUT in about that time', async () => {
    for (const how of ['env', 'flag'] as const) {
      proxy.clear();
      proxy.add({ name: 'hang', method: 'GET', path: /\/manifests\//, fault: { kind: 'hang' } });
      const dest = await usedDestination(`timeout-${how}`);
      const before = await snapshot(dest);
      const started = Date.now();
      const r = await runCli(['pull', ...ref('0.1.0'), '-d', dest, ...(how === 'flag' ? ['--timeout', '1500ms'] : [])], {
        env: env(how === 'env' ? { CHARTPROV_TIMEOUT: '1.5s' } : {}),
      });
      const ms = Date.now() - started;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error\[REGISTRY_TIMEOUT\]: registry 127\.0\.0\.1:\d+ sent no answer for 1\.5 s to pull /m, how);
      assert.match(r.stderr, /^hint: .*--timeout/m);
      // Start-up of the CLI on a busy machine included; the default would be 5 minutes.
      assert.ok(ms < 15_000, `${how}: failed after ${ms} ms`);
      assert.deepEqual(await snapshot(dest), before);
      recordFigure({
        area: 'client',
        item: `chartprov pull, registry never answers, timeout 1.5 s (${how})`,
        tried: 1,
        outcome: `exit 1 REGISTRY_TIMEOUT after ${ms} ms (CLI start-up included)`,
        lost: 0,
      });
    }
  });

  it('a bad duration is a usage error', async () => {
    const flag = await runCli(['versions', `oci://${proxy.host}/charts/${CHART}`, '--plain-http', '--timeout', 'soon']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /^error\[USAGE\]: --timeout "soon" is not a duration/m);
    const fromEnv = await runCli(['versions', `oci://${proxy.host}/charts/${CHART}`, '--plain-http'], { env: { CHARTPROV_TIMEOUT: '0s' } });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /^error\[USAGE\]: CHARTPROV_TIMEOUT "0s" is not a duration/m);
  });

  it('a slow registry that keeps sending is not cut off by a short timeout', async () => {
    proxy.clear();
    proxy.add({
      name: 'trickle',
      method: 'GET',
      path: BLOB_GET,
      authorized: true,
      fault: { kind: 'throttle', chunkBytes: 32 * 1024, intervalMs: 400 },
    });
    const dest = join(work, 'slow');
    const started = Date.now();
    // Gaps of 400 ms against 1.5 s: undici checks timeouts on a coarse clock (± half a second).
    const r = await runCli(['pull', ...ref('0.1.0'), '-d', dest], { env: env({ CHARTPROV_TIMEOUT: '1.5s' }) });
    const ms = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256(join(dest, `${CHART}-0.1.0.tgz`)), await sha256(archives['0.1.0']!));
    assert.ok(ms > 2500, `took ${ms} ms, longer than the 1.5 s timeout`);
    recordFigure({
      area: 'client',
      item: 'chartprov pull, chart blob trickling 32 KiB every 400 ms, CHARTPROV_TIMEOUT=1.5s',
      tried: 1,
      outcome: `exit 0 after ${ms} ms, archive intact`,
      lost: 0,
    });
  });
});

describe('push through a connection that breaks', () => {
  it('an upload reset mid-way starts over in a new session; a 429 with Retry-After is waited out', async () => {
    proxy.clear();
    const reset = proxy.add({
      name: 'reset upload',
      method: 'PUT',
      path: /\/blobs\/uploads\//,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-request', afterBytes: 64 * 1024 },
    });
    const limited = proxy.add({
      name: '429 on the manifest',
      method: 'PUT',
      path: /\/manifests\/0\.4\.0$/,
      authorized: true,
      times: 1,
      fault: {
        kind: 'status',
        status: 429,
        headers: { 'retry-after': '1' },
        body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
      },
    });
    const started = Date.now();
    const r = await runCli(['push', archives['0.4.0']!, `oci://${proxy.host}/charts`, '--plain-http'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reset.injected, 1);
    assert.equal(limited.injected, 1);
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    // Straight from the registry, not through the proxy: the chart is there, whole.
    const dest = join(work, 'pushed');
    const pulled = await runCli(['pull', ...ref('0.4.0', reg.host), '-d', dest], { env: env() });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(await sha256(join(dest, `${CHART}-0.4.0.tgz`)), await sha256(archives['0.4.0']!));
    recordFigure({
      area: 'client',
      item: 'chartprov push: chart layer upload reset after 64 KiB, then 429 Retry-After 1 on the manifest',
      tried: 2,
      outcome: 'new upload session, waited 1 s, exit 0, chart intact',
      lost: 0,
    });
  });
});

describe('copy and mirror with one version failing', () => {
  it('copy: a source blob cut off mid-stream is resumed, and the upload it feeds goes on', async () => {
    proxy.clear();
    // The chart layer (the config blob is small and would pass whole).
    const layer = new RegExp(`/blobs/sha256:${await sha256(archives['0.1.0']!)}$`);
    const rule = proxy.add({
      name: 'reset source blob',
      method: 'GET',
      path: layer,
      authorized: true,
      nth: [1],
      fault: { kind: 'reset-response', afterBytes: 90_000 },
    });
    const r = await runCli(
      ['copy', `oci://${proxy.host}/charts/${CHART}:0.1.0`, `oci://${reg.host}/resumed`, '--plain-http', '-o', 'json'],
      { env: env() },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rule.injected, 1);
    assert.ok(
      proxy.requests.some((q) => layer.test(q.url) && resumesWithin(q.range, 90_000)),
      'the read was resumed',
    );
    const dest = join(work, 'copied');
    const pulled = await runCli(['pull', `oci://${reg.host}/resumed/${CHART}`, '--version', '0.1.0', '--plain-http', '-d', dest], {
      env: env(),
    });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(await sha256(join(dest, `${CHART}-0.1.0.tgz`)), await sha256(archives['0.1.0']!));
    recordFigure({
      area: 'client',
      item: 'chartprov copy: source blob reset after 90000 bytes while streaming to the destination',
      tried: 1,
      outcome: 'read resumed (Range), one upload, exit 0, chart intact',
      lost: 0,
    });
  });

  it('copy --all-versions: a 503 on one version fails that version with the reason; the others are copied', async () => {
    proxy.clear();
    const rule = proxy.add({ name: '503 for 0.2.0', method: 'GET', path: /\/manifests\/0\.2\.0$/, fault: { kind: 'status', status: 503 } });
    const r = await runCli(
      ['copy', `oci://${proxy.host}/charts/${CHART}`, `oci://${reg.host}/copies`, '--all-versions', '--plain-http', '-o', 'json'],
      { env: env() },
    );
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as {
      copied: number;
      failed: number;
      results: Array<{ ok: boolean; version?: string; error?: { code: string; message: string } }>;
    };
    assert.equal(out.failed, 1);
    assert.equal(out.copied, out.results.length - 1);
    assert.ok(out.copied >= 2);
    const failed = out.results.find((x) => !x.ok)!;
    assert.equal(failed.version, '0.2.0');
    assert.equal(failed.error?.code, 'REGISTRY_ERROR');
    assert.match(failed.error!.message, /503/);
    assert.equal(rule.injected, 4, 'the GET and its three retries');
    recordFigure({
      area: 'client',
      item: 'chartprov copy --all-versions, 503 on every GET of one version',
      tried: rule.injected,
      outcome: `1 failed REGISTRY_ERROR (503), ${out.copied} copied, exit 1`,
      lost: 0,
    });
  });

  it('mirror oci://: a 503 on the write of one version fails it with the reason; the others are mirrored', async () => {
    proxy.clear();
    const rule = proxy.add({
      name: '503 on PUT 0.3.0',
      method: 'PUT',
      path: /\/manifests\/0\.3\.0$/,
      fault: { kind: 'status', status: 503 },
    });
    const r = await runCli(['mirror', `oci://${reg.host}/charts/${CHART}`, `oci://${proxy.host}/mirrored`, '--plain-http', '-o', 'json'], {
      env: env(),
    });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { results: Array<{ version: string; status: string; code?: string; reason?: string }> };
    const byVersion = Object.fromEntries(out.results.map((x) => [x.version, x]));
    assert.equal(byVersion['0.3.0']?.status, 'failed', JSON.stringify(out.results));
    assert.equal(byVersion['0.3.0']?.code, 'REGISTRY_ERROR');
    assert.match(byVersion['0.3.0']?.reason ?? '', /503/);
    const others = out.results.filter((x) => x.version !== '0.3.0');
    assert.ok(others.length >= 2);
    for (const x of others) assert.ok(['copied', 'unsigned'].includes(x.status), JSON.stringify(x));
    assert.ok(rule.injected >= 1);
    recordFigure({
      area: 'client',
      item: 'chartprov mirror oci:// → oci://, 503 on every manifest PUT of one version',
      tried: rule.injected,
      outcome: `1 failed REGISTRY_ERROR (503), ${others.length} mirrored, exit 1`,
      lost: 0,
    });
  });
});
