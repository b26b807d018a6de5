import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHelmVersion, marshalChartYaml, marshalMetadata, normalizeMetadata, parseChartYaml } from '../../src/chart/index.js';

const base = 'apiVersion: v2\nname: demo\nversion: 1.2.3\n';

/** Asserts a ChartYamlError naming `field` (in .field and in the message). */
function assertYamlError(text: string, field: string, messagePart?: string | RegExp): void {
  assert.throws(
    () => parseChartYaml(text),
    (err: unknown) => {
      const e = err as { code?: string; field?: string; message: string; hint?: string };
      assert.equal(e.code, 'CHART_YAML_INVALID', e.message);
      assert.equal(e.field, field, e.message);
      if (field !== 'yaml') assert.ok(e.message.includes(`"${field}`), `message names the field: ${e.message}`);
      if (typeof messagePart === 'string') assert.ok(e.message.includes(messagePart), e.message);
      if (messagePart instanceof RegExp) assert.match(e.message, messagePart);
      assert.ok(e.hint, 'has a hint');
      return true;
    },
  );
}

describe('parseChartYaml: validation like helm package', () => {
  it('missing name', () => assertYamlError('apiVersion: v2\nversion: 1.0.0\n', 'name', 'Chart.yaml: "name" is required'));
  it('empty document', () => assertYamlError('', 'name'));
  it('name with a slash, "." and ".."', () => {
    assertYamlError('apiVersion: v2\nname: a/b\nversion: 1.0.0\n', 'name', '"a/b"');
    assertYamlError('apiVersion: v2\nname: ..\nversion: 1.0.0\n', 'name', '".."');
    assertYamlError('apiVersion: v2\nname: "."\nversion: 1.0.0\n', 'name');
  });
  it('missing and bad version', () => {
    assertYamlError('apiVersion: v2\nname: x\n', 'version', '"version" is required');
    assertYamlError('apiVersion: v2\nname: x\nversion: banana\n', 'version', 'Chart.yaml: "version" is not valid SemVer: "banana"');
    assertYamlError('apiVersion: v2\nname: x\nversion: 1.0.0-01\n', 'version', '"1.0.0-01"');
  });
  it('bad apiVersion', () => {
    assertYamlError('apiVersion: v3\nname: x\nversion: 1.0.0\n', 'apiVersion', '"v3"');
    assertYamlError('apiVersion: banana\nname: x\nversion: 1.0.0\n', 'apiVersion', '"banana"');
  });
  it('missing apiVersion means v1, as Helm reads it', () => {
    const md = parseChartYaml('name: x\nversion: 1.0.0\n');
    assert.equal(md.apiVersion, 'v1');
  });
  it('bad type', () => assertYamlError(`${base}type: app\n`, 'type', '"app"'));
  it('YAML syntax error', () =>
    assertYamlError('apiVersion: v2\nname: [x\nversion: 1.0.0\n', 'yaml', /Chart\.yaml: not valid YAML \(line \d+\)/));
  it('wrong shapes name the field and what was found', () => {
    assertYamlError(`${base}keywords: abc\n`, 'keywords', 'got the string "abc"');
    assertYamlError(`${base}deprecated: "yes"\n`, 'deprecated');
    assertYamlError(`${base}description: [a]\n`, 'description', 'got a list');
    assertYamlError(`${base}annotations:\n  a:\n    b: c\n`, 'annotations.a', 'got a mapping');
    assertYamlError(`${base}maintainers: x\n`, 'maintainers');
  });
  it('dependencies must be well formed', () => {
    assertYamlError(`${base}dependencies:\n  - version: 1.0.0\n`, 'dependencies', '"dependencies[0].name" is required');
    assertYamlError(`${base}dependencies:\n  - ~\n`, 'dependencies', 'dependencies[0]');
    assertYamlError(`${base}dependencies:\n  - name: a\n    alias: a.b\n`, 'dependencies', '"a.b"');
    assertYamlError(`${base}dependencies:\n  - name: a\n  - name: b\n    alias: a\n`, 'dependencies', 'more than one');
    assertYamlError(`${base}maintainers:\n  - ~\n`, 'maintainers');
  });
  it('a null map key is refused as Helm does', () => assertYamlError(`${base}~: 1\n`, 'yaml'));
  it('control characters Helm cannot write back are refused', () => {
    assertYamlError(`${base}annotations:\n  a: "\\x7f"\n`, 'annotations', 'U+007F');
  });
  it('an alias bomb is refused instead of expanded', () => {
    const lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    assertYamlError(`${base}${lines.join('\n')}\n`, 'yaml', 'alias');
  });
});

describe('parseChartYaml: the model Helm builds', () => {
  it('reads scalars into string fields the Go way', () => {
    const md = parseChartYaml(
      `${base}appVersion: 1.10\nkubeVersion: 010\nicon: 0x1F\nhome: yes\ntags: 1e3\ndescription: 3.14159265358979\n`,
    );
    assert.equal(md.appVersion, '1.1'); // float64 → FormatFloat(…, 32)
    assert.equal(md.kubeVersion, '8'); // YAML 1.1 octal
    assert.equal(md.icon, '31');
    assert.equal(md.home, 'true'); // YAML 1.1 boolean
    assert.equal(md.tags, '1000');
    assert.equal(md.description, '3.1415927');
  });
  it('keys match case-insensitively, unknown fields are dropped, null leaves a field unset', () => {
    const md = parseChartYaml('APIVERSION: v2\nName: demo\nVERSION: 2.0.0\nunknown: 1\ndescription: ~\n');
    assert.deepEqual(md, { apiVersion: 'v2', name: 'demo', version: '2.0.0' });
  });
  it('sanitises strings as Helm does (whitespace to space, control characters dropped)', () => {
    const md = parseChartYaml(`${base}description: "a\\tb\\nc\\u0001d"\nkeywords: ["x\\ty"]\n`);
    assert.equal(md.description, 'a b cd');
    assert.deepEqual(md.keywords, ['x y']);
  });
  it('applies anchors, aliases and << merges', () => {
    const md = parseChartYaml('apiVersion: v2\nname: &n demo\nversion: 1.0.0\nx: &m {home: "https://h"}\n<<: *m\nkeywords: [*n]\n');
    assert.equal(md.home, 'https://h');
    assert.deepEqual(md.keywords, ['demo']);
  });
  it('strips a UTF-8 BOM', () => {
    assert.equal(parseChartYaml(`\ufeff${base}`).name, 'demo');
  });
  it('keeps user keys named like Object.prototype members, as Go maps do', () => {
    const md = parseChartYaml(
      `${base}annotations:\n  __proto__: kept\n  constructor: too\n` +
        'dependencies:\n  - name: a\n    import-values:\n      - {child: x, parent: p, __proto__: z}\n',
    );
    assert.ok(Object.hasOwn(md.annotations!, '__proto__'), 'annotation "__proto__" is an own key');
    assert.equal(Object.getOwnPropertyDescriptor(md.annotations, '__proto__')?.value, 'kept');
    assert.equal(md.annotations!.constructor, 'too');
    assert.equal(Object.getPrototypeOf(md.annotations), Object.prototype, 'the prototype is untouched');
    const iv = md.dependencies![0]!['import-values']![0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(iv), ['child', 'parent', '__proto__']);
    const out = marshalMetadata(normalizeMetadata(md));
    assert.match(out, /^ {2}__proto__: kept$/m);
    assert.match(out, /^ {2}- __proto__: z$/m);
  });
  it('ignores top-level keys named like Object.prototype members (unknown fields)', () => {
    const md = parseChartYaml(`${base}constructor: x\n__proto__: y\ntoString: z\n`);
    assert.deepEqual(md, { apiVersion: 'v2', name: 'demo', version: '1.2.3' });
  });
  it('keeps the loose versions helm package accepts', () => {
    for (const v of ['v1.2', '1', '01.02.03', '1.0.0+build.01', '1.0.0-rc.1+x', '18446744073709551615.0.0']) {
      assert.equal(parseChartYaml(`apiVersion: v2\nname: x\nversion: "${v}"\n`).version, v);
    }
  });
});

describe('isHelmVersion (Masterminds/semver NewVersion as Helm 3.17 and 4.1 use it)', () => {
  const accepted = [
    '1.2.3',
    'v1.2.3',
    'v1.2',
    '1',
    '01.02.03',
    '1.0.0-0a',
    '1.0.0-rc.1',
    '1.0.0+build.01',
    '1.0.0-rc.1+x',
    '18446744073709551615.0.0',
  ];
  const refused = [
    '',
    'banana',
    'V1.0.0',
    '=1.0.0',
    '1.2.3.4',
    '1.0.0-',
    '1.0.0-01',
    '1.0.0+b_c',
    '1.0.0-a..b',
    '99999999999999999999.0.0',
    ' 1.0.0',
  ];
  for (const v of accepted) it(`accepts ${JSON.stringify(v)}`, () => assert.equal(isHelmVersion(v), true));
  for (const v of refused) it(`refuses ${JSON.stringify(v)}`, () => assert.equal(isHelmVersion(v), false));
});

describe('marshalling as Helm writes Chart.yaml', () => {
  it('sorts keys naturally, quotes YAML 1.1 look-alikes, writes lists unindented', () => {
    const md = parseChartYaml(
      `${base}appVersion: "1.10"\nkeywords: ["yes", "1.5", "2020-01-01", a]\nannotations:\n  a10: x\n  a9: y\n  b: "multi\\nline\\n"\n  c: "a: b"\n`,
    );
    assert.equal(
      marshalMetadata(md),
      [
        'annotations:',
        '  a9: "true"',
        '  a10: x',
        '  b: |',
        '    multi',
        '    line',
        "  c: 'a: b'",
        'apiVersion: v2',
        'appVersion: "1.10"',
        'keywords:',
        '- "yes"',
        '- "1.5"',
        '- "2020-01-01"',
        '- a',
        'name: demo',
        'version: 1.2.3',
        '',
      ].join('\n'),
    );
  });
  it('folds long plain strings after column 80', () => {
    const long = 'word '.repeat(30).trim();
    const out = marshalMetadata(parseChartYaml(`${base}description: ${long}\n`));
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('description: word'));
    assert.equal(lines[at], `description: ${'word '.repeat(14).trim()}`, 'breaks at the first space past column 80');
    assert.equal(lines[at + 1], `  ${'word '.repeat(16).trim()}`, 'continuation is indented');
  });
  it('always writes dependency name and repository, drops empty fields', () => {
    const md = parseChartYaml(`${base}dependencies:\n  - name: a\n    enabled: false\n    tags: []\n`);
    assert.equal(marshalMetadata(md), 'apiVersion: v2\ndependencies:\n- name: a\n  repository: ""\nname: demo\nversion: 1.2.3\n');
  });
  it('v1 charts lose dependencies in the archive Chart.yaml', () => {
    const md = parseChartYaml('name: old\nversion: 1.0.0\ndependencies:\n  - name: a\n');
    assert.equal(marshalChartYaml(md), 'apiVersion: v1\nname: old\nversion: 1.0.0\n');
  });
  it('normalizeMetadata re-validates an edited model', () => {
    const md = parseChartYaml(base);
    assert.equal(normalizeMetadata({ ...md, description: 'a\nb' }).description, 'a b');
    assert.throws(() => normalizeMetadata({ ...md, version: 'nope' }), { code: 'CHART_YAML_INVALID' });
  });
});
