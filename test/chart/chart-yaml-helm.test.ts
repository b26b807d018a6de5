// Chart.yaml cases checked against the real Helm binaries: for each good case
// `helm show chart` prints exactly what we marshal (the same text Helm writes
// into an archive and signs in a .prov); each bad-* case makes
// `helm package` fail and makes us throw ChartYamlError.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { marshalMetadata, parseChartYaml } from '../../src/chart/index.js';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { chartFixtures } from './support.js';

const CASES = join(chartFixtures, 'chart-yaml');

describe('Chart.yaml as Helm reads and writes it', () => {
  const names = readdirSync(CASES)
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => n.slice(0, -5));
  const good = names.filter((n) => !n.startsWith('bad-'));
  const bad = names.filter((n) => n.startsWith('bad-'));
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const dirOf = (name: string) => join(tmp.dir, name);

  before(async () => {
    tmp = await tempDir();
    await Promise.all(
      names.map(async (n) => {
        await mkdir(join(dirOf(n), 'out'), { recursive: true });
        await copyFile(join(CASES, `${n}.yaml`), join(dirOf(n), 'Chart.yaml'));
      }),
    );
  });
  after(() => tmp.cleanup());

  it('has cases', () => {
    assert.ok(good.length >= 10 && bad.length >= 15);
  });

  it('marshals every good case byte for byte as `helm show chart` (Helm 3 and 4)', async () => {
    await Promise.all(
      good.map(async (n) => {
        const text = await readFile(join(CASES, `${n}.yaml`), 'utf8');
        const ours = `${marshalMetadata(parseChartYaml(text))}\n`;
        const [h3, h4] = await Promise.all([runHelm(3, ['show', 'chart', dirOf(n)]), runHelm(4, ['show', 'chart', dirOf(n)])]);
        assert.equal(h4.code, 0, `${n}: ${h4.stderr}`);
        assert.equal(ours, h4.stdout, `${n}: Helm 4`);
        assert.equal(ours, h3.stdout, `${n}: Helm 3`);
      }),
    );
  });

  it('refuses every bad case that helm package refuses', async () => {
    await Promise.all(
      bad.map(async (n) => {
        const text = await readFile(join(CASES, `${n}.yaml`), 'utf8');
        const h4 = await runHelm(4, ['package', dirOf(n), '-d', join(dirOf(n), 'out')]);
        assert.notEqual(h4.code, 0, `${n}: Helm 4 packaged it`);
        assert.throws(() => parseChartYaml(text), { code: 'CHART_YAML_INVALID' }, n);
      }),
    );
  });
});
