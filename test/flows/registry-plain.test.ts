// Push and pull against the real distribution 2.8 registry over plain HTTP,
// with real Helm 3 and 4 on the other side of every exchange, and skopeo as
// the independent reader of what we stored.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageAndSignChart, RegistryClient } from '../../src/index.js';
import { goldens, helloWorldSource, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { runHelm, type HelmMajor } from '../peers/helm.js';
import { keyFile, sharedFixtures } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { runSkopeo } from '../peers/skopeo.js';
import { tempDir } from '../peers/tmp.js';

const pubring = keyFile('all-pubring.gpg');
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('push and pull against docker-registry (plain HTTP)', () => {
  let reg: DockerRegistry;
  let work: string;
  let cleanup: () => Promise<void>;
  let chartDir: string;
  const oci = (path: string) => `oci://${reg.host}/${path}`;

  before(async () => {
    reg = await startDockerRegistry({ deleteEnabled: true });
    ({ dir: work, cleanup } = await tempDir());
    chartDir = await helloWorldSource(work);
  });
  after(async () => {
    await reg?.stop();
    await cleanup?.();
  });

  /** A fresh empty folder under the work dir. */
  let n = 0;
  async function folder(): Promise<string> {
    const dir = join(work, `out-${++n}`);
    await mkdir(dir);
    return dir;
  }

  /** Packages and signs hello-world at `version` with John's key; returns the tgz path. */
  async function signedChart(version: string): Promise<string> {
    const result = await packageAndSignChart({
      chartDir,
      destination: join(work, 'charts'),
      version,
      sign: { keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] },
    });
    return result.path;
  }

  it('chartprov push stores what helm push stores; skopeo reads back the exact manifest', async () => {
    const pushed = await runCli(['push', goldens.helm4.chart, oci('cp'), '--plain-http', '-o', 'json']);
    assert.equal(pushed.code, 0, pushed.stderr);
    const result = JSON.parse(pushed.stdout) as {
      pushed: number;
      results: Array<{ ok: true; digest: string; ref: string; provenance: string }>;
    };
    assert.equal(result.pushed, 1);
    const [r] = result.results;
    assert.equal(r!.ref, `oci://${reg.host}/cp/hello-world:0.1.0`);
    assert.equal(r!.provenance, 'file');

    const raw = await runSkopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/cp/hello-world:0.1.0`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(Buffer.from(raw.stdout)), r!.digest, 'skopeo returns the manifest byte for byte');
    // Same structure, media types and blobs as Helm 4's own push; only the created time differs.
    const fixture = await readFile(join(sharedFixtures, 'oci', 'helm4-manifest.json'), 'utf8');
    const created = /"org\.opencontainers\.image\.created":"[^"]+"/;
    assert.equal(raw.stdout.replace(created, 'CREATED'), fixture.trim().replace(created, 'CREATED'));
  });

  for (const major of [3, 4] as HelmMajor[]) {
    it(`helm ${major} pull --verify accepts what chartprov pushed`, async () => {
      const pushed = await runCli(['push', goldens.helm3.chart, oci(`to-helm${major}`), '--plain-http']);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stdout, /^Pushed: .*\/to-helm\d\/hello-world:0\.1\.0$/m);
      const dest = await folder();
      const pulled = await runHelm(major, verifiedPullArgs(oci(`to-helm${major}/hello-world`), dest, '--plain-http'));
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, /Chart Hash Verified/);
    });

    it(`chartprov pull --verify accepts what helm ${major} pushed`, async () => {
      const src = await folder();
      await copyFile(goldens.helm4.chart, join(src, 'hello-world-0.1.0.tgz'));
      await copyFile(goldens.helm4.prov, join(src, 'hello-world-0.1.0.tgz.prov'));
      const pushed = await runHelm(major, ['push', join(src, 'hello-world-0.1.0.tgz'), oci(`from-helm${major}`), '--plain-http']);
      assert.equal(pushed.code, 0, pushed.stderr);
      const dest = await folder();
      // The same command line as Helm's.
      const pulled = await runCli(verifiedPullArgs(oci(`from-helm${major}/hello-world`), dest, '--plain-http'));
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, /Signed by: John The Signer/);
      assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
      assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz')), await readFile(goldens.helm4.chart));
    });
  }

  it('pull by digest with --verify works (it never does in Helm) and names the file after the chart', async () => {
    const pushed = await runCli(['push', goldens.helm4.chart, oci('bydigest'), '--plain-http', '-o', 'json']);
    const digest = (JSON.parse(pushed.stdout) as { results: Array<{ digest: string }> }).results[0]!.digest;
    const dest = await folder();
    const pulled = await runCli([
      'pull',
      `${oci('bydigest/hello-world')}@${digest}`,
      '--plain-http',
      '--verify',
      '--keyring',
      pubring,
      '-d',
      dest,
    ]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
  });

  it('--verify without a provenance layer fails with PROV_MISSING and writes nothing', async () => {
    const src = await folder();
    await copyFile(goldens.helm4.chart, join(src, 'hello-world-0.1.0.tgz'));
    const pushed = await runCli(['push', join(src, 'hello-world-0.1.0.tgz'), oci('noprov'), '--plain-http', '-o', 'json']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((JSON.parse(pushed.stdout) as { results: Array<{ provenance: string }> }).results[0]!.provenance, 'none');
    const dest = await folder();
    const pulled = await runCli(['pull', oci('noprov/hello-world'), '--plain-http', '--verify', '--keyring', pubring, '-d', dest]);
    assert.equal(pulled.code, 1);
    assert.match(pulled.stderr, /^error\[PROV_MISSING\]/m);
    assert.deepEqual(await readdir(dest), []);
    // Without --verify the chart is pulled, and says it has no provenance; a
    // .prov left from before does not stay beside a chart it is not about.
    await writeFile(join(dest, 'hello-world-0.1.0.tgz.prov'), 'stale');
    const plain = await runCli(['pull', oci('noprov/hello-world'), '--plain-http', '-d', dest]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /no provenance/);
    assert.deepEqual(await readdir(dest), ['hello-world-0.1.0.tgz']);
  });

  it('--verify with a key that did not sign fails with SIGNER_UNKNOWN and writes nothing', async () => {
    await runCli(['push', goldens.helm4.chart, oci('wrongkey'), '--plain-http']);
    const dest = await folder();
    const pulled = await runCli([
      'pull',
      oci('wrongkey/hello-world'),
      '--plain-http',
      '--verify',
      '--keyring',
      keyFile('jane-pubring.gpg'),
      '-d',
      dest,
    ]);
    assert.equal(pulled.code, 1);
    assert.match(pulled.stderr, /^error\[SIGNER_UNKNOWN\]/m);
    assert.deepEqual(await readdir(dest), []);
  });

  it('refuses to push a prov that belongs to another chart, and pushes nothing', async () => {
    const other = await signedChart('0.9.0');
    const pushed = await runCli(['push', goldens.helm4.chart, oci('mismatch'), '--prov', `${other}.prov`, '--plain-http']);
    assert.equal(pushed.code, 1);
    assert.match(pushed.stderr, /^error\[PROV_MISMATCH\]/m);
    const versions = await runCli(['versions', oci('mismatch/hello-world'), '--plain-http']);
    assert.match(versions.stderr, /^error\[CHART_NOT_FOUND\]/m);
  });

  it('push --sign signs on the way; versions sorts by SemVer; --version takes ranges and build metadata', async () => {
    const charts = [];
    for (const v of ['0.1.0', '0.2.0', '1.0.0-rc.1', '1.0.0+build.7', '0.10.0']) charts.push(await signedChart(v));
    // Unsigned copies, signed again while pushed.
    const unsigned = await folder();
    for (const c of charts) await copyFile(c, join(unsigned, c.split('/').pop()!));
    const files = (await readdir(unsigned)).map((f) => join(unsigned, f));
    const pushed = await runCli([
      'push',
      ...files,
      oci('ranges'),
      '--plain-http',
      '--sign',
      '--key',
      'john@example.com',
      '--keyring',
      keyFile('john-secring.gpg'),
    ]);
    assert.equal(pushed.code, 0, pushed.stderr + pushed.stdout);
    assert.match(pushed.stdout, /5 pushed, 0 failed/);
    const versions = await runCli(['versions', oci('ranges/hello-world'), '--plain-http']);
    assert.equal(versions.code, 0, versions.stderr);
    assert.deepEqual(versions.stdout.trim().split('\n'), ['1.0.0+build.7', '1.0.0-rc.1', '0.10.0', '0.2.0', '0.1.0']);
    const pick = async (version: string) => {
      const r = await runCli(['show', oci('ranges/hello-world'), '--version', version, '--plain-http', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { version: string }).version;
    };
    assert.equal(await pick('^0.1'), '0.1.0');
    assert.equal(await pick('>=0.2.0 <1'), '0.10.0');
    assert.equal(await pick('1.0.0+build.7'), '1.0.0+build.7');
    const none = await runCli(['pull', oci('ranges/hello-world'), '--version', '^3', '--plain-http']);
    assert.match(none.stderr, /^error\[VERSION_NOT_FOUND\]/m);
    // Signed on the way: Helm verifies the prov we made during the push.
    const dest = await folder();
    const helm = await runHelm(4, [
      'pull',
      oci('ranges/hello-world'),
      '--version',
      '0.2.0',
      '--plain-http',
      '--verify',
      '--keyring',
      pubring,
      '-d',
      dest,
    ]);
    assert.equal(helm.code, 0, helm.stderr);
  });

  it('pulls many charts in one process, each verified; one failure does not stop the others', async () => {
    const dest = await folder();
    const pulled = await runCli([
      'pull',
      `${oci('ranges/hello-world')}:0.1.0`,
      `${oci('ranges/hello-world')}:0.2.0`,
      oci('nothing/there'),
      `${oci('ranges/hello-world')}:0.10.0`,
      '--plain-http',
      '--verify',
      '--keyring',
      pubring,
      '-d',
      dest,
      '-o',
      'json',
    ]);
    assert.equal(pulled.code, 1);
    const result = JSON.parse(pulled.stdout) as {
      pulled: number;
      failed: number;
      results: Array<{ ok: boolean; error?: { code: string } }>;
    };
    assert.equal(result.pulled, 3);
    assert.equal(result.results[2]!.error!.code, 'CHART_NOT_FOUND');
    assert.deepEqual((await readdir(dest)).filter((f) => f.endsWith('.tgz')).sort(), [
      'hello-world-0.1.0.tgz',
      'hello-world-0.10.0.tgz',
      'hello-world-0.2.0.tgz',
    ]);
  });

  it('pull --untar unpacks into the chart folder and keeps no archive', async () => {
    await runCli(['push', goldens.helm4.chart, oci('untar'), '--plain-http']);
    const dest = await folder();
    const pulled = await runCli([
      'pull',
      oci('untar/hello-world'),
      '--plain-http',
      '--verify',
      '--keyring',
      pubring,
      '--untar',
      '-d',
      dest,
    ]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(await readdir(dest), ['hello-world']);
    assert.ok((await stat(join(dest, 'hello-world', 'Chart.yaml'))).isFile());
    const again = await runCli(['pull', oci('untar/hello-world'), '--plain-http', '--untar', '-d', dest]);
    assert.match(again.stderr, /^error\[DESTINATION_EXISTS\]/m);
  });

  it('a blob tampered with in the registry storage fails the pull with DIGEST_MISMATCH and writes nothing', async () => {
    await runCli(['push', goldens.helm4.chart, oci('tamper'), '--plain-http']);
    const chartDigest = sha256(await readFile(goldens.helm4.chart)).slice('sha256:'.length);
    const blob = join(reg.storageDir, 'docker/registry/v2/blobs/sha256', chartDigest.slice(0, 2), chartDigest, 'data');
    const original = await readFile(blob);
    const evil = Buffer.from(original);
    evil[evil.length - 10] ^= 0xff;
    await writeFile(blob, evil);
    try {
      const dest = await folder();
      const pulled = await runCli(['pull', oci('tamper/hello-world'), '--plain-http', '-d', dest]);
      assert.equal(pulled.code, 1);
      assert.match(pulled.stderr, /^error\[DIGEST_MISMATCH\]/m);
      assert.deepEqual(await readdir(dest), []);
    } finally {
      await writeFile(blob, original);
    }
  });

  it('--mount-from links blobs from another repository instead of uploading them', async () => {
    await runCli(['push', goldens.helm4.chart, oci('mount-src'), '--plain-http']);
    const pushed = await runCli([
      'push',
      goldens.helm4.chart,
      oci('mount-dst'),
      '--plain-http',
      '--mount-from',
      'mount-src/hello-world',
      '-o',
      'json',
    ]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const r = (JSON.parse(pushed.stdout) as { results: Array<{ blobs: { uploaded: number; mounted: number; skipped: number } }> })
      .results[0]!;
    assert.deepEqual(r.blobs, { uploaded: 0, mounted: 3, skipped: 0 });
    // Pushed again: everything is there already.
    const again = await runCli(['push', goldens.helm4.chart, oci('mount-dst'), '--plain-http', '-o', 'json']);
    assert.deepEqual((JSON.parse(again.stdout) as { results: Array<{ blobs: object }> }).results[0]!.blobs, {
      uploaded: 0,
      mounted: 0,
      skipped: 3,
    });
  });

  it('a large blob goes up in chunks and comes back verified (library)', async () => {
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      const repo = client.repository(reg.host, 'big/blob');
      const file = join(work, 'big.bin');
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
      await writeFile(file, Buffer.concat(Array.from({ length: 12 }, (_, i) => Buffer.concat([chunk, Buffer.from([i])]))));
      const expected = sha256(await readFile(file));
      const pushed = await repo.pushBlob({ path: file }, { monolithicMax: 1024 * 1024, chunkSize: 5 * 1024 * 1024 });
      assert.equal(pushed.digest, expected);
      assert.equal(pushed.how, 'uploaded');
      const back = join(work, 'big.back');
      await repo.fetchBlobToFile({ digest: pushed.digest, size: pushed.size }, back);
      assert.equal(sha256(await readFile(back)), expected);
      // A stream of unknown length: one streamed PATCH, digest computed on the way.
      const streamed = await client.repository(reg.host, 'big/stream').pushBlob({ stream: createReadStream(file) });
      assert.equal(streamed.digest, expected);
    } finally {
      await client.close();
    }
  });

  it('goes through an HTTP proxy named by HTTP_PROXY (CONNECT tunnel), but never for loopback', async () => {
    const tunnels: string[] = [];
    const proxy = createServer();
    // The proxy resolves names itself: registry.example is this test's registry.
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const upstream = connect(reg.port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    try {
      await runCli(['push', goldens.helm4.chart, oci('proxied'), '--plain-http']);
      const { port } = proxy.address() as AddressInfo;
      const env = { HTTP_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: '', no_proxy: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '' };
      const r = await runCli(['versions', `oci://registry.example:${reg.port}/proxied/hello-world`, '--plain-http'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '0.1.0');
      assert.deepEqual([...new Set(tunnels)], [`registry.example:${reg.port}`]);
      const direct = await runCli(['versions', oci('proxied/hello-world'), '--plain-http'], { env });
      assert.equal(direct.code, 0, direct.stderr);
      assert.deepEqual([...new Set(tunnels)], [`registry.example:${reg.port}`], 'loopback is not proxied');
    } finally {
      proxy.closeAllConnections();
      await new Promise((ok) => proxy.close(ok));
    }
  });

  it('reports a missing repository and a missing version with their codes', async () => {
    const repo = await runCli(['pull', oci('nothing/here'), '--plain-http']);
    assert.match(repo.stderr, /^error\[CHART_NOT_FOUND\]/m);
    await runCli(['push', goldens.helm4.chart, oci('missing'), '--plain-http']);
    const version = await runCli(['pull', oci('missing/hello-world:9.9.9'), '--plain-http']);
    assert.match(version.stderr, /^error\[VERSION_NOT_FOUND\]/m);
    const noScheme = await runCli(['pull', `${reg.host}/missing/hello-world`, '--plain-http']);
    assert.match(noScheme.stderr, /^error\[REFERENCE_INVALID\].*oci:\/\//m);
    // As helm push: a bare host puts the chart in a top-level repository named after it.
    const bare = await runCli(['push', goldens.helm4.chart, `oci://${reg.host}`, '--plain-http']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, new RegExp(`Pushed: ${reg.host}/hello-world:0\\.1\\.0`));
    const bad = await runCli(['pull', 'oci://Bad Host/x', '--plain-http']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error\[REFERENCE_INVALID\]/m);
  });

  it('an unreachable registry and a TLS client against a plain registry give their codes', async () => {
    const closed = await runCli(['versions', 'oci://127.0.0.1:1/x/y', '--plain-http']);
    assert.match(closed.stderr, /^error\[REGISTRY_UNREACHABLE\]/m);
    const tls = await runCli(['versions', oci('x/y')]);
    assert.match(tls.stderr, /^error\[REGISTRY_TLS\]/m);
    assert.match(tls.stderr, /--plain-http/);
  });
});
