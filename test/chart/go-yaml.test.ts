// The Go-YAML writer on cases where the two earlier ports disagreed; the
// expected bytes are what Helm 3.17 and 4.1 print (`helm show chart`) for a
// Chart.yaml holding the same values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marshalGoYaml, marshalMetadata, sanitizeString } from '../../src/chart/index.js';
import type { ChartMetadata } from '../../src/chart/metadata-types.js';

const base = { apiVersion: 'v2', name: 'demo', version: '0.1.0' } as const;

describe('marshalGoYaml: cases pinned against Helm', () => {
  it('writes "<<" plain: go-yaml only resolves it as a merge key when decoding', () => {
    assert.equal(marshalGoYaml({ k: '<<', '<<': 'x' }), '<<: x\nk: <<\n');
  });

  it('writes out-of-range floats plain: Go cannot parse them, so they read back as strings', () => {
    assert.equal(marshalGoYaml({ a: '.5e400', b: '1e400', c: '.5e3' }), 'a: .5e400\nb: 1e400\nc: ".5e3"\n');
  });

  it('folds a NEL with the spaces around it, not tabs (JSON escapes those)', () => {
    assert.equal(marshalGoYaml({ a: ' \t\u0085\t ' }), 'a: " \\t \\t "\n');
    assert.equal(marshalGoYaml({ a: 'a\u0085\u0085\u0085b' }), 'a: |-\n  a\n\n  b\n');
  });

  it("refuses a NEL in a key, as Helm does (\"did not find expected ',' or '}'\")", () => {
    assert.throws(() => marshalGoYaml({ 'k\u0085': 'v' }), /NEL/);
    assert.throws(() => marshalMetadata({ ...base, annotations: { 'k\u0085': 'v' } }), {
      code: 'CHART_YAML_INVALID',
      field: 'annotations',
    });
  });

  it('writes numbers as they come back from Go JSON: shortest digits, ints in int64/uint64 range', () => {
    assert.equal(
      marshalGoYaml({ a: 2 ** 60, b: 1e20, c: 1e21, d: 0.1, e: -0, f: 1e-7 }),
      'a: 1152921504606847000\nb: 1e+20\nc: 1e+21\nd: 0.1\ne: 0\nf: 1e-07\n',
    );
  });

  it('orders keys with digit runs that overflow int64 as Go does (wrapping)', () => {
    assert.equal(
      marshalGoYaml({ '9223372036854775808b': 2, '99999999999999999999a': 1 }),
      '99999999999999999999a: 1\n9223372036854775808b: 2\n',
    );
  });

  it('never ends a document with "..." (a root scalar, a keep-chomped literal last)', () => {
    assert.equal(marshalGoYaml('abc'), 'abc\n');
    assert.equal(marshalGoYaml({ z: 'x\n\n' }), 'z: |+\n  x\n\n');
  });

  it('reads a lone surrogate as U+FFFD, like invalid UTF-8 in Go', () => {
    assert.equal(marshalGoYaml({ k: 'a\ud800' }), 'k: a\ufffd\n');
    assert.equal(sanitizeString('a\udc00b'), 'a\ufffdb');
  });
});

describe('marshalMetadata: Go struct semantics for unvalidated input', () => {
  it('keeps nil entries of maintainer and dependency lists as null', () => {
    const md = { ...base, maintainers: [null, { name: 'a' }], dependencies: [null] } as unknown as ChartMetadata;
    assert.equal(
      marshalMetadata(md),
      'apiVersion: v2\ndependencies:\n- null\nmaintainers:\n- null\n- name: a\nname: demo\nversion: 0.1.0\n',
    );
  });
});
