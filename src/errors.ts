/**
 * Every failure a user can hit is a ChartprovError with a stable `code`, a
 * one-line `message` saying what is wrong and a `hint` saying what to do.
 * The CLI prints `error[CODE]: message` and `hint: …`; library callers switch
 * on `code`, which never changes once released (see README, "Error codes").
 */
export interface ErrorDetails {
  /** What to do about it, one line. */
  hint?: string;
  /** The underlying error, kept for `--debug`. */
  cause?: unknown;
}

export abstract class ChartprovError extends Error {
  abstract readonly code: string;
  readonly hint: string | undefined;
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number = 1;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = details.hint;
  }

  toJSON(): { code: string; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** Bad flags or arguments. */
export class UsageError extends ChartprovError {
  readonly code = 'USAGE';
  override readonly exitCode = 2;
}

export class FileNotFoundError extends ChartprovError {
  readonly code = 'FILE_NOT_FOUND';
  constructor(
    readonly path: string,
    what = 'file',
    details: ErrorDetails = {},
  ) {
    super(`${what} not found: ${path}`, { hint: 'check the path and try again', ...details });
  }
}

export class FileWriteError extends ChartprovError {
  readonly code = 'FILE_WRITE_FAILED';
  constructor(
    readonly path: string,
    details: ErrorDetails = {},
  ) {
    super(`cannot write ${path}`, { hint: 'check that the folder exists and is writable', ...details });
  }
}

/** The path is not a chart folder or not a chart archive. */
export class NotAChartError extends ChartprovError {
  readonly code = 'NOT_A_CHART';
}

/** Chart.yaml exists but a field is missing or wrong. */
export class ChartYamlError extends ChartprovError {
  readonly code = 'CHART_YAML_INVALID';
  constructor(
    readonly field: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, { hint: `fix the "${field}" field in Chart.yaml`, ...details });
  }
}

/** The archive is not a readable gzip'd tar, or holds unsafe entries. */
export class ChartArchiveError extends ChartprovError {
  readonly code = 'CHART_ARCHIVE_INVALID';
}

export class KeyringError extends ChartprovError {
  readonly code = 'KEYRING_UNREADABLE';
}

export class KeyNotFoundError extends ChartprovError {
  readonly code = 'KEY_NOT_FOUND';
}

export class KeyAmbiguousError extends ChartprovError {
  readonly code = 'KEY_AMBIGUOUS';
}

export class KeyExpiredError extends ChartprovError {
  readonly code = 'KEY_EXPIRED';
}

export class KeyRevokedError extends ChartprovError {
  readonly code = 'KEY_REVOKED';
}

/** The key has no usable signing capability (neither primary nor a subkey). */
export class KeyCannotSignError extends ChartprovError {
  readonly code = 'KEY_CANNOT_SIGN';
}

export class PassphraseRequiredError extends ChartprovError {
  readonly code = 'PASSPHRASE_REQUIRED';
}

export class PassphraseWrongError extends ChartprovError {
  readonly code = 'PASSPHRASE_WRONG';
}

/** No .prov where one was needed. */
export class ProvenanceMissingError extends ChartprovError {
  readonly code = 'PROV_MISSING';
}

/** The .prov is not a well-formed clearsigned provenance file (truncated, garbled). */
export class ProvenanceInvalidError extends ChartprovError {
  readonly code = 'PROV_INVALID';
}

/** The .prov is well formed but is about another chart (name, version or file). */
export class ProvenanceMismatchError extends ChartprovError {
  readonly code = 'PROV_MISMATCH';
}

/** The archive's digest differs from the one the .prov signs. */
export class ChartTamperedError extends ChartprovError {
  readonly code = 'CHART_TAMPERED';
}

/** The signature does not match the signed text (the .prov was edited). */
export class SignatureInvalidError extends ChartprovError {
  readonly code = 'SIGNATURE_INVALID';
}

/** The signature was made by a key that is not in the keyring. */
export class SignerUnknownError extends ChartprovError {
  readonly code = 'SIGNER_UNKNOWN';
}

/** The external gpg binary failed (`--sign-with gpg`). */
export class GpgError extends ChartprovError {
  readonly code = 'GPG_FAILED';
}

export function isChartprovError(err: unknown): err is ChartprovError {
  return err instanceof ChartprovError;
}
