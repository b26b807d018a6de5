import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { list } from 'tar';
import { goMatch, loadChartDir, packageChart, parseHelmignore } from '../../src/chart/index.js';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';

describe('.helmignore with Helm rules', () => {
  const ignored = (text: string, path: string, isDir = false) => parseHelmignore(text).ignores(path, isDir);

  it('a pattern without "/" matches the basename at any depth', () => {
    assert.equal(ignored('*.bak', 'x.bak'), true);
    assert.equal(ignored('*.bak', 'a/b/x.bak'), true);
    assert.equal(ignored('*.bak', 'x.bak.txt'), false);
  });
  it('a pattern with "/" is anchored to the chart root; a leading "/" only anchors', () => {
    assert.equal(ignored('templates/*.txt', 'templates/a.txt'), true);
    assert.equal(ignored('templates/*.txt', 'charts/sub/templates/a.txt'), false);
    assert.equal(ignored('/x.bak', 'x.bak'), true);
    assert.equal(ignored('/x.bak', 'docs/x.bak'), false);
  });
  it('"*" does not cross "/"', () => {
    assert.equal(ignored('docs/*', 'docs/a/b.md'), false);
    assert.equal(ignored('docs/*', 'docs/a', true), true);
  });
  it('"dir/" matches folders only', () => {
    assert.equal(ignored('docs/', 'docs', true), true);
    assert.equal(ignored('docs/', 'docs', false), false);
    assert.equal(ignored('docs/', 'a/docs', true), true);
  });
  it('"!pattern" does not re-include: it ignores everything that does not match it', () => {
    const rules = parseHelmignore('docs/\n!docs/keep.md\n');
    assert.equal(rules.ignores('Chart.yaml', false), true);
    assert.equal(rules.ignores('docs', true), true);
    const upper = parseHelmignore('!*[a-z]*');
    assert.equal(upper.ignores('LICENSE', false), true);
    assert.equal(upper.ignores('README.md', false), false);
    assert.equal(upper.ignores('templates', true), false);
    // A directory-only negation ignores every file.
    assert.equal(ignored('!docs/', 'Chart.yaml'), true);
  });
  it('rules run in order; a matching negation passes to the next rule', () => {
    assert.equal(ignored('!*\n*.bak', 'x.bak'), true);
    assert.equal(ignored('!*\n*.bak', 'x.txt'), false);
  });
  it('comments, blank lines, surrounding spaces, CRLF and a BOM', () => {
    const rules = parseHelmignore('\ufeff# comment\r\n\r\n   *.bak   \r\n');
    assert.deepEqual(rules.patterns.slice(0, 1), ['*.bak']);
    assert.equal(rules.ignores('x.bak', false), true);
    assert.equal(rules.ignores('# comment', false), false);
  });
  it('Helm always ignores dotfiles directly in templates/', () => {
    const rules = parseHelmignore('');
    assert.equal(rules.ignores('templates/.hidden', false), true);
    assert.equal(rules.ignores('templates/sub/.hidden', false), false);
    assert.equal(rules.ignores('.helmignore', false), false);
    assert.equal(rules.ignores('charts/x/templates/.hidden', false), false);
  });
  it('"**" and malformed patterns are errors, as in Helm', () => {
    assert.throws(() => parseHelmignore('**/*.bak'), { code: 'NOT_A_CHART', message: /double-star/ });
    assert.throws(() => parseHelmignore('ok\n['), { code: 'NOT_A_CHART', message: /line 2: syntax error in pattern/ });
  });
  it('Go filepath.Match details', () => {
    assert.equal(goMatch('[^a]x', 'bx'), true);
    assert.equal(goMatch('[!a]x', '!x'), true); // "!" is not a class negation in Go
    assert.equal(goMatch('a\\*b', 'a*b'), true);
    assert.equal(goMatch('?', '/'), false);
    assert.equal(goMatch('[a-]', 'a'), 'bad');
    assert.equal(goMatch('x[', 'y'), 'bad'); // validated even after a mismatch
  });
});

/** Each case is checked against `helm package` (Helm 4) on the same folder. */
const CASES: { name: string; helmignore: string }[] = [
  { name: 'negation-only', helmignore: '!*[a-z]*\n' },
  { name: 'mixed', helmignore: '# docs\n*.bak\ndocs/\ntemplates/*.txt\n/scratch.md\n!*[a-z]*\n' },
  { name: 'dir-only', helmignore: 'LOUD/\nsub\n' },
  { name: 'negation-after-match', helmignore: '*.bak\n!*\n' },
  { name: 'anchored', helmignore: '/x.bak\ndocs/y.txt\n' },
  { name: 'broken-negation', helmignore: 'docs/\n!docs/keep.md\n' },
  { name: 'double-star', helmignore: '**/*.bak\n' },
];

const FILES = [
  'Chart.yaml',
  'values.yaml',
  'templates/t.yaml',
  'templates/y.txt',
  'templates/.hidden',
  'templates/sub/.hidden',
  'docs/keep.md',
  'docs/y.txt',
  'LICENSE',
  'LOUD/inner.txt',
  'x.bak',
  'a/x.bak',
  'scratch.md',
  'a/scratch.md',
  'a/sub/f.txt',
];

async function makeChart(dir: string, helmignore: string): Promise<void> {
  for (const f of FILES) {
    const content = f === 'Chart.yaml' ? 'apiVersion: v2\nname: hi\nversion: 0.1.0\n' : f === 'values.yaml' ? 'a: 1\n' : `${f}\n`;
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await writeFile(join(dir, f), content);
  }
  await writeFile(join(dir, '.helmignore'), helmignore);
}

async function tarList(file: string): Promise<string[]> {
  const names: string[] = [];
  await list({ file, onReadEntry: (e) => names.push(e.path) });
  return names;
}

describe('.helmignore against real Helm 4', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
  });
  after(() => tmp.cleanup());

  it('selects exactly the files helm package selects', async () => {
    await Promise.all(
      CASES.map(async ({ name, helmignore }) => {
        const chart = join(tmp.dir, name, 'hi');
        await makeChart(chart, helmignore);
        const helmOut = join(tmp.dir, name, 'helm');
        const ourOut = join(tmp.dir, name, 'ours');
        await mkdir(helmOut);
        await mkdir(ourOut);
        const helm = await runHelm(4, ['package', chart, '-d', helmOut]);
        let ours: string | Error;
        try {
          ours = (await packageChart({ chartDir: chart, destination: ourOut })).path;
        } catch (err) {
          ours = err as Error;
        }
        if (helm.code !== 0) {
          assert.ok(ours instanceof Error, `${name}: Helm failed (${helm.stderr.trim()}) but we packaged`);
          return;
        }
        assert.ok(typeof ours === 'string', `${name}: Helm packaged but we failed: ${(ours as Error).message}`);
        const expected = await tarList(join(helmOut, 'hi-0.1.0.tgz'));
        assert.deepEqual(await tarList(ours), expected, `${name}: file list and order`);
      }),
    );
  });

  it('the failing cases fail the way Helm does', async () => {
    const broken = join(tmp.dir, 'broken-negation', 'hi');
    await assert.rejects(loadChartDir(broken), { code: 'NOT_A_CHART', message: /Chart\.yaml file is missing/ });
    await assert.rejects(loadChartDir(join(tmp.dir, 'double-star', 'hi')), { message: /double-star/ });
  });
});
