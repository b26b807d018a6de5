// The core promise: Helm 3 and Helm 4 read our archive exactly as they read
// the one `helm package` makes from the same folder.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PackageResult, marshalMetadata, packageChart, readChartArchive } from '../../src/chart/index.js';
import { type HelmMajor, runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { chartFixtures, readTgz, tgzContents } from './support.js';

const FIXTURE = join(chartFixtures, 'equiv');
const ARCHIVE = 'equiv-0.3.1.tgz';

/** Entry paths grouped by the chart that owns them, each group in archive order. */
function byChart(paths: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const m = /^(.*\/charts\/[^/]+)\/(?!.*\/charts\/[^/]+\/)/.exec(p);
    const owner = m ? m[1]! : p.split('/')[0]!;
    groups.set(owner, [...(groups.get(owner) ?? []), p]);
  }
  return groups;
}

describe('packageChart matches helm package (Helm 3.17 and 4.1)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const archives: Record<'helm3' | 'helm4' | 'ours', string> = { helm3: '', helm4: '', ours: '' };
  let ours: PackageResult;

  before(async () => {
    tmp = await tempDir();
    const out = (name: string) => join(tmp.dir, name);
    await Promise.all(['helm3', 'helm4', 'ours'].map((n) => mkdir(out(n))));
    const [h3, h4, packaged] = await Promise.all([
      runHelm(3, ['package', FIXTURE, '-d', out('helm3')]),
      runHelm(4, ['package', FIXTURE, '-d', out('helm4')]),
      packageChart({ chartDir: FIXTURE, destination: out('ours') }),
    ]);
    assert.equal(h3.code, 0, h3.stderr);
    assert.equal(h4.code, 0, h4.stderr);
    ours = packaged;
    archives.helm3 = join(out('helm3'), ARCHIVE);
    archives.helm4 = join(out('helm4'), ARCHIVE);
    archives.ours = join(out('ours'), ARCHIVE);
  });
  after(() => tmp.cleanup());

  it('names the archive <name>-<version>.tgz', () => {
    assert.equal(ours.fileName, ARCHIVE);
    assert.equal(basename(ours.path), ARCHIVE);
  });

  it('holds the same files in the same order (dependencies sorted by name)', async () => {
    const ourPaths = (await readTgz(archives.ours)).map((e) => e.path);
    for (const helm of ['helm3', 'helm4'] as const) {
      const helmPaths = (await readTgz(archives[helm])).map((e) => e.path);
      assert.deepEqual([...ourPaths].sort(), [...helmPaths].sort(), `${helm}: same file set`);
      // Helm orders subcharts by Go map iteration (random); within a chart the order is fixed.
      assert.deepEqual(byChart(ourPaths), byChart(helmPaths), `${helm}: same order within each chart`);
    }
    const depBlocks = [...byChart(ourPaths).keys()].filter((k) => k.includes('/charts/'));
    assert.deepEqual(depBlocks, ['equiv/charts/sub', 'equiv/charts/tiny']);
    // The measured .helmignore and charts/ behaviours, spelled out.
    for (const gone of [
      'equiv/LICENSE',
      'equiv/OWNERS',
      'equiv/old.bak',
      'equiv/files/old.bak',
      'equiv/docs/guide.md',
      'equiv/scratch.md',
      'equiv/templates/scratch.txt',
      'equiv/templates/.hidden',
      'equiv/charts/tiny-0.2.0.tgz',
    ]) {
      assert.ok(!ourPaths.includes(gone), `${gone} is left out`);
    }
    assert.ok(!ourPaths.some((p) => p.includes('_skipped')), 'charts/_skipped is left out');
    for (const kept of [
      'equiv/.helmignore',
      'equiv/files/scratch.md',
      'equiv/charts/tiny-0.2.0.tgz.prov',
      'equiv/charts/sub/notes.txt',
      'equiv/charts/sub/templates/.kept',
      'equiv/charts/tiny/README.md',
    ]) {
      assert.ok(ourPaths.includes(kept), `${kept} is kept`);
    }
    assert.deepEqual(ourPaths.slice(0, 4), ['equiv/Chart.yaml', 'equiv/Chart.lock', 'equiv/values.yaml', 'equiv/values.schema.json']);
  });

  it('holds the same bytes in every file (Chart.yaml and Chart.lock as Helm rewrites them, BOM stripped)', async () => {
    const mine = await tgzContents(archives.ours);
    for (const helm of ['helm3', 'helm4'] as const) {
      assert.deepEqual(mine, await tgzContents(archives[helm]), helm);
    }
    assert.match(mine.get('equiv/Chart.yaml')!, /^appVersion: "1\.1"$/m);
    assert.ok(!mine.get('equiv/Chart.yaml')!.includes('unknownField'));
    assert.match(mine.get('equiv/Chart.lock')!, /^generated: "2024-05-06T07:08:09\.5\+02:00"$/m);
    assert.ok(mine.get('equiv/values.yaml')!.startsWith('# values'));
  });

  for (const major of [3, 4] as HelmMajor[]) {
    for (const cmd of [['show', 'chart'], ['template', 'rel'], ['lint']]) {
      it(`helm ${major} ${cmd.join(' ')} gives the same output for every archive`, async () => {
        const results = await Promise.all(
          (['helm3', 'helm4', 'ours'] as const).map(async (who) => {
            const r = await runHelm(major, [...cmd, archives[who]]);
            return { who, code: r.code, out: `${r.stdout}\n--stderr--\n${r.stderr}`.replaceAll(archives[who], 'ARCHIVE') };
          }),
        );
        const [h3, h4, mine] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
        assert.equal(mine.code, 0, mine.out);
        assert.equal(mine.out, h4.out, 'same as on the Helm 4 archive');
        assert.equal(mine.out, h3.out, 'same as on the Helm 3 archive');
        assert.ok(mine.out.length > 40);
      });
    }
  }

  it('--version and --app-version overrides land in the file name and the archived Chart.yaml', async () => {
    const version = '0.4.0-rc.1+build.7';
    const dirs = { helm: join(tmp.dir, 'v-helm'), ours: join(tmp.dir, 'v-ours') };
    await Promise.all([mkdir(dirs.helm), mkdir(dirs.ours)]);
    const [h, mine] = await Promise.all([
      runHelm(4, ['package', FIXTURE, '-d', dirs.helm, '--version', version, '--app-version', '2.0.0']),
      packageChart({ chartDir: FIXTURE, destination: dirs.ours, version, appVersion: '2.0.0' }),
    ]);
    assert.equal(h.code, 0, h.stderr);
    assert.equal(mine.fileName, `equiv-${version}.tgz`);
    assert.equal(mine.metadata.version, version);
    assert.equal(mine.metadata.appVersion, '2.0.0');
    const helmFile = join(dirs.helm, mine.fileName);
    const [helmFiles, ourFiles] = await Promise.all([tgzContents(helmFile), tgzContents(mine.path)]);
    assert.equal(ourFiles.get('equiv/Chart.yaml'), helmFiles.get('equiv/Chart.yaml'));
    assert.match(ourFiles.get('equiv/Chart.yaml')!, new RegExp(`^version: ${version.replaceAll('.', '\\.').replace('+', '\\+')}$`, 'm'));
    const [showHelm, showOurs] = await Promise.all([runHelm(4, ['show', 'chart', helmFile]), runHelm(3, ['show', 'chart', mine.path])]);
    assert.equal(showOurs.stdout, showHelm.stdout);
    assert.match(showOurs.stdout, /^appVersion: 2\.0\.0$/m);
  });

  it('returns the metadata Helm loads back from the archive (what a .prov carries)', async () => {
    const shown = await runHelm(4, ['show', 'chart', archives.ours]);
    assert.equal(`${marshalMetadata(ours.metadata)}\n`, shown.stdout);
    assert.equal(`${marshalMetadata((await readChartArchive(archives.ours)).metadata)}\n`, shown.stdout);
  });

  it('v1 charts: dependencies leave Chart.yaml but come back from requirements.yaml, as in Helm', async () => {
    const chart = join(tmp.dir, 'v1src', 'old');
    await mkdir(join(chart, 'charts', 'dep'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'name: old\nversion: 1.0.0\ndependencies:\n- name: dep\n  version: 0.1.0\n');
    await writeFile(join(chart, 'requirements.yaml'), 'dependencies:\n- name: dep\n  version: 0.1.0\n  repository: file://charts/dep\n');
    await writeFile(join(chart, 'charts', 'dep', 'Chart.yaml'), 'apiVersion: v1\nname: dep\nversion: 0.1.0\n');
    const dirs = { helm: join(tmp.dir, 'v1-helm'), ours: join(tmp.dir, 'v1-ours') };
    await Promise.all([mkdir(dirs.helm), mkdir(dirs.ours)]);
    const [h, mine] = await Promise.all([
      runHelm(4, ['package', chart, '-d', dirs.helm]),
      packageChart({ chartDir: chart, destination: dirs.ours }),
    ]);
    assert.equal(h.code, 0, h.stderr);
    assert.deepEqual(await tgzContents(mine.path), await tgzContents(join(dirs.helm, 'old-1.0.0.tgz')));
    const shown = await runHelm(3, ['show', 'chart', mine.path]);
    assert.match(shown.stdout, /repository: file:\/\/charts\/dep/);
    assert.equal(`${marshalMetadata(mine.metadata)}\n`, shown.stdout);
    assert.equal(`${marshalMetadata((await readChartArchive(mine.path)).metadata)}\n`, shown.stdout);
  });

  it('refuses a version override Helm refuses', async () => {
    const out = join(tmp.dir, 'bad-version');
    await mkdir(out);
    const h = await runHelm(4, ['package', FIXTURE, '-d', out, '--version', '1.0.0-01']);
    assert.notEqual(h.code, 0);
    await assert.rejects(packageChart({ chartDir: FIXTURE, destination: out, version: '1.0.0-01' }), {
      code: 'CHART_YAML_INVALID',
      message: /version override "1\.0\.0-01" is not valid SemVer/,
    });
  });
});
