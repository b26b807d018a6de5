import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VersionNotFoundError } from '../../src/errors.js';
import { isHelmExactVersion, resolveVersionTag, sortTagsBySemver, tagFromVersion, versionFromTag } from '../../src/oci/version.js';

// As a registry lists them: unordered, with tags that are not chart versions.
const TAGS = [
  '0.1.0',
  '1.2.10',
  'latest',
  '0.1.1',
  '2.0.0-beta.1',
  '1.0.0',
  '1.2.0',
  'v3.0.0',
  '1.3.0-rc.1',
  '1.2.3',
  '1.4',
  '1.3.0',
  '0.2.0',
  '2.0.0-beta.2',
];

function assertNotFound(fn: () => unknown, part: string | RegExp): VersionNotFoundError {
  let caught: unknown;
  assert.throws(fn, (err: unknown) => {
    caught = err;
    assert.ok(err instanceof VersionNotFoundError, String(err));
    assert.equal(err.code, 'VERSION_NOT_FOUND');
    if (typeof part === 'string') assert.ok(err.message.includes(part), `${err.message} should say ${part}`);
    else assert.match(err.message, part);
    return true;
  });
  return caught as VersionNotFoundError;
}

describe('tags and versions', () => {
  it('+ ↔ _', () => {
    assert.equal(tagFromVersion('1.0.0+build.5'), '1.0.0_build.5');
    assert.equal(tagFromVersion('1.0.0-rc.1+a+b'), '1.0.0-rc.1_a_b');
    assert.equal(versionFromTag('1.0.0_build.5'), '1.0.0+build.5');
    assert.equal(versionFromTag('0.1.0'), '0.1.0');
  });
  it('sorts SemVer tags highest first and drops the others, as Helm lists them', () => {
    assert.deepEqual(sortTagsBySemver(TAGS), [
      '2.0.0-beta.2',
      '2.0.0-beta.1',
      '1.3.0',
      '1.3.0-rc.1',
      '1.2.10',
      '1.2.3',
      '1.2.0',
      '1.0.0',
      '0.2.0',
      '0.1.1',
      '0.1.0',
    ]);
  });
  it('orders prereleases by SemVer precedence and reads _ as +', () => {
    const tags = ['1.0.0-alpha.beta', '1.0.0', '1.0.0-rc.1', '1.0.0-alpha', '1.0.0-beta.11', '1.0.0-beta.2', '1.0.0-alpha.1', '1.0.0-beta'];
    assert.deepEqual(sortTagsBySemver(tags), [
      '1.0.0',
      '1.0.0-rc.1',
      '1.0.0-beta.11',
      '1.0.0-beta.2',
      '1.0.0-beta',
      '1.0.0-alpha.beta',
      '1.0.0-alpha.1',
      '1.0.0-alpha',
    ]);
    assert.deepEqual(sortTagsBySemver(['0.9.0', '1.0.0_build.2', '1.0.1', '01.0.0', '1.0.0-01', '1.0']), [
      '1.0.1',
      '1.0.0_build.2',
      '0.9.0',
    ]);
  });
});

describe('resolveVersionTag: what helm pull --version picks', () => {
  const cases: [string | undefined, string][] = [
    [undefined, '1.3.0'], // highest release; prereleases skipped
    ['', '1.3.0'],
    ['1.2.3', '1.2.3'], // exact
    ['1.3.0-rc.1', '1.3.0-rc.1'], // exact match wins even though it is a prerelease
    ['^0.1', '0.1.1'],
    ['^0', '0.2.0'],
    ['^1', '1.3.0'],
    ['^1.2.3', '1.3.0'],
    ['>=1.0.0 <2', '1.3.0'],
    ['>= 1.0.0, < 1.3.0', '1.2.10'], // comma = AND, spaces after operators
    ['>=1.0.0,<1.3.0', '1.2.10'],
    ['1.2.x', '1.2.10'],
    ['1.2.*', '1.2.10'],
    ['1.x', '1.3.0'],
    ['~1.2', '1.2.10'],
    ['~1.2.3', '1.2.10'],
    ['~>1.2', '1.2.10'],
    ['~0', '0.2.0'],
    ['~0.0.0', '1.3.0'], // Masterminds: ~0.0.0 is >=0.0.0 (npm would say <0.1.0)
    ['^2.0.0 || ~0.1', '0.1.1'], // no 2.x release; the other branch
    ['~0.1 || ^1.0', '1.3.0'], // the highest tag that meets either
    ['1.0 - 1.2.3', '1.2.3'], // hyphen range
    ['>1.2', '1.3.0'],
    ['<=1.2', '1.2.10'],
    ['<1.2', '1.0.0'],
    ['!=1.3.0', '1.2.10'],
    ['!=1.x', '0.2.0'],
    ['*', '1.3.0'],
    ['x', '1.3.0'],
    ['=1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3'], // a v prefix is read by the constraint
    ['>= 1.2', '1.3.0'],
    ['>=2.0.0-0', '2.0.0-beta.2'], // a prerelease in the range lets prereleases in
    ['^2.0.0-beta.1', '2.0.0-beta.2'],
    ['2.0.0-beta.1 - 2.0.0-beta.2', '2.0.0-beta.2'],
  ];
  for (const [version, want] of cases) {
    it(`${JSON.stringify(version)} → ${want}`, () => assert.equal(resolveVersionTag(TAGS, version), want));
  }

  it('prerelease rule: Helm 4 (semver 3.4) per AND group, Helm 3 (semver 3.3) per comparator', () => {
    assert.equal(resolveVersionTag(TAGS, '>=1.0.0-0 <2.0.0'), '2.0.0-beta.2');
    assert.equal(resolveVersionTag(TAGS, '>=1.0.0-0 <2.0.0', { helm: 4 }), '2.0.0-beta.2');
    assert.equal(resolveVersionTag(TAGS, '>=1.0.0-0 <2.0.0', { helm: 3 }), '1.3.0');
    assert.equal(resolveVersionTag(TAGS, '>=1.3.0-rc.1 <1.3.0'), '1.3.0-rc.1');
    assertNotFound(() => resolveVersionTag(TAGS, '>=1.3.0-rc.1 <1.3.0', { helm: 3 }), 'no version matches ">=1.3.0-rc.1 <1.3.0"');
    // In an OR, only the branch with a prerelease lets them in.
    assert.equal(resolveVersionTag(TAGS, '^1.0.0 || >=3.0.0-0'), '1.3.0');
  });

  it('build metadata: tags hold _ for +', () => {
    const tags = ['1.0.0', '1.0.0_build.2', '0.9.0'];
    assert.equal(resolveVersionTag(tags, '1.0.0+build.2'), '1.0.0_build.2');
    assert.equal(resolveVersionTag(tags, '1.0.0_build.2'), '1.0.0_build.2');
    assert.equal(resolveVersionTag(tags, '1.0.0'), '1.0.0');
    assert.equal(resolveVersionTag(['1.0.0_build.2', '0.9.0'], '>=1.0.0'), '1.0.0_build.2');
    assert.equal(resolveVersionTag(['1.0.0_build.2', '0.9.0'], '1.0.0'), '1.0.0_build.2'); // = ignores build metadata
    assert.equal(resolveVersionTag(['0.9.0', '1.0.0_b'], undefined), '1.0.0_b');
  });

  it('nothing matches: lists a few versions', () => {
    const err = assertNotFound(
      () => resolveVersionTag(TAGS, '>=3', { repository: 'oci://h/c/app' }),
      'no version in oci://h/c/app matches ">=3"',
    );
    assert.match(err.message, /available: 2\.0\.0-beta\.2, 2\.0\.0-beta\.1, 1\.3\.0, 1\.3\.0-rc\.1, 1\.2\.10 and 6 more/);
    assertNotFound(() => resolveVersionTag(TAGS, '^0.0'), 'matches "^0.0"');
    assertNotFound(() => resolveVersionTag(TAGS, '9.9.9'), 'matches "9.9.9"');
  });
  it('only prereleases, no version asked', () => {
    const err = assertNotFound(() => resolveVersionTag(['1.0.0-rc.1', '1.0.0-rc.2'], undefined), 'only prereleases');
    assert.match(err.hint, />=0\.0\.0-0/);
    assert.equal(resolveVersionTag(['1.0.0-rc.1', '1.0.0-rc.2'], '>=0.0.0-0'), '1.0.0-rc.2');
  });
  it('no SemVer tags at all', () => {
    assertNotFound(() => resolveVersionTag([], undefined), 'no chart versions');
    assertNotFound(() => resolveVersionTag(['latest', 'main'], '1.0.0'), 'not SemVer: latest, main');
  });
  it('an invalid constraint is VERSION_NOT_FOUND with the syntax in the hint', () => {
    for (const bad of ['latest', '1.2.3 -', '>=1.0.0 ||', 'foo || 1.0', '>>1', '1.2.3.4', '^1.0.0-01']) {
      const err = assertNotFound(() => resolveVersionTag(TAGS, bad), `"${bad}" is neither a version nor a SemVer range`);
      assert.match(err.hint, /\^1\.2/);
    }
  });
  it('stays fast on long runs of spaces (JS regexes backtrack, Go’s do not)', () => {
    const start = Date.now();
    assertNotFound(() => resolveVersionTag(TAGS, `${'1  '.repeat(40)}!`), 'neither');
    assert.ok(Date.now() - start < 1000);
  });
});

describe('isHelmExactVersion: when helm uses --version as the tag without listing', () => {
  for (const v of ['1.2.3', '1.2', '1', 'v1.2.3', '1.2.3-rc.1', '1.2.3+build', '01.2.3'])
    it(`${v} yes`, () => assert.ok(isHelmExactVersion(v)));
  for (const v of ['^1.2', '1.2.x', '>=1', '~1', '1.0.0-01', 'latest', ''])
    it(`${JSON.stringify(v)} no`, () => assert.ok(!isHelmExactVersion(v)));
});
