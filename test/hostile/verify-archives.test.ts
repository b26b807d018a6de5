// Every hostile archive of the corpus fed to `chartprov verify` in one call
// (the charts are checked in parallel, so the peak RSS bounds several bombs
// at once): each refused with its code before any signature is looked at,
// or, for what Helm reads too, read and then missing its .prov; nothing
// written anywhere. Per-input memory figures come from pull-untar.test.ts.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordFigure } from '../peers/figures.js';
import { keyFile } from '../peers/paths.js';
import { HOSTILE_ARCHIVES } from './corpus.js';
import { RSS_BOUND_MIB, assertNoStack, inSandbox, makeSandbox, type Sandbox } from './harness.js';

interface VerifyJson {
  verified: number;
  failed: number;
  results: Array<{ ok: boolean; chart: string; error?: { code: string; message: string } }>;
}

describe('hostile archives → chartprov verify', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await makeSandbox();
  });
  after(() => sb?.cleanup());

  it(`refuses all ${HOSTILE_ARCHIVES.length} with their codes, in one process of bounded memory`, async () => {
    const charts = await Promise.all(
      HOSTILE_ARCHIVES.map(async (a) => {
        const chart = join(sb.inputs, `${a.id}-1.0.0.tgz`);
        await writeFile(chart, await a.build(sb.outside));
        return chart;
      }),
    );
    const { run, lost } = await inSandbox(sb, ['verify', ...charts, '--keyring', keyFile('all-pubring.gpg'), '-o', 'json']);
    assertNoStack(run);
    assert.equal(run.code, 1);
    const doc = JSON.parse(run.stdout) as VerifyJson;
    assert.equal(doc.verified, 0);
    const codes = HOSTILE_ARCHIVES.map((a, i) => {
      const r = doc.results[i]!;
      assert.equal(r.chart, charts[i]);
      // A chart we read fine has no .prov beside it: that is its refusal.
      assert.equal(r.error?.code, a.code === 'ok' ? 'PROV_MISSING' : a.code, `${a.id}: ${r.error?.message}`);
      return r.error!.code;
    });
    recordFigure({
      area: 'inputs',
      item: `the ${HOSTILE_ARCHIVES.length} hostile archives of the corpus → verify (one process, 8 at a time)`,
      tried: HOSTILE_ARCHIVES.length,
      outcome: `all refused: ${[...new Set(codes)].sort().join(', ')}`,
      lost: lost.length,
      measures: { peakRssMiB: run.peakRssMiB },
    });
    assert.deepEqual(lost, []);
    assert.ok(run.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${run.peakRssMiB} MiB`);
  });
});
