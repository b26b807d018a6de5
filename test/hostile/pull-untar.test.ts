// Every hostile archive of the corpus pushed raw into the embedded registry,
// then `chartprov pull --untar`: refused with its code, nothing written
// outside the target folder and nothing left inside it (no staging folder, no
// half-unpacked chart), peak RSS bounded. What Helm unpacks too (the 96 MiB
// chart just under Helm's limit) is unpacked, also in bounded memory.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RegistryClient } from '../../src/oci/client.js';
import { startEmbedded, type EmbeddedRegistry } from '../peers/embedded.js';
import { CHART_YAML, HOSTILE_ARCHIVES, chartYamlEntry, nearLimitChart, tgz } from './corpus.js';
import { inSandbox, judge, makeSandbox, resetTarget, type Sandbox } from './harness.js';
import { pushRawChart } from './raw-push.js';

describe('hostile archives in a registry → chartprov pull --untar', () => {
  let sb: Sandbox;
  let emb: EmbeddedRegistry;
  let client: RegistryClient;
  before(async () => {
    [sb, emb] = await Promise.all([makeSandbox(), startEmbedded()]);
    // Public: pulls are anonymous, so no password hashing per CLI run.
    await emb.addProject('hostile', { public: true });
    client = await emb.client(emb.admin);
  });
  after(async () => {
    await client?.close();
    await emb?.stop();
    await sb?.cleanup();
  });

  const pull = (repository: string) =>
    inSandbox(sb, [
      'pull',
      `oci://${emb.host}/hostile/${repository}`,
      '--version',
      '1.0.0',
      '--untar',
      '-d',
      sb.target,
      '--plain-http',
      '-o',
      'json',
    ]);

  for (const a of HOSTILE_ARCHIVES) {
    it(`${a.id}: ${a.what}`, async () => {
      await resetTarget(sb);
      await pushRawChart(client, emb.host, `hostile/${a.id}`, { chart: await a.build(sb.outside) });
      const { run, lost } = await pull(a.id);
      const code = a.untarCode ?? a.code;
      judge({ item: `${a.what} → pull --untar`, run, code, lost });
      const left = await readdir(sb.target);
      if (code === 'ok') assert.deepEqual(left, ['evil']);
      else assert.deepEqual(left, [], 'a refused pull leaves nothing in the target');
    });
  }

  it("a 96 MiB chart (24 files of 4 MiB, under Helm's 100 MiB) is unpacked in bounded memory", async () => {
    await resetTarget(sb);
    await pushRawChart(client, emb.host, 'hostile/near-limit', { chart: await nearLimitChart() });
    const { run, lost } = await pull('near-limit');
    judge({ item: '96 MiB chart of 4 MiB files (under the limit) → pull --untar', run, code: 'ok', lost });
    const files = await readdir(join(sb.target, 'evil', 'files'));
    assert.equal(files.length, 24);
    assert.equal((await stat(join(sb.target, 'evil', 'files', 'zeros-23.bin'))).size, 4 << 20);
  });

  it('a manifest claiming a 10 GiB chart layer is refused before anything is downloaded', async () => {
    await resetTarget(sb);
    await pushRawChart(client, emb.host, 'hostile/lying-size', {
      chart: tgz([chartYamlEntry(CHART_YAML)]),
      chartDescriptor: { size: 10 * 1024 ** 3 },
    });
    const { run, lost } = await pull('lying-size');
    // The client refuses the descriptor (oci/repository.ts) before a byte is fetched.
    judge({ item: 'manifest claiming a 10 GiB chart layer → pull --untar', run, code: 'CHART_ARCHIVE_INVALID', lost });
    assert.deepEqual(await readdir(sb.target), []);
  });
});
