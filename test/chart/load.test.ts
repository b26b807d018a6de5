import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadChartDir, packageChartToBuffer } from '../../src/chart/index.js';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { chartFixtures, readTgz } from './support.js';

async function write(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
}

const chartYaml = (name: string, extra = '') => `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n${extra}`;

describe('loadChartDir', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
  });
  after(() => tmp.cleanup());

  it('sorts files into Helm parts and orders them as Helm does', async () => {
    const chart = await loadChartDir(join(chartFixtures, 'equiv'));
    assert.equal(chart.metadata.name, 'equiv');
    assert.deepEqual(
      chart.files.map((f) => f.name),
      [
        'Chart.lock',
        'values.yaml',
        'values.schema.json',
        'templates/_helpers.tpl',
        'templates/deployment.yaml',
        'templates/files.yaml',
        '.helmignore',
        'README.md',
        'charts/tiny-0.2.0.tgz.prov',
        'files/config.ini',
        'files/data.json',
        'files/scratch.md',
      ],
    );
    assert.deepEqual(
      chart.dependencies.map((d) => d.metadata.name),
      ['sub', 'tiny'],
    );
    assert.deepEqual(
      chart.dependencies[1]!.files.map((f) => f.name),
      ['values.yaml', 'templates/cm.yaml', 'README.md'],
      'a .tgz subchart is unpacked in its archive order',
    );
    const values = chart.files.find((f) => f.name === 'values.yaml')!;
    assert.notEqual(values.data[0], 0xef, 'the UTF-8 BOM is stripped');
  });

  it('a missing folder is FileNotFoundError; a folder without Chart.yaml is NotAChartError', async () => {
    await assert.rejects(loadChartDir(join(tmp.dir, 'nope')), { code: 'FILE_NOT_FOUND' });
    await mkdir(join(tmp.dir, 'empty'));
    await assert.rejects(loadChartDir(join(tmp.dir, 'empty')), { code: 'NOT_A_CHART', message: /Chart\.yaml file is missing/ });
    await write(tmp.dir, { 'afile/x': 'x' });
    await assert.rejects(loadChartDir(join(tmp.dir, 'afile', 'x')), { code: 'NOT_A_CHART' });
  });

  it('follows symlinks to files and folders, as Helm does, with a warning', async () => {
    const root = join(tmp.dir, 'links');
    await write(root, { 'ext/file.txt': 'ext\n', 'ext/dir/in.txt': 'in\n', 'chart/Chart.yaml': chartYaml('links') });
    await symlink('../ext/file.txt', join(root, 'chart', 'link.txt'));
    await symlink('../ext/dir', join(root, 'chart', 'linkdir'));
    const warnings: string[] = [];
    const chart = await loadChartDir(join(root, 'chart'), { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(
      chart.files.map((f) => [f.name, Buffer.from(f.data).toString()]),
      [
        ['link.txt', 'ext\n'],
        ['linkdir/in.txt', 'in\n'],
      ],
    );
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /symbolic link/);
    // And Helm makes the same archive from it.
    const out = join(root, 'out');
    await mkdir(out);
    const h = await runHelm(4, ['package', join(root, 'chart'), '-d', out]);
    assert.equal(h.code, 0, h.stderr);
    const ours = await packageChartToBuffer({ chartDir: join(root, 'chart') });
    const helmEntries = (await readTgz(join(out, 'links-0.1.0.tgz'))).map((e) => [e.path, e.data.toString()]);
    assert.deepEqual(
      (await readTgz(ours.data)).map((e) => [e.path, e.data.toString()]),
      helmEntries,
    );
  });

  it('refuses a broken symlink and a symlink loop', async () => {
    const root = join(tmp.dir, 'badlinks');
    await write(root, { 'chart/Chart.yaml': chartYaml('bad') });
    await symlink('missing', join(root, 'chart', 'broken.txt'));
    await assert.rejects(loadChartDir(join(root, 'chart')), { code: 'NOT_A_CHART', message: /broken\.txt/ });
    const loop = join(tmp.dir, 'loop');
    await write(loop, { 'Chart.yaml': chartYaml('loop') });
    await symlink('.', join(loop, 'self'));
    await assert.rejects(loadChartDir(loop), { code: 'NOT_A_CHART', message: /loop/ });
  });

  it('file-system errors are coded: FileReadError, never a raw Node error', async (t) => {
    // Helm fails on a .helmignore it cannot read (here: a folder, EISDIR).
    const ignoreDir = join(tmp.dir, 'ignoredir');
    await write(ignoreDir, { 'Chart.yaml': chartYaml('ignoredir'), '.helmignore/x': '' });
    await assert.rejects(loadChartDir(ignoreDir), { code: 'FILE_UNREADABLE', message: /\.helmignore/ });
    // A file that stats as regular but fails to read (EIO).
    if (!existsSync('/proc/self/mem')) return t.skip('needs Linux /proc');
    const eio = join(tmp.dir, 'eio');
    await write(eio, { 'Chart.yaml': chartYaml('eio') });
    await symlink('/proc/self/mem', join(eio, 'mem.txt'));
    await assert.rejects(loadChartDir(eio), { code: 'FILE_UNREADABLE', message: /mem/ });
  });

  it('a folder without read permission is FileReadError', async (t) => {
    if (process.getuid?.() === 0) return t.skip('chmod does not stop root');
    const locked = join(tmp.dir, 'locked');
    await write(locked, { 'Chart.yaml': chartYaml('locked'), 'files/a.txt': 'a' });
    await chmod(join(locked, 'files'), 0o000);
    try {
      await assert.rejects(loadChartDir(locked), { code: 'FILE_UNREADABLE' });
    } finally {
      await chmod(join(locked, 'files'), 0o755);
    }
  });

  it('messages stay on one line: names with line breaks are quoted, parser messages flattened', async () => {
    const oneLine = (code: string, part: string) => (err: Error & { code?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.ok(!err.message.includes('\n'), err.message);
      assert.ok(err.message.includes(part), err.message);
      return true;
    };
    const loop = join(tmp.dir, 'nl-loop');
    await write(loop, { 'Chart.yaml': chartYaml('nl') });
    await symlink('.', join(loop, 'self\nlink'));
    await assert.rejects(loadChartDir(loop), oneLine('NOT_A_CHART', '"self\\nlink"'));
    const schema = join(tmp.dir, 'nl-schema');
    await write(schema, { 'Chart.yaml': chartYaml('nl'), 'values.schema.json': 'nope\n{\n' });
    await assert.rejects(loadChartDir(schema), oneLine('NOT_A_CHART', 'values.schema.json: invalid JSON'));
  });

  it('charts/: a plain file is an error, "_" and "." names are dropped, two subcharts with one name are refused', async () => {
    const plain = join(tmp.dir, 'plain');
    await write(plain, { 'Chart.yaml': chartYaml('plain'), 'charts/README.md': 'x' });
    await assert.rejects(loadChartDir(plain), { code: 'NOT_A_CHART', message: /charts\/README\.md\/Chart\.yaml file is missing/ });

    const dropped = join(tmp.dir, 'dropped');
    await write(dropped, {
      'Chart.yaml': chartYaml('dropped'),
      'charts/_private/Chart.yaml': chartYaml('private'),
      'charts/.hidden/Chart.yaml': chartYaml('hidden'),
      'charts/.keep': '',
    });
    const chart = await loadChartDir(dropped);
    assert.deepEqual(chart.dependencies, []);
    assert.deepEqual(chart.files, []);

    const twice = join(tmp.dir, 'twice');
    await write(twice, {
      'Chart.yaml': chartYaml('twice'),
      'charts/a/Chart.yaml': chartYaml('same'),
      'charts/b/Chart.yaml': chartYaml('same'),
    });
    await assert.rejects(loadChartDir(twice), { code: 'NOT_A_CHART', message: /two subcharts named "same"/ });
  });

  it('a bad subchart Chart.yaml names its path', async () => {
    const bad = join(tmp.dir, 'badsub');
    await write(bad, { 'Chart.yaml': chartYaml('badsub'), 'charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: nope\n' });
    await assert.rejects(loadChartDir(bad), { code: 'CHART_YAML_INVALID', message: /charts\/sub\/Chart\.yaml: "version"/ });
  });

  it('values.yaml must be mappings and values.schema.json must be JSON', async () => {
    const v = join(tmp.dir, 'badvalues');
    await write(v, { 'Chart.yaml': chartYaml('v'), 'values.yaml': '- a\n- b\n' });
    await assert.rejects(loadChartDir(v), { code: 'NOT_A_CHART', message: /values\.yaml: must be a YAML mapping/ });
    const s = join(tmp.dir, 'badschema');
    await write(s, { 'Chart.yaml': chartYaml('s'), 'values.schema.json': '{nope' });
    await assert.rejects(loadChartDir(s), { code: 'NOT_A_CHART', message: /values\.schema\.json: invalid JSON/ });
  });

  it('v1 charts keep requirements.* as files and drop Chart.lock; v2 charts read requirements.yaml', async () => {
    const v1 = join(tmp.dir, 'v1');
    const reqs = 'dependencies:\n- name: dep\n  version: 1.0.0\n  repository: file://x\n';
    await write(v1, {
      'Chart.yaml': 'name: v1\nversion: 0.1.0\n',
      'requirements.yaml': reqs,
      'Chart.lock': 'digest: x\n',
      'charts/dep/Chart.yaml': chartYaml('dep'),
    });
    const one = await loadChartDir(v1);
    assert.equal(one.metadata.apiVersion, 'v1');
    assert.deepEqual(
      one.files.map((f) => f.name),
      ['requirements.yaml'],
    );
    assert.equal(one.metadata.dependencies?.[0]?.repository, 'file://x');

    const v2 = join(tmp.dir, 'v2');
    await write(v2, { 'Chart.yaml': chartYaml('v2'), 'requirements.yaml': reqs, 'charts/dep/Chart.yaml': chartYaml('dep') });
    const two = await loadChartDir(v2);
    assert.deepEqual(two.files, []);
    assert.equal(two.metadata.dependencies?.[0]?.name, 'dep');
    assert.match(two.warnings.join('\n'), /requirements\.yaml/);
  });
});
