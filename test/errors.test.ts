// Every error class keeps the promise the CLI and library callers rely on: a
// stable SCREAMING_SNAKE code, a hint even when the throw site gives none, and
// a one-line message whatever text the throw site passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../src/errors.js';
import { ChartprovError, type ErrorDetails } from '../src/errors.js';

type Make = (message: string, details?: ErrorDetails) => ChartprovError;

/** How to build each class; a class missing here fails the first test, so new classes get checked too. */
const makers: Record<string, Make> = {
  UsageError: (m, d) => new errors.UsageError(m, d),
  FileNotFoundError: (m, d) => new errors.FileNotFoundError(m, 'chart', d),
  FileReadError: (m, d) => new errors.FileReadError(m, 'keyring', d),
  FileWriteError: (m, d) => new errors.FileWriteError(m, d),
  NotAChartError: (m, d) => new errors.NotAChartError(m, d),
  ChartYamlError: (m, d) => new errors.ChartYamlError('version', m, d),
  ChartArchiveError: (m, d) => new errors.ChartArchiveError(m, d),
  KeyringError: (m, d) => new errors.KeyringError(m, d),
  KeyNotFoundError: (m, d) => new errors.KeyNotFoundError(m, d),
  KeyAmbiguousError: (m, d) => new errors.KeyAmbiguousError(m, d),
  KeyExpiredError: (m, d) => new errors.KeyExpiredError(m, d),
  KeyRevokedError: (m, d) => new errors.KeyRevokedError(m, d),
  KeyCannotSignError: (m, d) => new errors.KeyCannotSignError(m, d),
  PassphraseRequiredError: (m, d) => new errors.PassphraseRequiredError(m, d),
  PassphraseWrongError: (m, d) => new errors.PassphraseWrongError(m, d),
  ProvenanceMissingError: (m, d) => new errors.ProvenanceMissingError(m, d),
  ProvenanceInvalidError: (m, d) => new errors.ProvenanceInvalidError(m, d),
  ProvenanceMismatchError: (m, d) => new errors.ProvenanceMismatchError(m, d),
  ChartTamperedError: (m, d) => new errors.ChartTamperedError(m, d),
  SignatureInvalidError: (m, d) => new errors.SignatureInvalidError(m, d),
  SignerUnknownError: (m, d) => new errors.SignerUnknownError(m, d),
  GpgError: (m, d) => new errors.GpgError(m, d),
  ReferenceInvalidError: (m, d) => new errors.ReferenceInvalidError(m, d),
  RegistryUnreachableError: (m, d) => new errors.RegistryUnreachableError(m, d),
  RegistryTimeoutError: (m, d) => new errors.RegistryTimeoutError(m, d),
  RegistryTlsError: (m, d) => new errors.RegistryTlsError(m, d),
  RegistryLoginRequiredError: (m, d) => new errors.RegistryLoginRequiredError(m, d),
  RegistryCredentialsRejectedError: (m, d) => new errors.RegistryCredentialsRejectedError(m, d),
  RegistryDeniedError: (m, d) => new errors.RegistryDeniedError(m, d),
  ChartNotFoundError: (m, d) => new errors.ChartNotFoundError(m, d),
  VersionNotFoundError: (m, d) => new errors.VersionNotFoundError(m, d),
  DigestMismatchError: (m, d) => new errors.DigestMismatchError(m, d),
  NotAChartArtifactError: (m, d) => new errors.NotAChartArtifactError(m, d),
  RegistryRateLimitedError: (m, d) => new errors.RegistryRateLimitedError(m, d),
  RegistryError: (m, d) => new errors.RegistryError(m, 500, d),
  CredentialsError: (m, d) => new errors.CredentialsError(m, d),
  DestinationExistsError: (m, d) => new errors.DestinationExistsError(m, d),
  DataLockedError: (m, d) => new errors.DataLockedError(m, d),
  AccountNameInvalidError: (m, d) => new errors.AccountNameInvalidError(m, d),
  AccountExistsError: (m, d) => new errors.AccountExistsError(m, d),
  AccountNotFoundError: (m, d) => new errors.AccountNotFoundError(m, d),
  ProjectNotEmptyError: (m, d) => new errors.ProjectNotEmptyError(m, d),
  PasswordPolicyError: (m, d) => new errors.PasswordPolicyError(m, d),
  ServeConfigError: (m, d) => new errors.ServeConfigError(m, d),
  SignaturePolicyError: (m, d) => new errors.SignaturePolicyError(m, d),
  ReferrerRejectedError: (m, d) => new errors.ReferrerRejectedError(m, d),
  ReferrersConflictError: (m, d) => new errors.ReferrersConflictError(m, d),
  RepoIndexInvalidError: (m, d) => new errors.RepoIndexInvalidError(m, d),
  DemoFailedError: (m, d) => new errors.DemoFailedError(m, d),
  TrustPolicyInvalidError: (m, d) => new errors.TrustPolicyInvalidError(m, d),
  RepositoryListRefusedError: (m, d) => new errors.RepositoryListRefusedError(m, d),
};

const exportedClasses = Object.entries(errors).filter(
  ([, value]) => typeof value === 'function' && value.prototype instanceof ChartprovError,
) as Array<[string, new (...args: never[]) => ChartprovError]>;

describe('error classes', () => {
  it('every exported ChartprovError subclass is covered here', () => {
    assert.ok(exportedClasses.length >= 20, `found ${exportedClasses.length}`);
    assert.deepEqual(exportedClasses.map(([name]) => name).sort(), Object.keys(makers).sort());
  });

  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: code, default hint, one-line message, JSON`, () => {
      const err = make('first line\n  second line\r\nthird');
      assert.ok(err instanceof ChartprovError && err instanceof Error);
      assert.equal(err.constructor.name, name);
      assert.equal(err.name, name);
      assert.match(err.code, /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/, 'SCREAMING_SNAKE code');
      assert.ok(err.hint.trim().length > 0, 'a hint without being given one');
      assert.doesNotMatch(err.hint, /[\r\n]/);
      assert.doesNotMatch(err.message, /[\r\n]/, 'one-line message');
      assert.match(err.message, /first line second line third/);
      assert.ok(Number.isInteger(err.exitCode) && err.exitCode !== 0);
      assert.deepEqual(JSON.parse(JSON.stringify(err)), { code: err.code, message: err.message, hint: err.hint });
    });
  }

  it('codes are unique', () => {
    const codes = Object.values(makers).map((make) => make('x').code);
    assert.equal(new Set(codes).size, codes.length, codes.join(', '));
  });

  it('a hint from the throw site wins, made one line; an empty one falls back to the default', () => {
    const given = new errors.KeyringError('bad', { hint: 'do this\nthen that' });
    assert.equal(given.hint, 'do this then that');
    const empty = new errors.KeyringError('bad', { hint: '' });
    assert.equal(empty.hint, new errors.KeyringError('bad').hint);
    assert.ok(empty.hint.length > 0);
  });

  it('keeps the cause, and field-specific hints of ChartYamlError', () => {
    const cause = new Error('root');
    assert.equal(new errors.GpgError('gpg failed', { cause }).cause, cause);
    assert.match(new errors.ChartYamlError('version', 'bad version').hint, /"version"/);
  });

  it('UsageError exits with 2', () => {
    assert.equal(new errors.UsageError('bad flag').exitCode, 2);
  });
});
