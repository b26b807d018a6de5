// chartprov mirror: the chart farm (30 versions: signed by two keys, some
// unsigned, one tampered prov, one prov of another chart) served over HTTP,
// mirrored into docker-registry 2.8 and into chartprov serve; the pushed
// charts verified with chartprov and Helm 4; --attach, a local folder, OCI →
// OCI, --dry-run and --policy.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  attachReferrer,
  listReferrers,
  mirrorCharts,
  packageAndSignChart,
  provenanceArtifact,
  RegistryClient,
  type MirrorResult,
  type MirrorVersionResult,
} from '../../src/index.js';
import { parseHelmManifest } from '../../src/oci/helm-artifact.js';
import { digestOf } from '../../src/oci/digest.js';
import { OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import { buildChartFarm, type ChartFarm } from '../peers/chart-farm.js';
import { helloWorldSource } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { runHelm } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';

let farm: ChartFarm;
let dr: DockerRegistry;
let emb: EmbeddedRegistry;
let work: string;
let cleanup: () => Promise<void>;

/** The destination's login in the environment, CHARTPROV_REGISTRY not set: meant for the destination alone. */
const loginEnv = () => ({ CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password, CHARTPROV_REGISTRY: '' });
const embEnv = () => ({ CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password, CHARTPROV_REGISTRY: emb.host });
const keyringFlags = () => farm.pubrings.flatMap((k) => ['--keyring', k]);
const key = (r: { name: string; version: string }) => `${r.name} ${r.version}`;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-mirror-test-'));
  [farm, dr, emb] = await Promise.all([
    buildChartFarm(),
    startDockerRegistry(),
    startEmbedded({ projects: ['charts', 'attached', 'copied', 'dry', 'policy'] }),
  ]);
});

after(async () => {
  await Promise.all([farm?.close(), dr?.stop(), emb?.stop()]);
  await cleanup?.();
});

/** Totals per status match the farm: `checked` with keys, `unchecked` without. */
function assertCounts(result: MirrorResult, mode: 'checked' | 'unchecked'): void {
  const want = farm.expected[mode];
  const t = result.totals;
  assert.deepEqual(
    {
      total: t.total,
      copied: t.copied,
      unsigned: t.unsigned,
      invalid: t.invalid,
      refused: t.refused,
      failed: t.failed,
      skipped: t.skipped,
    },
    { total: farm.expected.total, ...want, refused: 0, failed: 0, skipped: 0 },
    JSON.stringify(result.results.filter((r) => r.status === 'failed')),
  );
}

/** Every copied or unsigned version is at its tag, its chart layer the archive's sha256, with or without a prov layer. */
async function assertPushed(client: RegistryClient, host: string, base: string, result: MirrorResult, provLayer: boolean): Promise<void> {
  for (const r of result.results) {
    const v = farm.versions.find((x) => key(x) === key(r))!;
    const repo = client.repository(host, `${base}/${r.name}`);
    const tags = await repo.listTags();
    if (r.status === 'invalid') {
      assert.ok(!tags.includes(r.version), `${key(r)} is invalid and must not be pushed`);
      continue;
    }
    const m = await repo.fetchManifest(r.version.replace('+', '_'));
    assert.equal(m.digest, r.digest, key(r));
    const parsed = parseHelmManifest(m.bytes);
    assert.equal(parsed.chart.digest, `sha256:${v.sha256}`, `${key(r)}: chart layer = sha256 of the archive`);
    assert.equal(Boolean(parsed.prov), provLayer && r.status === 'copied', `${key(r)}: provenance layer`);
  }
}

describe('chartprov mirror', () => {
  let first: MirrorResult;

  test('HTTP repository → docker-registry 2.8: every version judged; re-run is a no-op', async () => {
    const puts: string[] = [];
    const trace = (line: string) => void (/^PUT \S*\/manifests\//.test(line) && puts.push(line));
    const run = () =>
      mirrorCharts({
        source: farm.url,
        destination: `oci://${dr.host}/charts`,
        plainHttp: true,
        keyrings: farm.pubrings,
        jobs: 6,
        clientOptions: { trace },
      });
    first = await run();
    assertCounts(first, 'checked');
    assert.equal(first.signatures, 'keyring');
    assert.equal(puts.length, farm.expected.checked.copied + farm.expected.checked.unsigned, 'one manifest PUT per pushed version');
    for (const [k, code] of Object.entries(farm.expected.invalidCodes)) {
      const r = first.results.find((x) => key(x) === k)!;
      assert.equal(r.status, 'invalid', k);
      assert.equal(r.code, code, `${k}: ${r.reason}`);
    }
    for (const r of first.results.filter((x) => x.status === 'copied')) {
      const v = farm.versions.find((x) => key(x) === key(r))!;
      assert.equal(r.signer?.checked, true);
      assert.match(r.signer!.userId!, v.signer === 'john' ? /John The Signer/ : /Jane Other/);
      assert.equal(r.provenance, 'layer');
    }
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      await assertPushed(client, dr.host, 'charts', first, true);
    } finally {
      await client.close();
    }

    puts.length = 0;
    const again = await run();
    assert.equal(again.totals.skipped, farm.expected.checked.copied + farm.expected.checked.unsigned);
    assert.equal(again.totals.invalid, farm.expected.checked.invalid);
    assert.equal(again.totals.copied + again.totals.unsigned + again.totals.failed, 0);
    assert.deepEqual(puts, [], 'no manifest written by the re-run');
    for (const r of again.results.filter((x) => x.status === 'skipped')) {
      assert.equal(r.digest, first.results.find((x) => key(x) === key(r))!.digest);
    }
  });

  test('mirrored charts pull --verify with chartprov and with helm pull --verify (Helm 4)', async () => {
    const signed = first.results.find((r) => r.status === 'copied' && r.name === 'alpha')!;
    const ref = `oci://${dr.host}/charts/${signed.name}`;
    const a = join(work, 'pull-chartprov');
    const b = join(work, 'pull-helm');
    await Promise.all([mkdir(a), mkdir(b)]);
    const mine = await runCli(['pull', ref, '--version', signed.version, '--verify', ...keyringFlags(), '-d', a, '--plain-http']);
    assert.equal(mine.code, 0, mine.stderr);
    assert.match(mine.stdout, /Signed by: (John The Signer|Jane Other)/);
    const all = keyFile('all-pubring.gpg');
    const helm = await runHelm(4, ['pull', ref, '--version', signed.version, '--verify', '--keyring', all, '--plain-http', '-d', b]);
    assert.equal(helm.code, 0, helm.stderr);
    assert.match(helm.stdout + helm.stderr, /Signed by/);
  });

  test('HTTP repository → chartprov serve with the CLI: -o json, exit 1 for the invalid versions', async () => {
    const r = await runCli(['mirror', farm.url, `oci://${emb.host}/charts`, ...keyringFlags(), '--plain-http', '-o', 'json'], {
      env: embEnv(),
    });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as MirrorResult;
    assertCounts(out, 'checked');
    const client = await emb.client(emb.admin);
    try {
      await assertPushed(client, emb.host, 'charts', out, true);
    } finally {
      await client.close();
    }
    const row = out.results[0]!;
    for (const field of ['name', 'version', 'status', 'digest', 'signer'] as const) assert.ok(field in row, field);
  });

  test('--attach into chartprov serve: charts without a prov layer, each .prov a referrer that discover and verify find', async () => {
    const dst = `oci://${emb.host}/attached`;
    const r = await runCli(['mirror', farm.url, dst, '--attach', ...keyringFlags(), '--plain-http', '-o', 'json', '-j', '8'], {
      env: embEnv(),
    });
    const out = JSON.parse(r.stdout) as MirrorResult;
    assertCounts(out, 'checked');
    const client = await emb.client(emb.admin);
    try {
      await assertPushed(client, emb.host, 'attached', out, false);
      for (const v of out.results.filter((x) => x.status === 'copied')) {
        const list = await listReferrers(client.repository(emb.host, `attached/${v.name}`), v.digest!, {
          artifactType: PROVENANCE_ARTIFACT_TYPE,
        });
        assert.equal(list.mode, 'api');
        assert.equal(list.referrers.length, 1, key(v));
      }
    } finally {
      await client.close();
    }
    const one = out.results.find((x) => x.status === 'copied')!;
    const ref = `${dst}/${one.name}:${one.version}`;
    const discovered = await runCli(['discover', ref, ...keyringFlags(), '--plain-http', '-o', 'json'], { env: embEnv() });
    assert.equal(discovered.code, 0, discovered.stderr);
    assert.match(discovered.stdout, /"valid"/);
    const verified = await runCli(['verify', ref, ...keyringFlags(), '--plain-http'], { env: embEnv() });
    assert.equal(verified.code, 0, verified.stderr);
    const again = await runCli(['mirror', farm.url, dst, '--attach', ...keyringFlags(), '--plain-http', '-o', 'json'], { env: embEnv() });
    const rerun = JSON.parse(again.stdout) as MirrorResult;
    assert.equal(rerun.totals.skipped, out.totals.copied + out.totals.unsigned);
    assert.ok(rerun.results.filter((x) => x.status === 'skipped' && x.signer).every((x) => x.provenance === 'referrer'));
  });

  test('a local folder without index.yaml, no keyring: only the pairing is checked, signers "unchecked"', async () => {
    const folder = await farm.copyWithoutIndex(join(work, 'folder'));
    const out = await mirrorCharts({ source: folder, destination: `oci://${dr.host}/folder`, plainHttp: true });
    assertCounts(out, 'unchecked');
    assert.equal(out.signatures, 'unchecked');
    assert.equal(out.sourceKind, 'folder');
    assert.match(out.warnings.join('\n'), /not checked/);
    const copied = out.results.filter((r) => r.status === 'copied');
    assert.ok(copied.every((r) => r.signer && !r.signer.checked && /^[0-9A-F]{16}$/.test(r.signer.keyId)));
    assert.equal(out.results.find((r) => r.status === 'invalid')!.code, 'PROV_MISMATCH');
    // A file: URL to the same folder reads the same.
    const again = await mirrorCharts({ source: `file://${folder}`, destination: `oci://${dr.host}/folder`, plainHttp: true });
    assert.equal(again.totals.skipped, out.totals.copied + out.totals.unsigned);
  });

  test('OCI → OCI: all versions of a chart with their referrers, digests unchanged', async () => {
    const src = `oci://${emb.host}/attached/alpha`;
    const out = await mirrorCharts({
      source: src,
      destination: `oci://${dr.host}/from-oci`,
      plainHttp: true,
      keyrings: farm.pubrings,
      env: { ...process.env, ...embEnv(), CHARTPROV_REGISTRY: emb.host },
      settleMs: 1,
    });
    const alpha = farm.versions.filter((v) => v.name === 'alpha');
    assert.equal(out.sourceKind, 'oci');
    assert.equal(out.totals.total, alpha.length);
    assert.equal(out.totals.unsigned, alpha.filter((v) => v.prov === 'none').length);
    assert.equal(out.totals.copied, alpha.filter((v) => v.prov === 'good').length);
    const client = await RegistryClient.create({ plainHttp: true });
    const srcClient = await emb.client(emb.admin);
    try {
      for (const r of out.results) {
        const srcDigest = (await srcClient.repository(emb.host, 'attached/alpha').fetchManifest(r.version)).digest;
        const repo = client.repository(dr.host, 'from-oci/alpha');
        assert.equal((await repo.fetchManifest(r.version)).digest, srcDigest, key(r));
        const provs = await listReferrers(repo, srcDigest, { artifactType: PROVENANCE_ARTIFACT_TYPE });
        assert.equal(provs.referrers.length, r.status === 'copied' ? 1 : 0, key(r));
      }
    } finally {
      await client.close();
      await srcClient.close();
    }
    const again = await mirrorCharts({
      source: src,
      destination: `oci://${dr.host}/from-oci`,
      plainHttp: true,
      keyrings: farm.pubrings,
      env: { ...process.env, ...embEnv(), CHARTPROV_REGISTRY: emb.host },
    });
    assert.equal(again.totals.skipped, alpha.length);

    // An SBOM attached at the source afterwards: --dry-run says that version would be written, then a run adds it.
    const signed = out.results.find((r) => r.status === 'copied')!;
    const srcWrite = await emb.client(emb.admin);
    let sbom: string;
    try {
      const repo = srcWrite.repository(emb.host, 'attached/alpha');
      const subject = await repo.fetchManifest(signed.version);
      const layer = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: 'application/spdx+json',
          config: OCI_EMPTY_CONFIG,
          layers: [{ mediaType: 'application/spdx+json', digest: digestOf(layer), size: layer.length }],
          subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
        }),
      );
      await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
      await repo.pushBlob({ bytes: layer });
      await attachReferrer(repo, subject.digest, manifest, { settleMs: 1 });
      sbom = digestOf(manifest);
    } finally {
      await srcWrite.close();
    }
    const oncemore = (dryRun: boolean) =>
      mirrorCharts({
        source: src,
        destination: `oci://${dr.host}/from-oci`,
        plainHttp: true,
        keyrings: farm.pubrings,
        env: { ...process.env, ...embEnv(), CHARTPROV_REGISTRY: emb.host },
        settleMs: 1,
        dryRun,
      });
    const planned = await oncemore(true);
    assert.deepEqual(
      planned.results.filter((r) => r.status !== 'skipped').map(key),
      [key(signed)],
      'the dry run names the version whose SBOM is missing at the destination',
    );
    const added = await oncemore(false);
    assert.deepEqual(added.results.filter((r) => r.status !== 'skipped').map(key), [key(signed)]);
    const reader = await RegistryClient.create({ plainHttp: true });
    try {
      const listed = await listReferrers(reader.repository(dr.host, 'from-oci/alpha'), signed.digest!);
      assert.ok(listed.referrers.some((r) => r.digest === sbom), 'the SBOM reached the destination');
    } finally {
      await reader.close();
    }
    assert.equal((await oncemore(true)).totals.skipped, alpha.length, 'then nothing is left to write');
  });

  test('OCI → OCI, provenance layers: a chart whose attached .prov is about another chart, or too large to be one, stays out', async () => {
    // beta 0.1.0 in the first mirror gets a referrer holding gamma's .prov: the source now has an invalid signature.
    const victim = first.results.find((r) => r.name === 'beta' && r.version === '0.1.0')!;
    // Another beta version gets a "provenance" referrer of 1 MiB and more: no .prov is that large.
    const bloated = first.results.find((r) => r.name === 'beta' && r.status === 'copied' && r.version !== '0.1.0')!;
    const other = farm.versions.find((v) => v.name === 'gamma' && v.prov === 'good')!;
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      const repo = client.repository(dr.host, 'charts/beta');
      const text = await readFile(join(farm.dir, `${other.file}.prov`));
      const attach = async (subject: MirrorVersionResult, prov: Buffer) => {
        const m = await repo.fetchManifest(subject.digest!);
        const artifact = provenanceArtifact({
          subject: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length },
          prov,
          fileName: `${other.file}.prov`,
          chart: { name: 'beta', version: subject.version },
          signer: { keyId: '0000000000000000' },
        });
        await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
        await repo.pushBlob({ bytes: prov }, { digest: artifact.provLayer.digest });
        await attachReferrer(repo, m.digest, artifact.manifestBytes, { settleMs: 1 });
      };
      await attach(victim, text);
      await attach(bloated, Buffer.concat([text, Buffer.alloc(1024 * 1024, 0x20)]));
    } finally {
      await client.close();
    }
    const out = await mirrorCharts({
      source: `oci://${dr.host}/charts/beta`,
      destination: `oci://${emb.host}/copied`,
      plainHttp: true,
      keyrings: farm.pubrings,
      env: { ...process.env, ...embEnv() },
    });
    const beta = first.results.filter((r) => r.name === 'beta' && r.status !== 'invalid');
    assert.equal(out.totals.total, beta.length);
    const bad = out.results.find((r) => r.version === '0.1.0')!;
    assert.equal(bad.status, 'invalid');
    assert.equal(bad.code, 'PROV_MISMATCH');
    const big = out.results.find((r) => r.version === bloated.version)!;
    assert.equal(big.status, 'failed', JSON.stringify(big));
    assert.match(big.reason ?? '', /larger than any provenance file/);
    const dst = await emb.client(emb.admin);
    try {
      const repo = dst.repository(emb.host, 'copied/beta');
      const tags = await repo.listTags();
      assert.ok(!tags.includes('0.1.0'), 'the version with an invalid signature is not mirrored');
      assert.ok(!tags.includes(bloated.version), 'the version with an oversized provenance referrer is not mirrored');
      for (const r of out.results.filter((x) => x !== bad && x !== big)) {
        assert.equal(r.status, first.results.find((x) => key(x) === key(r))!.status, key(r));
        assert.equal((await repo.fetchManifest(r.version)).digest, first.results.find((x) => key(x) === key(r))!.digest, key(r));
      }
    } finally {
      await dst.close();
    }
  });

  test('--dry-run reads and checks everything and writes nothing', async () => {
    const r = await runCli(['mirror', farm.url, `oci://${emb.host}/dry`, ...keyringFlags(), '--plain-http', '--dry-run'], {
      env: embEnv(),
    });
    assert.equal(r.code, 1, 'invalid versions still fail the run');
    assert.match(r.stdout, /dry run, nothing written/);
    assert.match(r.stdout, /would copy/);
    const client = await emb.client(emb.admin);
    try {
      for (const name of new Set(farm.versions.map((v) => v.name))) {
        await assert.rejects(client.repository(emb.host, `dry/${name}`).listTags(), { code: 'CHART_NOT_FOUND' });
      }
    } finally {
      await client.close();
    }
  });

  test('--policy: unsigned versions refused by the defaults, allowed where a rule says so', async () => {
    const policy = join(work, 'policy.yaml');
    await writeFile(
      policy,
      [
        'version: 1',
        'keyrings:',
        ...farm.pubrings.map((k, i) => `  k${i}: ${k}`),
        'defaults: { allowUnsigned: false }',
        'rules:',
        '  - repositories: ["**/delta"]',
        '    allowUnsigned: true',
        '',
      ].join('\n'),
    );
    const r = await runCli(['mirror', farm.url, `oci://${emb.host}/policy`, '--policy', policy, '--plain-http', '-o', 'json'], {
      env: embEnv(),
    });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as MirrorResult;
    assert.equal(out.signatures, 'policy');
    const unsigned = farm.versions.filter((v) => v.prov === 'none');
    const byKey = new Map(out.results.map((x): [string, MirrorVersionResult] => [key(x), x]));
    for (const v of unsigned) {
      const got = byKey.get(key(v))!;
      if (v.name === 'delta') assert.equal(got.status, 'unsigned', JSON.stringify(got));
      else {
        assert.equal(got.status, 'refused', JSON.stringify(got));
        assert.match(got.reason!, /unsigned/);
      }
    }
    assert.equal(out.totals.refused, unsigned.filter((v) => v.name !== 'delta').length);
    assert.equal(out.totals.invalid, farm.expected.checked.invalid);
    assert.equal(out.totals.copied, farm.expected.checked.copied);
  });
  test('CHARTPROV_USERNAME/PASSWORD log in to the destination only: the chart repository source never gets them', async () => {
    const before = farm.requests.length;
    const r = await runCli(['mirror', farm.url, `oci://${emb.host}/dry`, ...keyringFlags(), '--plain-http', '--dry-run'], {
      env: loginEnv(),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /would copy/, 'the destination (private) was read with the environment login');
    const seen = farm.requests.slice(before);
    assert.ok(
      seen.some((q) => q.path === '/index.yaml'),
      'the source was read',
    );
    assert.deepEqual(
      seen.filter((q) => q.authorization !== undefined).map((q) => q.path),
      [],
      'no Authorization header reaches the source',
    );
    assert.ok(!(r.stdout + r.stderr).includes(emb.admin.password));
  });

  test('OCI → OCI: the environment login goes to the destination, to the source only when CHARTPROV_REGISTRY names it', async () => {
    // Source: the private registry; the login in the environment is not for it.
    await assert.rejects(
      mirrorCharts({
        source: `oci://${emb.host}/attached/alpha`,
        destination: `oci://${dr.host}/env-login`,
        plainHttp: true,
        env: { ...process.env, ...loginEnv() },
      }),
      (err: { code?: string }) => {
        assert.equal(err.code, 'REGISTRY_LOGIN_REQUIRED', JSON.stringify(err));
        return true;
      },
    );
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      await assert.rejects(client.repository(dr.host, 'env-login/alpha').listTags(), { code: 'CHART_NOT_FOUND' });
    } finally {
      await client.close();
    }
    // Destination: the private registry; the same login takes the charts in.
    const out = await mirrorCharts({
      source: `oci://${dr.host}/charts/delta`,
      destination: `oci://${emb.host}/copied`,
      plainHttp: true,
      env: { ...process.env, ...loginEnv() },
    });
    assert.equal(out.totals.failed, 0, JSON.stringify(out.results.filter((x) => x.status === 'failed')));
    assert.equal(out.totals.total, farm.versions.filter((v) => v.name === 'delta').length);
  });

  describe('a version listed twice', () => {
    let charts: { a: string; b: string };
    before(async () => {
      const src = await helloWorldSource(await mkdirp(join(work, 'dup-src')));
      // The same chart and version, packaged at two times: two different archives.
      const a = await packageAndSignChart({
        chartDir: src,
        destination: await mkdirp(join(work, 'dup-a')),
        version: '1.0.0',
        mtime: new Date('2026-01-01T00:00:00Z'),
      });
      const b = await packageAndSignChart({
        chartDir: src,
        destination: await mkdirp(join(work, 'dup-b')),
        version: '1.0.0',
        mtime: new Date('2026-02-01T00:00:00Z'),
      });
      assert.equal(a.fileName, b.fileName);
      assert.notEqual(a.sha256, b.sha256);
      charts = { a: a.path, b: b.path };
    });

    const tagsOf = async (repository: string): Promise<string[]> => {
      const client = await RegistryClient.create({ plainHttp: true });
      try {
        return await client
          .repository(dr.host, repository)
          .listTags()
          .catch(() => []);
      } finally {
        await client.close();
      }
    };

    test('two different archives of hello-world 1.0.0 in a folder: both failed (DESTINATION_EXISTS), nothing at the tag', async () => {
      const folder = await mkdirp(join(work, 'dup-different'));
      await copyFile(charts.a, join(folder, 'hello-world-1.0.0.tgz'));
      await copyFile(charts.b, join(folder, 'hello-world-1.0.0-copy.tgz'));
      for (const dryRun of [true, false]) {
        const out = await mirrorCharts({ source: folder, destination: `oci://${dr.host}/dup-different`, plainHttp: true, dryRun });
        assert.equal(out.totals.total, 2);
        assert.equal(out.totals.failed, 2, JSON.stringify(out.results));
        for (const r of out.results) {
          assert.equal(r.code, 'DESTINATION_EXISTS');
          assert.match(r.reason!, /hello-world-1\.0\.0\.tgz/);
          assert.match(r.reason!, /hello-world-1\.0\.0-copy\.tgz/);
        }
      }
      assert.deepEqual(await tagsOf('dup-different/hello-world'), []);
    });

    test('an index.yaml listing the version twice, no digests: the archives are read, both failed', async () => {
      const folder = await mkdirp(join(work, 'dup-index'));
      await copyFile(charts.a, join(folder, 'one.tgz'));
      await copyFile(charts.b, join(folder, 'two.tgz'));
      const entry = (url: string) => `  - apiVersion: v2\n    name: hello-world\n    version: 1.0.0\n    urls:\n      - ${url}\n`;
      await writeFile(join(folder, 'index.yaml'), `apiVersion: v1\nentries:\n  hello-world:\n${entry('one.tgz')}${entry('two.tgz')}`);
      const out = await mirrorCharts({ source: `file://${folder}/`, destination: `oci://${dr.host}/dup-index`, plainHttp: true });
      assert.deepEqual(
        out.results.map((r) => [r.status, r.code]),
        [
          ['failed', 'DESTINATION_EXISTS'],
          ['failed', 'DESTINATION_EXISTS'],
        ],
      );
      assert.deepEqual(await tagsOf('dup-index/hello-world'), []);
    });

    test('the same archive twice: mirrored once, the copy skipped with the reason', async () => {
      const folder = await mkdirp(join(work, 'dup-same'));
      await copyFile(charts.a, join(folder, 'hello-world-1.0.0.tgz'));
      await copyFile(charts.a, join(folder, 'renamed.tgz'));
      const out = await mirrorCharts({ source: folder, destination: `oci://${dr.host}/dup-same`, plainHttp: true });
      assert.equal(out.totals.total, 2);
      assert.equal(out.totals.unsigned, 1, JSON.stringify(out.results));
      assert.equal(out.totals.skipped, 1, JSON.stringify(out.results));
      const skipped = out.results.find((r) => r.status === 'skipped')!;
      assert.match(skipped.reason!, /the same archive as/);
      assert.deepEqual(await tagsOf('dup-same/hello-world'), ['1.0.0']);
      const again = await mirrorCharts({ source: folder, destination: `oci://${dr.host}/dup-same`, plainHttp: true });
      assert.equal(again.totals.skipped, 2);
    });
  });
});

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
