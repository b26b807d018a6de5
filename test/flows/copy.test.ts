// `chartprov copy` between docker-registry 2.8 (no referrers API: fallback
// tag) and the embedded registry (referrers API), both ways: digests are the
// same everywhere (skopeo reads them), every referrer — provenance attached
// with `attach`, and a referrer of that referrer — is findable on each side,
// `pull --verify` works on the copies, a second run changes nothing, and a
// copy interrupted halfway is finished by the next run.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { attachProvenance } from '../../src/flows/attach-provenance.js';
import { copyCharts, type CopyChartsResult } from '../../src/flows/copy-charts.js';
import { packageAndSignChart, pushCharts } from '../../src/index.js';
import { RegistryClient } from '../../src/oci/client.js';
import { descriptorOf } from '../../src/oci/descriptor.js';
import { OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import { attachReferrer, fallbackTag, listReferrers } from '../../src/oci/referrers.js';
import { attachedProvenances } from '../../src/flows/referrer-provenance.js';
import { verifyProvenance } from '../../src/provenance/index.js';
import { loadVerificationKeys } from '../../src/flows/verify-charts.js';
import { helloWorldSource } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { runSkopeo } from '../peers/skopeo.js';
import { tempDir } from '../peers/tmp.js';

const REVIEW_TYPE = 'application/vnd.example.review.v1+json';
const pubring = keyFile('all-pubring.gpg');

let work: string;
let cleanup: () => Promise<void>;
let dr: DockerRegistry;
let emb: EmbeddedRegistry;
/** Chart digests by version, as pushed to the source. */
const digests: Record<string, string> = {};
/** Provenance referrer digests by version (0.2.0: only a referrer; 0.3.0: layer and referrer). */
const provReferrers: Record<string, string> = {};
/** A referrer whose subject is 0.3.0's provenance referrer. */
let reviewDigest: string;

const sha256 = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const embEnv = () => ({ CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password, CHARTPROV_REGISTRY: emb.host });
const libEnv = () => ({ ...embEnv(), HOME: work });

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-copy-'));
  [dr, emb] = await Promise.all([startDockerRegistry(), startEmbedded({ projects: ['helm-charts'] })]);
  const src = await helloWorldSource(work);
  const charts: Record<string, { path: string; prov: string }> = {};
  for (const version of ['0.1.0', '0.2.0', '0.3.0']) {
    const r = await packageAndSignChart({
      chartDir: src,
      destination: join(work, 'signed'),
      version,
      sign: { keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] },
    });
    charts[version] = { path: r.path, prov: `${r.path}.prov` };
  }
  // 0.2.0 goes up without its .prov beside it (no provenance layer); its prov is attached after.
  await mkdir(join(work, 'bare'));
  const bare = join(work, 'bare', 'hello-world-0.2.0.tgz');
  await copyFile(charts['0.2.0']!.path, bare);
  const pushed = await pushCharts({
    charts: [charts['0.1.0']!.path, bare, charts['0.3.0']!.path],
    destination: `oci://${dr.host}/src`,
    plainHttp: true,
  });
  for (const r of pushed.results) {
    assert.ok(r.ok, JSON.stringify(r));
    digests[r.version] = r.digest;
  }
  for (const version of ['0.2.0', '0.3.0']) {
    const a = await attachProvenance({
      reference: `oci://${dr.host}/src/hello-world:${version}`,
      provPath: charts[version]!.prov,
      plainHttp: true,
      attach: { settleMs: 1 },
    });
    assert.equal(a.mode, 'fallback');
    provReferrers[version] = a.referrer;
  }
  // A referrer of the referrer (a review of the signature): copies must follow the chain.
  const client = await RegistryClient.create({ plainHttp: true });
  try {
    const repo = client.repository(dr.host, 'src/hello-world');
    const subject = await repo.fetchManifest(provReferrers['0.3.0']!);
    const body = '{"reviewed":true}';
    const layer = descriptorOf('application/json', body);
    await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
    await repo.pushBlob({ bytes: Buffer.from(body) }, { digest: layer.digest });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: REVIEW_TYPE,
        config: OCI_EMPTY_CONFIG,
        layers: [layer],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
      }),
    );
    reviewDigest = (await attachReferrer(repo, subject.digest, manifest, { settleMs: 1 })).digest;
  } finally {
    await client.close();
  }
});

after(async () => {
  await Promise.all([dr?.stop(), emb?.stop()]);
  await cleanup?.();
});

async function skopeoDigest(host: string, repo: string, tag: string, creds: string[] = []): Promise<string> {
  const r = await runSkopeo(['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${host}/${repo}:${tag}`]);
  assert.equal(r.code, 0, r.stderr);
  return sha256(r.stdout);
}

async function withClient<T>(api: boolean, fn: (c: RegistryClient) => Promise<T>): Promise<T> {
  const client = api ? await emb.client(emb.admin) : await RegistryClient.create({ plainHttp: true });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Every referrer of each chart version, and the review under 0.3.0's prov, are findable in `repo`. */
async function checkReferrers(api: boolean, host: string, name: string): Promise<void> {
  await withClient(api, async (client) => {
    const repo = client.repository(host, name);
    for (const version of ['0.2.0', '0.3.0']) {
      const list = await listReferrers(repo, digests[version]!, { artifactType: PROVENANCE_ARTIFACT_TYPE });
      assert.equal(list.mode, api ? 'api' : 'fallback');
      assert.deepEqual(
        list.referrers.map((r) => r.digest),
        [provReferrers[version]],
        `${version}'s provenance referrer in ${host}/${name}`,
      );
    }
    assert.deepEqual((await listReferrers(repo, digests['0.1.0']!)).referrers, []);
    const reviews = await listReferrers(repo, provReferrers['0.3.0']!);
    assert.deepEqual(
      reviews.referrers.map((r) => [r.digest, r.artifactType]),
      [[reviewDigest, REVIEW_TYPE]],
    );
    const tags = await repo.listTags();
    if (api) assert.deepEqual(tags.sort(), ['0.1.0', '0.2.0', '0.3.0'], 'no fallback tag is copied as a tag');
    else assert.ok(tags.includes(fallbackTag(digests['0.2.0']!)) && tags.includes(fallbackTag(provReferrers['0.3.0']!)));
  });
}

/** chartprov pull --verify on the copies; 0.2.0 carries its prov only as a referrer: checked through it. */
async function checkVerifiable(host: string, name: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (const version of ['0.1.0', '0.3.0']) {
    const dest = join(work, 'pulled', `${host.replace(':', '_')}-${name.replaceAll('/', '_')}-${version}`);
    await mkdir(dest, { recursive: true });
    const pulled = await runCli(
      ['pull', `oci://${host}/${name}`, '--version', version, '--verify', '--keyring', pubring, '-d', dest, '--plain-http'],
      { env },
    );
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /John The Signer/);
  }
  const api = host === emb.host;
  await withClient(api, async (client) => {
    const repo = client.repository(host, name);
    const [prov] = await attachedProvenances(repo, digests['0.2.0']!);
    assert.ok(prov, '0.2.0 has its provenance referrer');
    const manifest = JSON.parse((await repo.fetchManifest('0.2.0')).bytes.toString('utf8')) as { layers: { digest: string }[] };
    const v = await verifyProvenance({
      provenance: prov.text,
      fileName: 'hello-world-0.2.0.tgz',
      sha256: manifest.layers[0]!.digest,
      keys: await loadVerificationKeys([pubring]),
      chartMetadata: { name: 'hello-world', version: '0.2.0' },
    });
    assert.match(v.signer.userId ?? '', /John The Signer/);
  });
}

function copyCli(args: string[]) {
  return runCli(['copy', ...args, '-o', 'json'], { env: embEnv() });
}

describe('chartprov copy', () => {
  let first: CopyChartsResult;

  test('distribution (fallback tag) → embedded registry (referrers API), --all-versions: digests and referrers kept', async () => {
    const r = await copyCli([`oci://${dr.host}/src/hello-world`, `oci://${emb.host}/helm-charts`, '--all-versions', '--plain-http']);
    assert.equal(r.code, 0, r.stderr);
    first = JSON.parse(r.stdout) as CopyChartsResult;
    assert.equal(first.destination, `oci://${emb.host}/helm-charts/hello-world`);
    assert.deepEqual(first.referrers, { source: 'fallback', destination: 'api' });
    assert.deepEqual([first.copied, first.skipped, first.failed], [3, 0, 0]);
    assert.equal(first.referrersCopied, 3, 'two provenance referrers and the review');
    assert.deepEqual(
      first.results.map((v) => (v.ok ? [v.tag, v.digest, v.referrersCopied] : v.error)),
      [
        ['0.3.0', digests['0.3.0'], 2],
        ['0.2.0', digests['0.2.0'], 1],
        ['0.1.0', digests['0.1.0'], 0],
      ],
    );
    const creds = ['--creds', `${emb.admin.username}:${emb.admin.password}`];
    for (const version of ['0.1.0', '0.2.0', '0.3.0']) {
      assert.equal(await skopeoDigest(dr.host, 'src/hello-world', version), digests[version]);
      assert.equal(
        await skopeoDigest(emb.host, 'helm-charts/hello-world', version, creds),
        digests[version],
        `${version} keeps its digest`,
      );
    }
    await checkReferrers(true, emb.host, 'helm-charts/hello-world');
  });

  test('running it again copies nothing', async () => {
    const r = await copyCli([
      `oci://${dr.host}/src/hello-world`,
      `oci://${emb.host}/helm-charts/hello-world`,
      '--all-versions',
      '--plain-http',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const again = JSON.parse(r.stdout) as CopyChartsResult;
    assert.deepEqual([again.copied, again.skipped, again.failed, again.referrersCopied], [0, 3, 0, 0]);
    assert.equal(again.stats.blobsUploaded, 0);
    assert.equal(again.stats.bytesUploaded, 0);
    assert.equal(again.stats.manifestsPushed, 0);
    assert.equal(again.stats.tagsPushed, 0);
    assert.ok(again.results.every((v) => v.ok && v.referrers.every((x) => x.status === 'skipped')));
  });

  test('embedded registry (referrers API) → a second repository on distribution: the fallback indexes are rebuilt', async () => {
    const back = await copyCharts({
      source: `oci://${emb.host}/helm-charts/hello-world`,
      destination: `oci://${dr.host}/back`,
      allVersions: true,
      sourceOptions: { plainHttp: true },
      destinationOptions: { plainHttp: true },
      env: libEnv(),
      registryConfig: join(work, 'no-registry-config.json'),
      settleMs: 20,
    });
    assert.deepEqual([back.copied, back.failed, back.referrersCopied], [3, 0, 3]);
    assert.deepEqual(back.referrers, { source: 'api', destination: 'fallback' });
    for (const version of ['0.1.0', '0.2.0', '0.3.0']) {
      assert.equal(await skopeoDigest(dr.host, 'back/hello-world', version), digests[version], `${version} keeps its digest`);
    }
    await checkReferrers(false, dr.host, 'back/hello-world');
    // The rebuilt index is not the source's bytes, but lists the same referrer.
    const index = await runSkopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${dr.host}/back/hello-world:${fallbackTag(digests['0.2.0']!)}`,
    ]);
    assert.equal(index.code, 0, index.stderr);
    assert.deepEqual(
      (JSON.parse(index.stdout) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest),
      [provReferrers['0.2.0']],
    );
  });

  test('pull --verify works on both copies', async () => {
    await checkVerifiable(emb.host, 'helm-charts/hello-world', embEnv());
    await checkVerifiable(dr.host, 'back/hello-world', {});
  });

  test('one version by --version range, then by digest; an interrupted copy is finished by the next run', async () => {
    // Interrupted: the chart layer of 0.3.0 reached the destination, nothing else did.
    await withClient(false, async (client) => {
      const src = client.repository(dr.host, 'src/hello-world');
      const layer = (
        JSON.parse((await src.fetchManifest('0.3.0')).bytes.toString('utf8')) as { layers: { digest: string; size: number }[] }
      ).layers[0]!;
      const bytes = await src.fetchBlobBytes(layer, 1 << 20);
      await client.repository(dr.host, 'one/hello-world').pushBlob({ bytes }, { digest: layer.digest });
    });
    const r = await copyCli([`oci://${dr.host}/src/hello-world`, `oci://${dr.host}/one`, '--version', '^0.3', '--plain-http']);
    assert.equal(r.code, 0, r.stderr);
    const one = JSON.parse(r.stdout) as CopyChartsResult;
    assert.deepEqual([one.copied, one.failed, one.referrersCopied], [1, 0, 2]);
    assert.equal(one.stats.blobsPresent, 1, 'the chart layer already there is not sent again');
    assert.equal(one.stats.blobsMounted, 4, 'same registry: chart config, prov, empty config and review layer are mounted');
    const v = one.results[0]!;
    assert.ok(v.ok && v.tag === '0.3.0' && v.digest === digests['0.3.0']);

    const byDigest = await copyCli([`oci://${dr.host}/src/hello-world@${digests['0.2.0']}`, `oci://${dr.host}/one`, '--plain-http']);
    assert.equal(byDigest.code, 0, byDigest.stderr);
    const d = JSON.parse(byDigest.stdout) as CopyChartsResult;
    assert.ok(d.results[0]!.ok && d.results[0]!.tag === '0.2.0', 'tagged with the chart version, as helm push tags');
    assert.equal(await skopeoDigest(dr.host, 'one/hello-world', '0.2.0'), digests['0.2.0']);
  });

  test('text output; a tag that names another chart is refused without --force', async () => {
    // one/hello-world:0.3.0 exists; put 0.1.0's manifest under tag 0.3.0 of another repo first.
    const seeded = await runCli(['copy', `oci://${dr.host}/src/hello-world:0.1.0`, `oci://${dr.host}/clash/hello-world`, '--plain-http']);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, /^copied\s+0\.1\.0\s+sha256:[a-f0-9]{64}\s+no referrers$/m);
    assert.match(seeded.stdout, /^1 copied, 0 already there, 0 failed; 0 referrer\(s\) copied \(fallback tag → fallback tag\)/m);
    await withClient(false, async (client) => {
      const m = await client.repository(dr.host, 'src/hello-world').fetchManifest('0.1.0');
      await client.repository(dr.host, 'clash/hello-world').pushManifest('0.3.0', m.bytes, m.mediaType);
    });
    const refused = await runCli(['copy', `oci://${dr.host}/src/hello-world:0.3.0`, `oci://${dr.host}/clash`, '--plain-http']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error\[DESTINATION_EXISTS\]: .*clash\/hello-world:0\.3\.0 exists and is another manifest/);
    assert.match(refused.stderr, /hint: .*--force/);
    const forced = await copyCli([`oci://${dr.host}/src/hello-world:0.3.0`, `oci://${dr.host}/clash`, '--plain-http', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await skopeoDigest(dr.host, 'clash/hello-world', '0.3.0'), digests['0.3.0']);
  });

  test('usage errors', async () => {
    const both = await runCli(['copy', `oci://${dr.host}/src/hello-world:0.1.0`, `oci://${dr.host}/x`, '--all-versions', '--plain-http']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /error\[USAGE\]/);
    const same = await runCli(['copy', `oci://${dr.host}/src/hello-world`, `oci://${dr.host}/src`, '--plain-http']);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /same repository/);
  });
});
