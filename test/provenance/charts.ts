// Chart.yaml files with every kind of value whose YAML form Helm's marshaller
// (sigs.k8s.io/yaml over yaml.v2) decides something about: quoting, folding at
// 80 columns, block scalars, key order, omitted fields, sanitizing.

export interface TrickyChart {
  name: string;
  chartYaml: string;
  dependencies?: string[];
}

/**
 * JSON is YAML, and lets us write control and unicode characters exactly.
 * Characters that YAML 1.1 (Go's parser) reads as line breaks or BOM even
 * inside quotes are escaped so both parsers see the same string.
 */
function jsonChart(obj: Record<string, unknown>): string {
  return `${JSON.stringify(obj, null, 2).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

const mixedYaml = `apiVersion: v2
name: tricky
version: 1.2.3-rc.1+build.5
appVersion: "1.10"
kubeVersion: ">=1.20.0-0"
description: This is a very long description of the chart that certainly exceeds eighty columns of text, and it keeps going on and on for a while so we see multiple folds happening here.
home: https://example.com/a:b#frag
icon: "true"
deprecated: true
type: application
keywords:
  - "yes"
  - "- leading dash"
  - "with: colon"
  - "hash # inside"
  - "#hashfirst"
  - "it's quoted"
  - 'double " quote'
  - ünïcödé ✓ 日本語
  - emoji 😀 here
  - "1.16"
  - "null"
  - "2020-01-01"
  - "1:20"
  - "trailing space "
  - "  leading spaces"
  - ""
  - "a\\tb"
sources:
  - https://github.com/x/y
maintainers:
  - name: John "Q" Doe
    email: john@example.com
    url: https://example.com
  - name: Ünïcode Person
  - email: only@example.com
annotations:
  artifacthub.io/changes: |
    - kind: added
      description: something
  artifacthub.io/license: Apache-2.0
  "a: b": "value: with colon"
  z10: ten
  z9: nine
  z09: zero-nine
  A: upper
  "1": one
  _under: u
  multi: "line1\\nline2"
  trailing: "line1\\nline2\\n"
  twotrail: "x\\n\\n"
  spacy: "line1 \\nline2"
  longann: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."
  longquoted: "yes Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod: tempor incididunt ut labore et dolore magna aliqua."
dependencies:
  - name: sub
    version: ~1.0.0
    repository: https://charts.example.com
    condition: sub.enabled
    tags:
      - front
      - back
    import-values:
      - data
      - child: default.data
        parent: myimports
    alias: mysub
  - name: other
    version: 1.x
    repository: "file://../other"
`;

// Unquoted numbers: Go's parser turns them into strings (FormatFloat 'g', 32
// bits) for string fields and keeps int/float apart in import-values.
const numbersYaml = `apiVersion: v2
name: numbers
version: 0.1.0
appVersion: 3.14159265358979
kubeVersion: 0.00001234
dependencies:
  - name: d
    repository: file://x
    import-values:
      - 1.5
      - 1234567.5
      - 2
      - 0.0000001
      - true
      - null
      - {b: 1, a: [x, 2.25], c: {}}
      - []
`;

const long = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore';

export const TRICKY_CHARTS: TrickyChart[] = [
  { name: 'mixed', chartYaml: mixedYaml, dependencies: ['sub', 'other'] },
  { name: 'numbers', chartYaml: numbersYaml, dependencies: ['d'] },
  {
    name: 'long-lines',
    chartYaml: jsonChart({
      apiVersion: 'v2',
      name: 'long-lines',
      version: '0.1.0',
      // no space to fold at: stays on one line
      description: `${'x'.repeat(150)} then words after the long one ${'y'.repeat(90)}`,
      home: `https://example.com/${'p'.repeat(100)}`,
      keywords: [
        // two spaces at the fold point, a word ending right at column 80
        `${'a'.repeat(78)}  bb cc`,
        `${'b'.repeat(76)} ccc dd`,
        `${long} ${long}`,
        // folded in quotes: single (': ') and double (emoji) styles
        `${long}: ${long}`,
        `it's ${long} 'quoted' ${long}`,
        `😀 ${long} ${long}`,
        `  ${long}  ${long}  `,
        `ünïcödé ${'é'.repeat(70)} ${'日本'.repeat(30)} end`,
      ],
    }),
  },
  {
    name: 'multiline',
    chartYaml: jsonChart({
      apiVersion: 'v2',
      name: 'multiline',
      version: '0.2.0',
      // Helm's Validate turns these into spaces or drops them
      description: '- starts with a dash\n-----\nsecond line\twith tab\u00a0nbsp\u200bzero-width\r\nend',
      appVersion: 'true',
      annotations: {
        block: '- item one\n- item two\n-----\nlast',
        leadingSpace: '  indented first\nsecond',
        leadingBreak: '\nafter a break',
        crlf: 'one\r\ntwo',
        tab: 'a\tb',
        control: 'bell\u0007 esc\u001b',
        nel: 'nel\u0085 next',
        nels: 'a \u0085\u0085 \u0085b\u0085',
        nbsp: 'non\u00a0breaking',
        bom: '\ufeffbom first',
        ls: 'line\u2028separator',
        astral: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀',
        empty: '',
        dashes: '---',
        dots: '...',
        dashSpace: '- x',
        keepTrail: 'kept\n\n\n',
        onlyBreak: '\n',
      },
    }),
  },
  {
    name: 'scalars',
    chartYaml: jsonChart({
      apiVersion: 'v2',
      name: 'scalars',
      version: '1.0.0+build.7',
      appVersion: '1.10',
      kubeVersion: '>=1.20.0-0',
      condition: 'scalars.enabled',
      tags: 'a,b',
      icon: 'null',
      keywords: [
        'true',
        'yes',
        'on',
        'off',
        'Y',
        'n',
        'No',
        '1e3',
        '.5',
        '+1',
        '-1',
        '0o17',
        '0b101',
        '-0b11',
        '1_000',
        '0x1F',
        '08',
        '0777',
        '12:30:00',
        '190:20:30.15',
        '1.2.3',
        'v1.2',
        '1e400',
        '.inf',
        '-.Inf',
        '.NaN',
        '.nan.',
        '<<',
        '~',
        'NULL',
        'Null',
        'nULL',
        '2020-01-01',
        '2020-13-01',
        '2020-02-30',
        '2020-1-1',
        '2020-01-01T10:00:00Z',
        '2020-01-01t10:00:00.5+02:00',
        '2020-01-01 10:00:00',
        '2020-01-01T10:00:00',
        '-',
        '?',
        '? x',
        ':x',
        'a:b',
        'a: b',
        'a:',
        'a #b',
        'a#b',
        '[x]',
        'x]',
        '{x}',
        'x,y',
        '!tag',
        '&anchor',
        '*alias',
        '|pipe',
        '>gt',
        '%pct',
        '@at',
        '`tick',
        '---',
        '...',
        '--- x',
        '-x',
        '- x',
        '"dq',
        "'sq",
      ],
    }),
  },
  {
    name: 'deps',
    dependencies: ['alpha', 'beta', 'gamma'],
    chartYaml: jsonChart({
      apiVersion: 'v2',
      name: 'deps',
      version: '3.0.0',
      deprecated: false,
      keywords: [],
      sources: [],
      annotations: {},
      maintainers: [{}, { name: 'Only Name' }, { url: 'https://example.com/' }],
      dependencies: [
        {
          name: 'alpha',
          version: '>=1.0.0',
          repository: 'oci://registry.example.com/charts',
          condition: 'alpha.enabled,global.alpha',
          tags: ['x', 'y z'],
          enabled: true,
          'import-values': ['plain', { child: 'a.b', parent: 'c' }, { parent: 'p', child: 'ch' }],
          alias: 'alpha_1',
        },
        { name: 'beta', repository: '' },
        { name: 'gamma', version: '1.0.0', repository: '@stable', 'import-values': [] },
      ],
    }),
  },
  {
    name: 'keys',
    chartYaml: jsonChart({
      apiVersion: 'v2',
      name: 'keys',
      version: '0.0.1',
      annotations: {
        [`very.long.key/${'k'.repeat(130)}`]: 'complex key',
        'key: with colon': 'v',
        'multi\nline key': 'v',
        '': 'empty key',
        // no keys like a1b next to a2 and a10: yaml.v2's order for those is random
        a2: '',
        a10: '',
        a02: '',
        '0': '',
        '00': '',
        '007': '',
        _: '',
        '-': '',
        A: '',
        a: '',
        é: '',
        Z: '',
        'x.10.y': '',
        'x.9.y': '',
        'x.09.y': '',
        ab: '',
        'a-b': '',
        'a.b': '',
        a_b: '',
        'a/b': '',
      },
    }),
  },
];
