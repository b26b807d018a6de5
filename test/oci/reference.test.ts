import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReferenceInvalidError } from '../../src/errors.js';
import { chartRepository, formatOciReference, parseOciReference, parseRegistryHost } from '../../src/oci/reference.js';

const D256 = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'0f'.repeat(64)}`;

function assertInvalid(fn: () => unknown, part: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ReferenceInvalidError, String(err));
    assert.equal(err.code, 'REFERENCE_INVALID');
    assert.ok(!err.message.includes('\n'));
    if (typeof part === 'string') assert.ok(err.message.includes(part), `${err.message} should say ${part}`);
    else assert.match(err.message, part);
    return true;
  });
}

describe('parseOciReference: valid', () => {
  const cases: [string, object][] = [
    ['oci://localhost/charts/app', { registry: 'localhost', repository: 'charts/app' }],
    [
      'oci://localhost:5000/helm-charts/hello-world:0.1.0',
      { registry: 'localhost:5000', repository: 'helm-charts/hello-world', tag: '0.1.0' },
    ],
    ['oci://registry.example.com/a/b/c/d', { registry: 'registry.example.com', repository: 'a/b/c/d' }],
    ['oci://127.0.0.1:5000/x', { registry: '127.0.0.1:5000', repository: 'x' }],
    ['oci://[::1]:5000/x:1.0', { registry: '[::1]:5000', repository: 'x', tag: '1.0' }],
    ['oci://[2001:db8::1]/x', { registry: '[2001:db8::1]', repository: 'x' }],
    ['oci://Registry.Example.COM/x', { registry: 'Registry.Example.COM', repository: 'x' }],
    [`oci://host/x@${D256}`, { registry: 'host', repository: 'x', digest: D256 }],
    [`oci://host/x@${D512}`, { registry: 'host', repository: 'x', digest: D512 }],
    [`oci://host/x:1.0.0@${D256}`, { registry: 'host', repository: 'x', tag: '1.0.0', digest: D256 }],
    ['oci://host/a.b/c_d/e__f/g-h/i---j/x9', { registry: 'host', repository: 'a.b/c_d/e__f/g-h/i---j/x9' }],
    ['oci://host/x:1.0.0+build.5', { registry: 'host', repository: 'x', tag: '1.0.0_build.5' }],
    ['oci://host/x:v1_latest-Stable.2', { registry: 'host', repository: 'x', tag: 'v1_latest-Stable.2' }],
    ['oci://host/x:_', { registry: 'host', repository: 'x', tag: '_' }],
    [`oci://host/x:${'a'.repeat(128)}`, { registry: 'host', repository: 'x', tag: 'a'.repeat(128) }],
    ['oci://host/helm-charts/', { registry: 'host', repository: 'helm-charts' }],
    ['localhost:5000/charts/app:1.2.3', { registry: 'localhost:5000', repository: 'charts/app', tag: '1.2.3' }],
    ['ghcr.io/org/charts/app', { registry: 'ghcr.io', repository: 'org/charts/app' }],
  ];
  for (const [input, want] of cases) {
    it(input.length > 90 ? `${input.slice(0, 90)}…` : input, () => assert.deepEqual(parseOciReference(input), want));
  }
  it('round-trips through formatOciReference', () => {
    for (const [input] of cases) {
      const ref = parseOciReference(input);
      assert.deepEqual(parseOciReference(formatOciReference(ref)), ref);
    }
    assert.equal(
      formatOciReference({ registry: '[::1]:5000', repository: 'a/b', tag: '1', digest: D256 }),
      `oci://[::1]:5000/a/b:1@${D256}`,
    );
  });
  it('allowNoPath takes a bare host, as helm push does', () => {
    assert.deepEqual(parseOciReference('oci://localhost:5000', { allowNoPath: true }), { registry: 'localhost:5000', repository: '' });
    assert.deepEqual(parseOciReference('oci://localhost:5000/', { allowNoPath: true }), { registry: 'localhost:5000', repository: '' });
    assert.equal(formatOciReference({ registry: 'h', repository: '' }), 'oci://h');
    assertInvalid(() => parseOciReference('oci://localhost:5000/:1.0', { allowNoPath: true }), 'no repository path');
  });
});

describe('parseOciReference: invalid, saying what is wrong', () => {
  const cases: [string, string | RegExp, object?][] = [
    ['', 'empty'],
    ['localhost:5000/x', 'missing the oci:// scheme', { requireScheme: true }],
    ['https://host/x', 'the scheme is https://, not oci://'],
    ['OCI://host/x', 'the scheme is OCI://'],
    ['oci://', 'no registry host'],
    ['oci:///x', 'no registry host'],
    ['oci://host', 'no repository path'],
    ['oci://host/', 'no repository path'],
    ['oci://host/:1.0', 'no repository path'],
    ['oci://host//x', "empty component ('//')"],
    ['oci://host/a//b', "empty component ('//')"],
    ['oci://host/x//', "ends with '/'"],
    ['oci://Host/Charts/App', /upper-case.*"charts\/app"/],
    ['oci://host/x/MyChart:1.0', 'upper-case'],
    ['oci://host/-x', 'path component "-x" is not valid'],
    ['oci://host/x-', 'path component "x-"'],
    ['oci://host/a..b', 'path component "a..b"'],
    ['oci://host/a___b', 'path component "a___b"'],
    ['oci://host/a b', 'whitespace'],
    ['oci://host:abc/x', 'port "abc" is not a number'],
    ['oci://host:/x', "empty port after ':'"],
    ['oci://host:0/x', 'port 0 is out of range'],
    ['oci://host:65536/x', 'port 65536 is out of range (1-65535)'],
    ['oci://:5000/x', 'no host name'],
    ['oci://::1/x', 'IPv6 address in brackets'],
    ['oci://[::1/x', 'no closing ]'],
    ['oci://[zz::1]:5000/x', 'is not an IPv6 address'],
    ['oci://[::1]5000/x', 'after the IPv6 address'],
    ['oci://[::1]:99999/x', 'out of range'],
    ['oci://ho_st/x', '"ho_st" is not a valid host name'],
    ['oci://-host/x', 'not a valid host name'],
    ['oci://user:pw@host/x', 'credentials'],
    ['oci://host/x:', "empty tag after ':'"],
    ['oci://host/x:.1', 'tag ".1" is not valid'],
    ['oci://host/x:-1', 'tag "-1"'],
    [`oci://host/x:${'a'.repeat(129)}`, 'is not valid'],
    ['oci://host/x:1:2', 'tag "1:2"'],
    ['oci://host/x@', "empty digest after '@'"],
    ['oci://host/x@sha256:abc', 'must be sha256: and 64 lowercase hex digits'],
    [`oci://host/x@sha256:${'A'.repeat(64)}`, 'lowercase hex'],
    [`oci://host/x@sha512:${'a'.repeat(64)}`, '128 lowercase hex digits'],
    [`oci://host/x@md5:${'a'.repeat(32)}`, 'is not sha256:HEX or sha512:HEX'],
    ['oci://host/x@latest', 'is not sha256:HEX'],
    [`oci://host/${'a'.repeat(260)}`, 'longer than 255'],
  ];
  for (const [input, part, opts] of cases) {
    it(JSON.stringify(input).slice(0, 60), () => assertInvalid(() => parseOciReference(input, opts), part));
  }
  it('quotes the input, cut short', () => {
    assertInvalid(() => parseOciReference(`oci://host/${'X'.repeat(300)}`), /"oci:\/\/host\/X{89}…"/);
  });
  it('has a hint showing the form', () => {
    try {
      parseOciReference('oci://host');
      assert.fail('should throw');
    } catch (e) {
      assert.match((e as ReferenceInvalidError).hint, /oci:\/\/HOST/);
    }
  });
});

describe('parseRegistryHost', () => {
  const ok: [string, string][] = [
    ['localhost', 'localhost'],
    ['localhost:5000', 'localhost:5000'],
    ['registry.example.com', 'registry.example.com'],
    ['10.0.0.1:443', '10.0.0.1:443'],
    ['[::1]:5000', '[::1]:5000'],
    ['[fe80::1]', '[fe80::1]'],
    ['oci://localhost:5000', 'localhost:5000'],
    ['https://registry.example.com/', 'registry.example.com'],
    ['http://localhost:5000', 'localhost:5000'],
    ['localhost:5000/', 'localhost:5000'],
  ];
  for (const [input, want] of ok) it(input, () => assert.equal(parseRegistryHost(input), want));
  const bad: [string, string][] = [
    ['', 'empty'],
    ['oci://', 'no host'],
    ['localhost:5000/helm-charts', 'without a path ("localhost:5000")'],
    ['oci://host/charts/app', 'without a path ("host")'],
    ['ftp://host', 'the scheme is ftp://'],
    ['host:port', 'port "port" is not a number'],
    ['host:70000', 'out of range'],
    ['::1', 'in brackets'],
    ['[::1', 'no closing ]'],
    ['my host', 'whitespace'],
    ['user@host', 'credentials'],
  ];
  for (const [input, part] of bad) it(`rejects ${JSON.stringify(input)}`, () => assertInvalid(() => parseRegistryHost(input), part));
});

describe('chartRepository', () => {
  it('joins the path and the chart name, as helm push does', () => {
    assert.equal(chartRepository(parseOciReference('oci://host/helm-charts'), 'hello-world'), 'helm-charts/hello-world');
    assert.equal(chartRepository(parseOciReference('oci://host/helm-charts/'), 'x'), 'helm-charts/x');
    assert.equal(chartRepository(parseOciReference('oci://host/a/b'), 'x'), 'a/b/x');
    assert.equal(chartRepository(parseOciReference('oci://host', { allowNoPath: true }), 'x'), 'x');
  });
  it('refuses a base with a tag or digest, and names registries cannot hold', () => {
    assertInvalid(() => chartRepository(parseOciReference('oci://host/charts:1.0'), 'x'), 'has a tag');
    assertInvalid(() => chartRepository(parseOciReference(`oci://host/charts@${D256}`), 'x'), 'has a digest');
    assertInvalid(() => chartRepository(parseOciReference('oci://host/charts'), 'MyChart'), 'upper-case');
    assertInvalid(() => chartRepository(parseOciReference('oci://host/charts'), 'my chart'), 'cannot be a registry repository name');
  });
});
