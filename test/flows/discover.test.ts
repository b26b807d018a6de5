// chartprov discover against both referrer stores: the real docker-registry
// 2.8 (no referrers API: the fallback tag `sha256-<hex>`) and the embedded
// registry (referrers API, OCI-Subject). A chart pushed without its prov gets
// it attached with `chartprov attach`, plus a foreign cosign-style signature
// and an SBOM that refers to that signature (one level deeper).
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPrivateKey } from 'openpgp';
import {
  discover,
  RegistryClient,
  signProvenance,
  type ChartMetadata,
  type DiscoverOptions,
  type DiscoverResult,
} from '../../src/index.js';
import { OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { provenanceArtifact, PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import { attachReferrer } from '../../src/oci/referrers.js';
import type { Repository } from '../../src/oci/repository.js';
import { goldens } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';

const COSIGN = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SPDX = 'application/spdx+json';
const JOHN = 'John The Signer <john@example.com>';

let work: string;
let cleanup: () => Promise<void>;
let plainChart: string;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-discover-'));
  // The golden chart alone: push must not find its .prov beside it.
  await mkdir(join(work, 'plain'));
  plainChart = join(work, 'plain', 'hello-world-0.1.0.tgz');
  await copyFile(goldens.helm4.chart, plainChart);
});
after(() => cleanup?.());

/**
 * A foreign artifact referring to `subject` (empty config, one layer), made
 * findable as any tool would: referrers API, else the fallback index.
 */
async function attachForeign(repo: Repository, subject: { digest: string; size: number }, artifactType: string, content: string) {
  const layer = await repo.pushBlob({ bytes: Buffer.from(content) });
  await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: OCI_EMPTY_CONFIG,
      layers: [{ mediaType: 'application/octet-stream', digest: layer.digest, size: Buffer.byteLength(content) }],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    }),
  );
  const attached = await attachReferrer(repo, subject.digest, { bytes: manifest, artifactType }, { settleMs: 10 });
  return { digest: attached.digest, size: manifest.length, mode: attached.mode };
}

interface Target {
  name: string;
  expectedMode: 'api' | 'fallback';
  host: () => string;
  env: () => NodeJS.ProcessEnv;
  client: () => Promise<RegistryClient>;
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

let dr: DockerRegistry;
let emb: EmbeddedRegistry;
const targets: Target[] = [
  {
    name: 'docker-registry 2.8 (fallback tag)',
    expectedMode: 'fallback',
    host: () => dr.host,
    env: () => ({}),
    client: () => RegistryClient.create({ plainHttp: true }),
    start: async () => {
      dr = await startDockerRegistry();
    },
    stop: async () => dr?.stop(),
  },
  {
    name: 'embedded registry (referrers API)',
    expectedMode: 'api',
    host: () => emb.host,
    env: () => ({ CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password, CHARTPROV_REGISTRY: emb.host }),
    client: () => emb.client(emb.admin),
    start: async () => {
      emb = await startEmbedded({ projects: ['charts'] });
    },
    stop: async () => emb?.stop(),
  },
];

for (const t of targets) {
  describe(`discover against ${t.name}`, () => {
    let client: RegistryClient;
    let chartDigest: string;
    let provReferrer: string;
    let cosign: { digest: string; size: number; mode: string };
    let sbom: string;
    const ref = () => `oci://${t.host()}/charts/hello-world:0.1.0`;
    const cli = (args: string[]) => runCli([...args, '--plain-http'], { env: t.env() });
    const lib = (o: Partial<DiscoverOptions> = {}) => discover({ reference: ref(), client, ...o });

    before(async () => {
      await t.start();
      client = await t.client();
      const pushed = await cli(['push', plainChart, `oci://${t.host()}/charts`, '-o', 'json']);
      assert.equal(pushed.code, 0, pushed.stderr);
      const result = JSON.parse(pushed.stdout) as { results: Array<{ digest: string; provenance?: string }> };
      chartDigest = result.results[0]!.digest;

      const attached = await cli(['attach', ref(), goldens.helm4.prov, '-o', 'json']);
      assert.equal(attached.code, 0, attached.stderr);
      const a = JSON.parse(attached.stdout) as { referrer: string; mode: string; chart: { digest: string } };
      assert.equal(a.chart.digest, chartDigest);
      assert.equal(a.mode, t.expectedMode);
      provReferrer = a.referrer;

      const repo = client.repository(t.host(), 'charts/hello-world');
      const chartSize = (await repo.fetchManifest(chartDigest)).bytes.length;
      cosign = await attachForeign(repo, { digest: chartDigest, size: chartSize }, COSIGN, 'not really a cosign signature');
      assert.equal(cosign.mode, t.expectedMode);
      sbom = (await attachForeign(repo, cosign, SPDX, '{"spdxVersion":"SPDX-2.3"}')).digest;
    });
    after(async () => {
      await client?.close();
      await t.stop();
    });

    it('lists the attached prov and the foreign signature with their kinds, and the SBOM one level deeper', async () => {
      const r = await lib();
      assert.equal(r.mode, t.expectedMode);
      assert.deepEqual(
        { ...r.chart, size: undefined },
        { reference: ref(), digest: chartDigest, name: 'hello-world', version: '0.1.0', mediaType: OCI_MANIFEST, size: undefined },
      );
      assert.equal(r.provenanceLayer, undefined, 'pushed without its prov');
      assert.equal(r.referrers.length, 2);
      const prov = r.referrers.find((x) => x.digest === provReferrer);
      const sig = r.referrers.find((x) => x.digest === cosign.digest);
      assert.ok(prov && sig, JSON.stringify(r.referrers));
      assert.equal(prov.kind, 'provenance');
      assert.equal(prov.artifactType, PROVENANCE_ARTIFACT_TYPE);
      assert.equal(prov.mediaType, OCI_MANIFEST);
      assert.equal(prov.annotations['io.chartprov.chart.name'], 'hello-world');
      // No keyring: about this chart, signer as claimed.
      assert.equal(prov.provenance?.status, 'unchecked');
      assert.match(prov.provenance?.signer?.keyId ?? '', /^[0-9A-F]{16}$/);
      assert.equal(prov.provenance?.signer?.userId, undefined);
      assert.deepEqual(prov.referrers, []);
      assert.equal(sig.kind, 'signature');
      assert.equal(sig.artifactType, COSIGN);
      assert.equal(sig.provenance, undefined);
      assert.deepEqual(
        sig.referrers?.map((x) => [x.digest, x.kind, x.artifactType, x.referrers]),
        [[sbom, 'sbom', SPDX, undefined]],
      );
    });

    it('with the keyring, the prov is valid and names the fixture signer', async () => {
      const r = await lib({ keyrings: [keyFile('all-pubring.gpg')] });
      const prov = r.referrers.find((x) => x.kind === 'provenance')!;
      assert.equal(prov.provenance?.status, 'valid', JSON.stringify(prov.provenance));
      assert.equal(prov.provenance?.signer?.userId, JOHN);
      assert.match(prov.provenance?.signer?.fingerprint ?? '', /^[0-9A-F]{40}$/);
      assert.ok(prov.provenance?.signer?.signedAt);
    });

    it('with a keyring that lacks the key, the prov is unknown-key', async () => {
      const r = await lib({ keyrings: [keyFile('jane-pubring.gpg')] });
      const prov = r.referrers.find((x) => x.kind === 'provenance')!;
      assert.equal(prov.provenance?.status, 'unknown-key');
      assert.equal(prov.provenance?.reason, 'SIGNER_UNKNOWN');
      assert.match(prov.provenance?.signer?.keyId ?? '', /^[0-9A-F]{16}$/);
    });

    it('--artifact-type keeps only the referrers of that type', async () => {
      const r = await lib({ artifactType: COSIGN });
      assert.deepEqual(
        r.referrers.map((x) => x.digest),
        [cosign.digest],
      );
    });

    it('the CLI prints the library result with -o json, and tab-separated records when piped', async () => {
      const json = await cli(['discover', ref(), '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const r = JSON.parse(json.stdout) as DiscoverResult;
      assert.equal(r.chart.digest, chartDigest);
      assert.equal(r.mode, t.expectedMode);
      assert.deepEqual(r.referrers.map((x) => x.kind).sort(), ['provenance', 'signature']);
      assert.equal(r.referrers.find((x) => x.kind === 'provenance')?.provenance?.signer?.userId, JOHN);

      const plain = await cli([
        'discover',
        `oci://${t.host()}/charts/hello-world`,
        '--version',
        '0.1.0',
        '--keyring',
        keyFile('all-pubring.gpg'),
      ]);
      assert.equal(plain.code, 0, plain.stderr);
      const rows = plain.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('\t'));
      assert.deepEqual(rows[0], ['chart', chartDigest, ref(), 'hello-world', '0.1.0', t.expectedMode]);
      assert.deepEqual(
        rows.slice(1).sort((x, y) => x[3]!.localeCompare(y[3]!)),
        [
          ['referrer', provReferrer, chartDigest, 'provenance', PROVENANCE_ARTIFACT_TYPE, 'valid', JOHN, '-'],
          ['referrer', sbom, cosign.digest, 'sbom', SPDX, '-', '-', '-'],
          ['referrer', cosign.digest, chartDigest, 'signature', COSIGN, '-', '-', '-'],
        ],
      );
    });

    it('a chart pushed with its prov shows the provenance layer', async () => {
      const pushed = await cli(['push', goldens.helm4.chart, `oci://${t.host()}/charts/with-prov`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const r = await lib({ reference: `oci://${t.host()}/charts/with-prov/hello-world:0.1.0`, keyrings: [keyFile('all-pubring.gpg')] });
      assert.equal(r.provenanceLayer?.mediaType, PROVENANCE_ARTIFACT_TYPE);
      assert.match(r.provenanceLayer?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.equal(r.provenanceLayer?.provenance.status, 'valid');
      assert.equal(r.provenanceLayer?.provenance.signer?.userId, JOHN);
      assert.deepEqual(r.referrers, []);
    });

    it("a prov about other archive bytes, attached behind chartprov's back, is invalid", async () => {
      // Signed by John, for hello-world 0.1.0, but over other bytes than the pushed archive.
      const key = await readPrivateKey({ armoredKey: await readFile(keyFile('john-sec.asc'), 'utf8') });
      const metadata = { apiVersion: 'v2', name: 'hello-world', version: '0.1.0' } as ChartMetadata;
      const text = await signProvenance({ metadata, fileName: 'hello-world-0.1.0.tgz', sha256: 'ab'.repeat(32), signingKey: key });
      const prov = Buffer.from(text);
      const repo = client.repository(t.host(), 'charts/hello-world');
      const subject = await repo.fetchManifest(chartDigest);
      const artifact = provenanceArtifact({
        subject: { mediaType: subject.mediaType, digest: chartDigest, size: subject.bytes.length },
        prov,
        fileName: 'hello-world-0.1.0.tgz.prov',
        chart: { name: 'hello-world', version: '0.1.0' },
        signer: { keyId: '0000000000000000' },
      });
      await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
      await repo.pushBlob({ bytes: prov }, { digest: artifact.provLayer.digest });
      const attached = await attachReferrer(
        repo,
        chartDigest,
        { bytes: artifact.manifestBytes, artifactType: PROVENANCE_ARTIFACT_TYPE, annotations: artifact.annotations },
        { settleMs: 10 },
      );
      const r = await lib({ artifactType: PROVENANCE_ARTIFACT_TYPE, keyrings: [keyFile('all-pubring.gpg')] });
      assert.equal(r.referrers.length, 2);
      const bad = r.referrers.find((x) => x.digest === attached.digest);
      assert.equal(bad?.provenance?.status, 'invalid');
      assert.equal(bad?.provenance?.reason, 'CHART_TAMPERED');
      assert.equal(r.referrers.find((x) => x.digest === provReferrer)?.provenance?.status, 'valid');
    });
  });
}
