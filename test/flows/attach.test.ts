// `chartprov attach` against both kinds of registry: docker-registry 2.8
// (no referrers API: the fallback tag) and the embedded registry (referrers
// API). The chart's digest never changes; the same prov twice is one
// artifact; two signers attaching at once are both found.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryClient } from '../../src/oci/client.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import { attachReferrer, fallbackTag, listReferrers } from '../../src/oci/referrers.js';
import { digestOf } from '../../src/oci/digest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { goldens, helloWorldSource, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { runHelm } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { runSkopeo } from '../peers/skopeo.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
let dr: DockerRegistry;
let emb: EmbeddedRegistry;
/** The helm4 golden chart alone in a folder (no .prov beside it, so push sends none). */
let bareChart: string;
/** A second prov for the same chart, signed by Jane. */
let janeProv: string;
/** A prov for hello-world 0.2.0, which no registry here holds. */
let otherProv: string;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-attach-'));
  [dr, emb] = await Promise.all([startDockerRegistry(), startEmbedded({ projects: ['helm-charts'] })]);
  await mkdir(join(work, 'bare'));
  bareChart = join(work, 'bare', 'hello-world-0.1.0.tgz');
  await copyFile(goldens.helm4.chart, bareChart);
  await mkdir(join(work, 'jane'));
  const janeChart = join(work, 'jane', 'hello-world-0.1.0.tgz');
  await copyFile(goldens.helm4.chart, janeChart);
  const signed = await runCli(['sign', janeChart, '--key', 'Jane', '--keyring', keyFile('jane-secring.gpg')]);
  assert.equal(signed.code, 0, signed.stderr);
  janeProv = `${janeChart}.prov`;
  const src = await helloWorldSource(work);
  const packaged = await runCli(['package', src, '--version', '0.2.0', '--sign', '--key', 'John', '--keyring', keyFile('john-secring.gpg'), '-d', join(work, 'other')]);
  assert.equal(packaged.code, 0, packaged.stderr);
  otherProv = join(work, 'other', 'hello-world-0.2.0.tgz.prov');
});

after(async () => {
  await Promise.all([dr?.stop(), emb?.stop()]);
  await cleanup?.();
});

interface Target {
  name: string;
  host: () => string;
  project: string;
  env: () => NodeJS.ProcessEnv;
  mode: 'api' | 'fallback';
  skopeoCreds: () => string[];
}

const targets: Target[] = [
  { name: 'docker-registry 2.8', host: () => dr.host, project: 'charts', env: () => ({}), mode: 'fallback', skopeoCreds: () => [] },
  {
    name: 'chartprov serve',
    host: () => emb.host,
    project: 'helm-charts',
    env: () => ({ CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password }),
    mode: 'api',
    skopeoCreds: () => ['--creds', `${emb.admin.username}:${emb.admin.password}`],
  },
];

for (const t of targets) {
  describe(`attach on ${t.name}`, () => {
    const ref = () => `oci://${t.host()}/${t.project}/hello-world:0.1.0`;
    const cli = (args: string[]) => runCli([...args, '--plain-http'], { env: t.env() });
    const rawDigest = async () => {
      const r = await runSkopeo(['inspect', '--raw', '--tls-verify=false', ...t.skopeoCreds(), `docker://${t.host()}/${t.project}/hello-world:0.1.0`]);
      assert.equal(r.code, 0, r.stderr);
      return `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`;
    };
    const referrers = async () => {
      const client = t.mode === 'api' ? await emb.client(emb.admin) : await RegistryClient.create({ plainHttp: true });
      try {
        const repo = client.repository(t.host(), `${t.project}/hello-world`);
        return await listReferrers(repo, await rawDigest(), { artifactType: PROVENANCE_ARTIFACT_TYPE });
      } finally {
        await client.close();
      }
    };

    test('push without prov, attach it, digest unchanged, attach again is a no-op', async () => {
      const pushed = await cli(['push', bareChart, `oci://${t.host()}/${t.project}`, '-o', 'json']);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.equal(JSON.parse(pushed.stdout).results[0].provenance, 'none');
      const before = await rawDigest();

      const first = await cli(['attach', ref(), goldens.helm4.prov, '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']);
      assert.equal(first.code, 0, first.stderr);
      const r1 = JSON.parse(first.stdout);
      assert.equal(r1.created, true);
      assert.equal(r1.mode, t.mode);
      assert.equal(r1.chart.digest, before);
      assert.equal(r1.signer.verified, true);
      assert.match(r1.signer.userId, /John The Signer/);

      assert.equal(await rawDigest(), before, 'the chart manifest is untouched');
      const again = await cli(['attach', ref(), goldens.helm4.prov, '-o', 'json']);
      assert.equal(again.code, 0, again.stderr);
      const r2 = JSON.parse(again.stdout);
      assert.equal(r2.referrer, r1.referrer, 'same prov, same artifact');
      assert.equal(r2.created, false);
      assert.equal(r2.signer.verified, false, 'no keyring this time');
      assert.ok(r2.warnings.some((w: string) => /not checked/.test(w)));

      const list = await referrers();
      assert.equal(list.mode, t.mode);
      assert.deepEqual(
        list.referrers.map((r) => r.digest),
        [r1.referrer],
      );
      if (t.mode === 'fallback') {
        const listed = JSON.parse((await cli(['versions', `oci://${t.host()}/${t.project}/hello-world`, '-o', 'json'])).stdout);
        assert.ok(listed.tags.includes(fallbackTag(before)), 'the fallback index sits at sha256-<hex>');
        assert.deepEqual(listed.versions, ['0.1.0'], 'and is not a version');
      }
    });

    test('pull --verify with only the referrer: chart and prov land, and helm verify agrees', async () => {
      const dest = join(work, `pulled-${t.mode}`);
      const pulled = await cli([...verifiedPullArgs(`oci://${t.host()}/${t.project}/hello-world`, dest), '-o', 'json']);
      assert.equal(pulled.code, 0, pulled.stderr);
      const r = JSON.parse(pulled.stdout);
      assert.equal(r.verified.source, t.mode === 'api' ? 'referrer' : 'fallback-tag');
      assert.match(r.verified.signer.userId, /John The Signer/);
      const helm = await runHelm(4, ['verify', join(dest, 'hello-world-0.1.0.tgz'), '--keyring', keyFile('all-pubring.gpg')]);
      assert.equal(helm.code, 0, helm.stderr);
      assert.equal((await cli(['push', bareChart, `oci://${t.host()}/${t.project}/nosig`])).code, 0);
      const none = await cli([...verifiedPullArgs(`oci://${t.host()}/${t.project}/nosig/hello-world`, join(work, `nothing-${t.mode}`)), '-o', 'json']);
      assert.notEqual(none.code, 0, 'a chart with no signature anywhere');
      assert.equal(JSON.parse(none.stdout).error.code, 'PROV_MISSING');
    });

    test('text output; Helm 4 still pulls the chart', async () => {
      const shown = await cli(['attach', ref(), goldens.helm4.prov, '--keyring', keyFile('all-pubring.gpg')]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^Already attached: /m);
      assert.match(shown.stdout, /Signer: John The Signer .*, verified/);
      const dest = join(work, `helm-${t.mode}`);
      await mkdir(dest);
      const env = t.mode === 'api' ? ['--username', emb.admin.username, '--password', emb.admin.password] : [];
      const pulled = await runHelm(4, ['pull', `oci://${t.host()}/${t.project}/hello-world`, '--version', '0.1.0', '--plain-http', '-d', dest, ...env]);
      assert.equal(pulled.code, 0, pulled.stderr);
    });

    test('two signers attaching at once are both found', async () => {
      const [a, b] = await Promise.all([
        cli(['attach', ref(), janeProv, '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']),
        cli(['attach', `oci://${t.host()}/${t.project}/hello-world@${await rawDigest()}`, goldens.helm4.prov, '-o', 'json']),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.match(JSON.parse(a.stdout).signer.userId, /Jane Other/);
      const list = await referrers();
      assert.equal(list.referrers.length, 2, JSON.stringify(list.referrers));
      const who = list.referrers.map((r) => r.annotations?.['io.chartprov.signer.userid'] ?? r.annotations?.['io.chartprov.signer.keyid']).sort();
      assert.equal(who.length, 2);
    });

    test('verify oci://: every attached signature counts; --require-signers and --key-id', async () => {
      const ring = ['--keyring', keyFile('all-pubring.gpg')];
      const both = await cli(['verify', ref(), ...ring, '-o', 'json']);
      assert.equal(both.code, 0, both.stderr);
      const r = JSON.parse(both.stdout);
      assert.equal(r.accepted.length, 2, 'John and Jane');
      assert.ok(r.accepted.every((a: { source: string }) => a.source === (t.mode === 'api' ? 'referrer' : 'fallback-tag')));
      const jane = r.accepted.find((a: { signer: { userId: string } }) => /Jane/.test(a.signer.userId));
      assert.equal((await cli(['verify', ref(), ...ring, '--require-signers', '2'])).code, 0);
      const three = await cli(['verify', ref(), ...ring, '--require-signers', '3', '-o', 'json']);
      assert.notEqual(three.code, 0);
      assert.equal(JSON.parse(three.stdout).error.code, 'SIGNATURE_POLICY');
      const byJane = await cli(['verify', ref(), ...ring, '--key-id', jane.signer.fingerprint.slice(-16), '-o', 'json']);
      assert.equal(byJane.code, 0, byJane.stderr);
      assert.deepEqual(
        JSON.parse(byJane.stdout).accepted.map((a: { signer: { userId: string } }) => a.signer.userId),
        [jane.signer.userId],
      );
      const onlyJohnKey = await cli(['verify', ref(), '--keyring', keyFile('john-pubring.gpg'), '-o', 'json']);
      assert.equal(onlyJohnKey.code, 0, 'one valid signature is enough; the unknown signer is only reported');
      const unknown = await cli(['verify', ref(), '--keyring', keyFile('pat-pubring.gpg'), '-o', 'json']);
      assert.notEqual(unknown.code, 0);
      assert.equal(JSON.parse(unknown.stdout).error.code, 'SIGNER_UNKNOWN');
      const viaFile = await cli(['verify', ref(), '--keyring', keyFile('john-pubring.gpg'), '--prov-file', janeProv, '--require-signers', '1', '-o', 'json']);
      assert.equal(viaFile.code, 0, viaFile.stderr);
      assert.ok(JSON.parse(viaFile.stdout).checks.some((c: { source: string }) => c.source === 'file'), 'the given .prov is checked too');
      const text = await cli(['verify', ref(), ...ring]);
      assert.match(text.stdout, /^Signed by: John The Signer/m);
      assert.match(text.stdout, /^Chart Hash Verified: sha256:/m);
    });

    test('pull --verify with --require-signers and --key-id checks every signature', async () => {
      const args = (dest: string, ...extra: string[]) => [...verifiedPullArgs(`oci://${t.host()}/${t.project}/hello-world`, join(work, dest)), ...extra, '-o', 'json'];
      const two = await cli(args(`two-${t.mode}`, '--require-signers', '2'));
      assert.equal(two.code, 0, two.stderr);
      const three = await cli(args(`three-${t.mode}`, '--require-signers', '3'));
      assert.notEqual(three.code, 0);
      assert.equal(JSON.parse(three.stdout).error.code, 'SIGNATURE_POLICY');
      const { readdir } = await import('node:fs/promises');
      assert.deepEqual(await readdir(join(work, `three-${t.mode}`)).catch(() => []), [], 'nothing written when the policy fails');
      const nobody = await cli(args(`nobody-${t.mode}`, '--key-id', 'DEADBEEFDEADBEEF'));
      assert.notEqual(nobody.code, 0);
      assert.equal(JSON.parse(nobody.stdout).error.code, 'SIGNATURE_POLICY');
      const junk = await cli(args(`junk-${t.mode}`, '--key-id', 'Jane'));
      assert.equal(JSON.parse(junk.stdout).error.code, 'USAGE', 'a key id is hex');
    });

    test('sign in place: a chart pushed unsigned gets a referrer signed now; its tag and digest stay', async () => {
      const base = `oci://${t.host()}/${t.project}/inplace`;
      const pushed = await cli(['push', bareChart, base, '-o', 'json']);
      assert.equal(pushed.code, 0, pushed.stderr);
      const digest = JSON.parse(pushed.stdout).results[0].digest as string;
      const signed = await cli(['sign', `${base}/hello-world`, '--version', '0.1.0', '--key', 'John', '--keyring', keyFile('john-secring.gpg'), '-o', 'json']);
      assert.equal(signed.code, 0, signed.stderr);
      const r = JSON.parse(signed.stdout).signed[0];
      assert.equal(r.chart.digest, digest);
      assert.equal(r.mode, t.mode);
      assert.equal(r.signer.verified, true);
      assert.match(r.signedBy.userId, /John The Signer/);
      const again = await cli(['attach', `${base}/hello-world:0.1.0`, goldens.helm4.prov, '-o', 'json']);
      assert.equal(again.code, 0, again.stderr);
      assert.notEqual(JSON.parse(again.stdout).referrer, r.referrer, 'the golden prov is another signature of the same chart');
      const text = await cli(['sign', `${base}/hello-world:0.1.0`, '--key', 'John', '--keyring', keyFile('john-secring.gpg')]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^Signed .*@sha256:[0-9a-f]{64} \(by John The Signer/m);
    });

    test('a prov for another chart is refused and nothing is attached', async () => {
      const other = await cli(['attach', ref(), otherProv, '-o', 'json']);
      assert.notEqual(other.code, 0);
      assert.equal(JSON.parse(other.stdout).error.code, 'PROV_MISMATCH');
      assert.equal((await referrers()).referrers.length, 2);
      const missing = await cli(['attach', `oci://${t.host()}/${t.project}/hello-world:9.9.9`, goldens.helm4.prov, '-o', 'json']);
      assert.notEqual(missing.code, 0);
      assert.equal(JSON.parse(missing.stdout).error.code, 'VERSION_NOT_FOUND');
    });
  });
}

describe('fallback index on docker-registry 2.8', () => {
  test("another tool's entries and the index's own fields are kept verbatim when we append", async () => {
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      const repo = client.repository(dr.host, 'interop/app');
      const config = Buffer.from('{}');
      await repo.pushBlob({ bytes: config });
      const subjectBytes = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(config), size: 2 }, layers: [] }),
      );
      const subject = (await repo.pushManifest('v1', subjectBytes, OCI_MANIFEST)).digest;
      // distribution wants an index's entries to exist: a real artifact, listed with fields we do not write.
      const foreignBytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: 'application/vnd.example.thing',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(config), size: 2 },
          layers: [],
          subject: { mediaType: OCI_MANIFEST, digest: subject, size: subjectBytes.length },
        }),
      );
      await repo.pushManifest(digestOf(foreignBytes), foreignBytes, OCI_MANIFEST);
      const foreign = {
        mediaType: OCI_MANIFEST,
        digest: digestOf(foreignBytes),
        size: foreignBytes.length,
        artifactType: 'application/vnd.example.thing',
        platform: { os: 'linux', architecture: 'amd64' },
        annotations: { 'com.example.kept': 'yes' },
      };
      const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [foreign], annotations: { 'com.example.index': 'kept' } };
      await repo.pushManifest(fallbackTag(subject), Buffer.from(JSON.stringify(index)), OCI_INDEX);
      const ours = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: 'application/vnd.example.ours',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(config), size: 2 },
          layers: [],
          subject: { mediaType: OCI_MANIFEST, digest: subject, size: subjectBytes.length },
        }),
      );
      const r = await attachReferrer(repo, subject, ours, { settleMs: 20 });
      assert.equal(r.mode, 'fallback');
      const after = JSON.parse((await repo.fetchManifest(fallbackTag(subject), [OCI_INDEX])).bytes.toString('utf8'));
      assert.deepEqual(after.manifests[0], foreign, 'the foreign entry, byte for byte as JSON');
      assert.equal(after.manifests[1].digest, r.digest);
      assert.equal(after.manifests[1].artifactType, 'application/vnd.example.ours');
      assert.deepEqual(after.annotations, { 'com.example.index': 'kept' });
    } finally {
      await client.close();
    }
  });
});
