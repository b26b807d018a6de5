// Where a pulled chart's signature comes from: a chart pushed to the real
// docker-registry WITHOUT its prov verifies only through --prov-file or
// --prov-url (served by a small static HTTP server), which never receives the
// registry's credentials; a provenance layer from an unknown signer gives way
// to a given prov that verifies; the order and the errors of the sources.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  givenProvCandidate,
  knownProv,
  loadVerificationKeys,
  packageAndSignChart,
  pullChart,
  settleProvenance,
  signChart,
  type PullChartResult,
} from '../../src/index.js';
import { goldens, helloWorldSource } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';

const pubring = keyFile('all-pubring.gpg');

/** Files under `root` over HTTP on 127.0.0.1, remembering each request's path and Authorization header. */
async function serveFolder(
  root: string,
): Promise<{ url: string; seen: Array<{ path: string; authorization?: string }>; close(): Promise<void> }> {
  const seen: Array<{ path: string; authorization?: string }> = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    seen.push({ path, authorization: req.headers.authorization });
    readFile(join(root, ...path.split('/').filter((p) => p && p !== '..'))).then(
      (data) => res.writeHead(200).end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('pull oci://… --verify with the signature from --prov-file / --prov-url', () => {
  let reg: DockerRegistry;
  let site: Awaited<ReturnType<typeof serveFolder>>;
  let work: string;
  let cleanup: () => Promise<void>;
  let otherProv: string;
  let johnProv: string;
  let n = 0;
  const folder = async () => {
    const dir = join(work, `out-${++n}`);
    await mkdir(dir);
    return dir;
  };
  const oci = (path: string) => `oci://${reg.host}/${path}`;
  const json = (stdout: string) => JSON.parse(stdout) as PullChartResult & { error?: { code: string; message: string } };

  before(async () => {
    ({ dir: work, cleanup } = await tempDir());
    [reg, site] = await Promise.all([startDockerRegistry(), serveFolder(join(work, 'site'))]);
    await mkdir(join(work, 'site'));
    await copyFile(goldens.helm4.prov, join(work, 'site', 'hello-world-0.1.0.tgz.prov'));

    // The golden chart alone in its folder: pushed with no provenance layer.
    await mkdir(join(work, 'bare'));
    await copyFile(goldens.helm4.chart, join(work, 'bare', 'hello-world-0.1.0.tgz'));
    const pushed = await runCli(['push', join(work, 'bare', 'hello-world-0.1.0.tgz'), oci('bare'), '--plain-http', '-o', 'json']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((JSON.parse(pushed.stdout) as { results: Array<{ provenance?: string }> }).results[0]!.provenance, 'none');

    // 0.3.0 signed by Jane (pushed as its provenance layer) and, the same bytes, by John (a separate .prov).
    const chartDir = await helloWorldSource(work);
    const john = { keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] };
    otherProv = `${(await packageAndSignChart({ chartDir, destination: join(work, 'other'), version: '0.2.0', sign: john })).path}.prov`;
    const jane = (await packageAndSignChart({ chartDir, destination: join(work, 'jane'), version: '0.3.0' })).path;
    await signChart({ chartPath: jane, keyName: 'jane@example.com', keyrings: [keyFile('jane-secring.gpg')] });
    johnProv = join(work, 'john-0.3.0.prov');
    await signChart({ chartPath: jane, provPath: johnProv, ...john });
    const janes = await runCli(['push', jane, oci('janes'), '--plain-http']);
    assert.equal(janes.code, 0, janes.stderr);
  });
  after(async () => {
    await reg?.stop();
    await site?.close();
    await cleanup?.();
  });

  /** A failing pull: its code, and an untouched (empty) destination. */
  async function refused(args: string[], code: string): Promise<string> {
    const dest = await folder();
    const r = await runCli([...args, '-d', dest, '--plain-http', '-o', 'json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const { error } = json(r.stdout);
    assert.equal(error!.code, code, error!.message);
    assert.deepEqual(await readdir(dest), [], 'nothing written');
    return error!.message;
  }
  const verifyBare = ['pull', 'oci://REG/bare/hello-world', '--version', '0.1.0', '--verify', '--keyring', pubring];
  const bare = () => verifyBare.map((a) => a.replace('oci://REG', `oci://${reg.host}`));

  it('without a given prov the chart cannot be verified: PROV_MISSING, nothing written', async () => {
    const message = await refused(bare(), 'PROV_MISSING');
    assert.match(message, /no provenance layer/);
  });

  it('--prov-file: verifies, says so, and the prov lands beside the chart', async () => {
    const dest = await folder();
    const r = await runCli([...bare(), '--prov-file', goldens.helm4.prov, '-d', dest, '--plain-http']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Signed by: John The Signer/);
    assert.match(r.stdout, /Provenance From: prov-file /);
    assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
    assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz.prov')), await readFile(goldens.helm4.prov));
  });

  it("--prov-url over HTTP: verifies, and the prov's server never gets the registry's credentials", async () => {
    const before = site.seen.length;
    const env = {
      CHARTPROV_USERNAME: 'robot',
      CHARTPROV_PASSWORD: 'secret',
      CHARTPROV_REGISTRY: `${reg.host},${new URL(site.url).host}`,
    };
    const dest = await folder();
    const r = await runCli([...bare(), '--prov-url', `${site.url}/hello-world-0.1.0.tgz.prov`, '-d', dest, '--plain-http', '-o', 'json'], {
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = json(r.stdout);
    assert.equal(out.verified?.source, 'prov-url');
    assert.equal(out.verified?.location, `${site.url}/hello-world-0.1.0.tgz.prov`);
    assert.deepEqual(
      site.seen.slice(before).map((s) => [s.path, s.authorization]),
      [['/hello-world-0.1.0.tgz.prov', undefined]],
    );
  });

  it('--prov-url file: and the library call', async () => {
    const result = await pullChart({
      ref: `oci://${reg.host}/bare/hello-world:0.1.0`,
      plainHttp: true,
      verify: true,
      keyrings: [pubring],
      provUrl: pathToFileURL(goldens.helm3.prov).href,
      destination: await folder(),
    });
    assert.equal(result.verified?.source, 'prov-url');
    assert.equal(result.verified?.signer.userId, 'John The Signer <john@example.com>');
    assert.equal(result.hasProvenance, false, 'the chart itself still carries none');
  });

  it('a given prov for another chart, or none at the URL, is refused', async () => {
    assert.match(await refused([...bare(), '--prov-file', otherProv], 'PROV_MISMATCH'), /prov-file /);
    assert.match(await refused([...bare(), '--prov-url', `${site.url}/nothing.prov`], 'PROV_MISSING'), /nothing\.prov/);
    await refused([...bare(), '--prov-file', join(work, 'missing.prov')], 'FILE_NOT_FOUND');
    await refused([...bare(), '--prov-file', goldens.helm4.prov, '--prov-url', `${site.url}/x.prov`], 'USAGE');
  });

  it('a provenance layer from an unknown signer gives way to a given prov that verifies', async () => {
    const janes = ['pull', `oci://${reg.host}/janes/hello-world:0.3.0`, '--verify', '--keyring', keyFile('john-pubring.gpg')];
    assert.match(await refused(janes, 'SIGNER_UNKNOWN'), /not in the keyring/);
    const dest = await folder();
    const r = await runCli([...janes, '--prov-file', johnProv, '-d', dest, '--plain-http', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = json(r.stdout);
    assert.equal(out.verified?.source, 'prov-file');
    assert.match(out.warnings.join('\n'), /skipped provenance-layer .*SIGNER_UNKNOWN/);
    // The prov that verified is the one written beside the chart.
    assert.deepEqual(await readFile(join(dest, 'hello-world-0.3.0.tgz.prov')), await readFile(johnProv));
    // With Jane's key too, the layer verifies first and the given prov is not even read.
    const both = await runCli([
      ...janes,
      '--keyring',
      keyFile('jane-pubring.gpg'),
      '--prov-file',
      join(work, 'never-read.prov'),
      '-d',
      await folder(),
      '--plain-http',
      '-o',
      'json',
    ]);
    assert.equal(both.code, 0, both.stderr);
    assert.equal(json(both.stdout).verified?.source, 'provenance-layer');
  });
});

describe('settleProvenance: sources in order, the first that verifies wins', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir: work, cleanup } = await tempDir()));
  after(() => cleanup?.());

  async function staged(): Promise<string> {
    const dir = join(work, `s-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir);
    const chart = join(dir, 'hello-world-0.1.0.tgz');
    await copyFile(goldens.helm4.chart, chart);
    return chart;
  }

  it('skips a broken prov for a good one, keeps the good one at <chart>.prov and says what it skipped', async () => {
    const chart = await staged();
    const keys = await loadVerificationKeys([pubring]);
    const settled = await settleProvenance({
      staged: chart,
      keys,
      chart: 'test',
      candidates: [knownProv('provenance-layer', 'layer', Buffer.from('garbage')), givenProvCandidate({ provFile: goldens.helm3.prov })!],
    });
    assert.equal(settled.verified?.source, 'prov-file');
    assert.deepEqual(await readFile(`${chart}.prov`), await readFile(goldens.helm3.prov));
    assert.match(settled.warnings[0]!, /provenance-layer layer: error\[PROV_INVALID\]/);
  });

  it('without keys: the first prov there is, unchecked; none anywhere is no error', async () => {
    const chart = await staged();
    const nothing = { source: 'chart-url' as const, location: 'nowhere', load: async () => undefined };
    const first = await settleProvenance({
      staged: chart,
      chart: 'c',
      candidates: [nothing, knownProv('prov-file', 'f', Buffer.from('x'))],
    });
    assert.equal(first.source, 'prov-file');
    const none = await settleProvenance({ staged: chart, chart: 'c', candidates: [nothing] });
    assert.equal(none.bytes, undefined);
    await assert.rejects(readFile(`${chart}.prov`), { code: 'ENOENT' });
  });

  it('with keys and nothing anywhere: PROV_MISSING naming every place', async () => {
    const chart = await staged();
    const keys = await loadVerificationKeys([pubring]);
    const nothing = (location: string) => ({ source: 'chart-url' as const, location, load: async () => undefined });
    await assert.rejects(
      settleProvenance({ staged: chart, keys, chart: 'c', candidates: [nothing('a'), nothing('b')] }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'PROV_MISSING');
        assert.match(err.message, /chart-url a, chart-url b/);
        return true;
      },
    );
  });
});
