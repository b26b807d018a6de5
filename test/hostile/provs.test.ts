// Every hostile .prov of the corpus beside Helm's golden chart: `chartprov
// verify` (all in one call) and `chartprov attach --keyring` (one call each,
// for its peak RSS) refuse it with its code — nothing attached, nothing
// written — or, where it is harmless and Helm agrees, accept it. `helm
// verify` runs on each to pin where we are stricter than Helm: text outside
// the signed block and a lying Hash header, which Helm reads past.
import assert from 'node:assert/strict';
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCleartextMessage, enums, sign } from 'openpgp';
import type { RegistryClient } from '../../src/oci/client.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import { listReferrers } from '../../src/oci/referrers.js';
import { buildProvenanceMessage } from '../../src/provenance/index.js';
import { goldens } from '../peers/charts.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { recordFigure } from '../peers/figures.js';
import { runHelm } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { HELLO, golden, privateKey } from '../provenance/helpers.js';
import { HOSTILE_PROVS, HUGE_PROV_BYTES, type ProvContext } from './corpus.js';
import { RSS_BOUND_MIB, assertNoStack, inSandbox, judge, makeSandbox, type Sandbox } from './harness.js';
import { pushRawChart } from './raw-push.js';

const pubring = keyFile('all-pubring.gpg');
const CHART = 'hello-world-0.1.0.tgz';

interface VerifyJson {
  results: Array<{ ok: boolean; chart: string; signer?: { userId: string }; error?: { code: string; message: string } }>;
}

describe('hostile provenance files → verify, attach, helm verify', () => {
  let sb: Sandbox;
  let emb: EmbeddedRegistry;
  let client: RegistryClient;
  let subject: string;
  /** Per corpus item: the golden chart with the hostile prov beside it. */
  const pairs = new Map<string, { chart: string; prov: string }>();
  const creds = () => ({ CHARTPROV_USERNAME: emb.admin.username, CHARTPROV_PASSWORD: emb.admin.password });

  /** The golden chart and `prov` side by side in a folder of their own, as helm verify wants them. */
  async function pair(id: string, prov: string | Buffer): Promise<{ chart: string; prov: string }> {
    const dir = join(sb.inputs, id);
    await mkdir(dir);
    await copyFile(goldens.helm3.chart, join(dir, CHART));
    await writeFile(join(dir, `${CHART}.prov`), prov);
    return { chart: join(dir, CHART), prov: join(dir, `${CHART}.prov`) };
  }

  before(async () => {
    [sb, emb] = await Promise.all([makeSandbox(), startEmbedded({ projects: ['hostile'] })]);
    client = await emb.client(emb.admin);
    const [h3, h4, john, jane] = await Promise.all([golden(3), golden(4), privateKey('john'), privateKey('jane')]);
    const keys = { john, jane };
    const ctx: ProvContext = {
      helm3: h3.prov,
      helm4: h4.prov,
      message: buildProvenanceMessage(HELLO, CHART, h3.sha256),
      sign: async (text, who) => {
        const signed = await sign({
          message: await createCleartextMessage({ text }),
          signingKeys: who.map((w) => keys[w]),
          config: { preferredHashAlgorithm: enums.hash.sha512 },
        });
        return signed.replaceAll('\r\n', '\n');
      },
    };
    for (const p of HOSTILE_PROVS) pairs.set(p.id, await pair(p.id, await p.build(ctx)));
    subject = await pushRawChart(client, emb.host, 'hostile/hello-world', { chart: h3.tgz, name: 'hello-world', version: '0.1.0' });
  });
  after(async () => {
    await client?.close();
    await emb?.stop();
    await sb?.cleanup();
  });

  const attached = async () =>
    (await listReferrers(client.repository(emb.host, 'hostile/hello-world'), subject, { artifactType: PROVENANCE_ARTIFACT_TYPE })).referrers
      .length;

  it(`verify: all ${HOSTILE_PROVS.length} in one call, each with its code`, async () => {
    const charts = HOSTILE_PROVS.map((p) => pairs.get(p.id)!.chart);
    const { run, lost } = await inSandbox(sb, ['verify', ...charts, '--keyring', pubring, '-o', 'json']);
    assertNoStack(run);
    assert.equal(run.code, 1);
    const { results } = JSON.parse(run.stdout) as VerifyJson;
    HOSTILE_PROVS.forEach((p, i) => {
      const r = results[i]!;
      if (p.code === 'ok') assert.equal(r.signer?.userId, 'John The Signer <john@example.com>', `${p.id}: ${r.error?.message}`);
      else assert.equal(r.error?.code, p.code, `${p.id}: ${r.error?.message}`);
    });
    recordFigure({
      area: 'inputs',
      item: `the ${HOSTILE_PROVS.length} hostile provs of the corpus → verify (one process)`,
      tried: HOSTILE_PROVS.length,
      outcome: `${HOSTILE_PROVS.filter((p) => p.code !== 'ok').length} refused PROV_INVALID, ${HOSTILE_PROVS.filter((p) => p.code === 'ok').length} harmless ones verified`,
      lost: lost.length,
      measures: { peakRssMiB: run.peakRssMiB },
    });
    assert.deepEqual(lost, []);
    assert.ok(run.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${run.peakRssMiB} MiB`);
  });

  for (const p of HOSTILE_PROVS) {
    it(`${p.id}: ${p.what}`, async () => {
      const files = pairs.get(p.id)!;
      const before = await attached();
      const attach = await inSandbox(
        sb,
        ['attach', `oci://${emb.host}/hostile/hello-world:0.1.0`, files.prov, '--keyring', pubring, '--plain-http', '-o', 'json'],
        { env: creds() },
      );
      judge({ item: `prov: ${p.what} → attach`, ...attach, code: p.code });
      if (p.code !== 'ok') assert.equal(await attached(), before, 'a refused prov is not attached');

      const helm = await runHelm(4, ['verify', files.chart, '--keyring', pubring]);
      assert.equal(helm.code === 0 ? 'accepts' : 'refuses', p.helm, `helm verify: ${helm.stdout}${helm.stderr}`);
    });
  }

  it(`a ${HUGE_PROV_BYTES / 1024 ** 3} GiB prov is refused by its size, never read`, async () => {
    const dir = join(sb.inputs, 'huge');
    await mkdir(dir);
    await copyFile(goldens.helm3.chart, join(dir, CHART));
    const prov = join(dir, `${CHART}.prov`);
    // Sparse: no disk used, but stat says 4 GiB.
    const fh = await open(prov, 'w');
    await fh.truncate(HUGE_PROV_BYTES);
    await fh.close();
    const verified = await inSandbox(sb, ['verify', join(dir, CHART), '--keyring', pubring, '-o', 'json']);
    judge({ item: 'prov of 4 GiB (sparse file) → verify', ...verified, code: 'PROV_INVALID' });
    const attach = await inSandbox(sb, ['attach', `oci://${emb.host}/hostile/hello-world:0.1.0`, prov, '--plain-http', '-o', 'json'], {
      env: creds(),
    });
    judge({ item: 'prov of 4 GiB (sparse file) → attach', ...attach, code: 'PROV_INVALID' });
  });
});
