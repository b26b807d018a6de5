// WWW-Authenticate parsing (RFC 7235 auth-params as registries send them)
// and the scope merging the token cache keys on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeScopes, parseChallenge, repositoryScope } from '../../src/oci/challenge.js';

describe('parseChallenge', () => {
  it('keeps commas inside quoted values (scopes with several actions)', () => {
    const c = parseChallenge(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="insufficient_scope"',
    );
    assert.deepEqual(c, {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull,push',
        error: 'insufficient_scope',
      },
    });
  });

  it('unescapes backslash-escaped quotes and backslashes in quoted values', () => {
    const c = parseChallenge('Basic realm="say \\"hi\\", then \\\\ go", charset="UTF-8"');
    assert.equal(c?.scheme, 'basic');
    assert.equal(c?.params.realm, 'say "hi", then \\ go');
    assert.equal(c?.params.charset, 'UTF-8');
  });

  it('reads unquoted values (token68-free auth-params) and spaces around commas and equals signs', () => {
    const c = parseChallenge('Bearer realm=https://auth.example/token , service = registry , scope="repository:x:pull"');
    assert.deepEqual(c?.params, { realm: 'https://auth.example/token', service: 'registry', scope: 'repository:x:pull' });
  });

  it('treats the scheme and parameter names case-insensitively', () => {
    assert.equal(parseChallenge('bearer realm="r"')?.scheme, 'bearer');
    assert.equal(parseChallenge('BEARER Realm="r"')?.params.realm, 'r');
    assert.equal(parseChallenge('BaSiC realm="x"')?.scheme, 'basic');
    assert.equal(parseChallenge('Negotiate')?.scheme, 'other');
  });

  it('returns undefined without a header and empty params for a bare scheme', () => {
    assert.equal(parseChallenge(undefined), undefined);
    assert.equal(parseChallenge(''), undefined);
    assert.deepEqual(parseChallenge('Basic'), { scheme: 'basic', params: {} });
  });
});

describe('mergeScopes', () => {
  it('unions the actions per resource, sorted, one entry per resource', () => {
    assert.deepEqual(mergeScopes(['repository:a/b:pull'], ['repository:a/b:push,pull', 'repository:c:pull']), [
      'repository:a/b:pull,push',
      'repository:c:pull',
    ]);
  });

  it('splits space-separated scope lists and ignores malformed entries', () => {
    assert.deepEqual(mergeScopes(['repository:a:pull repository:a:delete', 'nonsense', ':x'], undefined), ['repository:a:delete,pull']);
  });

  it('gives the same key whatever the order of scopes and actions', () => {
    assert.deepEqual(
      mergeScopes([repositoryScope('a', 'push', 'pull'), repositoryScope('b', 'pull')]),
      mergeScopes([repositoryScope('b', 'pull'), repositoryScope('a', 'pull'), repositoryScope('a', 'push')]),
    );
  });

  it('keeps a resource whose name holds colons (registry with a port in a scope)', () => {
    assert.deepEqual(mergeScopes(['repository:host:5000/a:pull', 'repository:host:5000/a:push']), ['repository:host:5000/a:pull,push']);
  });
});
