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
  /** Never empty: the hint given at the throw site, else the class's default. */
  readonly hint: string;
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number = 1;

  constructor(message: string, details: ErrorDetails = {}) {
    // The CLI prints `error[CODE]: message` as one line; messages that quote
    // tool output or file content must not break it.
    super(oneLine(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = oneLine(details.hint ?? '') || this.fallbackHint();
  }

  /**
   * What to do when the throw site has nothing more specific to say. Abstract
   * so that no error class can lack one. It is read during construction,
   * before the subclass's own fields exist, so it must not use them.
   */
  protected abstract get defaultHint(): string;

  // TypeScript forbids reading an abstract member in the constructor; a
  // prototype getter is safe to read there, through a method.
  private fallbackHint(): string {
    return this.defaultHint;
  }

  toJSON(): { code: string; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Bad flags or arguments. */
export class UsageError extends ChartprovError {
  readonly code = 'USAGE';
  override readonly exitCode = 2;
  protected get defaultHint(): string {
    return 'see chartprov --help, or chartprov COMMAND --help';
  }
}

export class FileNotFoundError extends ChartprovError {
  readonly code = 'FILE_NOT_FOUND';
  protected get defaultHint(): string {
    return 'check the path and try again';
  }
  constructor(
    readonly path: string,
    what = 'file',
    details: ErrorDetails = {},
  ) {
    super(`${what} not found: ${path}`, details);
  }
}

/** The path exists but cannot be read as the file it should be (a folder, no permission). */
export class FileReadError extends ChartprovError {
  readonly code = 'FILE_UNREADABLE';
  protected get defaultHint(): string {
    return 'check that it is a readable file';
  }
  constructor(
    readonly path: string,
    what = 'file',
    details: ErrorDetails = {},
  ) {
    super(`cannot read ${what} ${path}${reasonOf(details.cause)}`, details);
  }
}

function reasonOf(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR' ? ': it is a folder' : code === 'EACCES' ? ': permission denied' : code ? `: ${code}` : '';
}

export class FileWriteError extends ChartprovError {
  readonly code = 'FILE_WRITE_FAILED';
  protected get defaultHint(): string {
    return 'check that the folder exists and is writable';
  }
  constructor(
    readonly path: string,
    details: ErrorDetails = {},
  ) {
    super(`cannot write ${path}`, details);
  }
}

/** The path is not a chart folder or not a chart archive. */
export class NotAChartError extends ChartprovError {
  readonly code = 'NOT_A_CHART';
  protected get defaultHint(): string {
    return 'point to a chart folder holding Chart.yaml or a chart .tgz';
  }
}

/** Chart.yaml exists but a field is missing or wrong. */
export class ChartYamlError extends ChartprovError {
  readonly code = 'CHART_YAML_INVALID';
  protected get defaultHint(): string {
    return 'fix Chart.yaml: apiVersion, name and a SemVer version are required';
  }
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
  protected get defaultHint(): string {
    return 're-package the chart with helm package or chartprov package';
  }
}

export class KeyringError extends ChartprovError {
  readonly code = 'KEYRING_UNREADABLE';
  protected get defaultHint(): string {
    return 'export the keyring again, e.g. gpg --export > pubring.gpg';
  }
}

export class KeyNotFoundError extends ChartprovError {
  readonly code = 'KEY_NOT_FOUND';
  protected get defaultHint(): string {
    return 'see the keys with chartprov keys list --keyring FILE; --key takes a user id, key id or fingerprint';
  }
}

export class KeyAmbiguousError extends ChartprovError {
  readonly code = 'KEY_AMBIGUOUS';
  protected get defaultHint(): string {
    return 'pass --key with the full user id or the fingerprint';
  }
}

export class KeyExpiredError extends ChartprovError {
  readonly code = 'KEY_EXPIRED';
  protected get defaultHint(): string {
    return 'extend the key (gpg --quick-set-expire FINGERPRINT 1y) and export it again, or use another key';
  }
}

export class KeyRevokedError extends ChartprovError {
  readonly code = 'KEY_REVOKED';
  protected get defaultHint(): string {
    return 'use another key';
  }
}

/** The key has no usable signing capability (neither primary nor a subkey). */
export class KeyCannotSignError extends ChartprovError {
  readonly code = 'KEY_CANNOT_SIGN';
  protected get defaultHint(): string {
    return 'add a signing subkey (gpg --quick-add-key FINGERPRINT ed25519 sign) or use another key';
  }
}

export class PassphraseRequiredError extends ChartprovError {
  readonly code = 'PASSPHRASE_REQUIRED';
  protected get defaultHint(): string {
    return 'pass --passphrase-file FILE (- for stdin), set CHARTPROV_PASSPHRASE, or run on a terminal to be asked';
  }
}

export class PassphraseWrongError extends ChartprovError {
  readonly code = 'PASSPHRASE_WRONG';
  protected get defaultHint(): string {
    return 'check the passphrase; a passphrase file holds it on its first line';
  }
}

/** No .prov where one was needed. */
export class ProvenanceMissingError extends ChartprovError {
  readonly code = 'PROV_MISSING';
  protected get defaultHint(): string {
    return 'sign the chart (chartprov sign CHART.tgz), or name its .prov with --prov';
  }
}

/** The .prov is not a well-formed clearsigned provenance file (truncated, garbled). */
export class ProvenanceInvalidError extends ChartprovError {
  readonly code = 'PROV_INVALID';
  protected get defaultHint(): string {
    return 'fetch the original .prov again, or sign the chart again';
  }
}

/** The .prov is well formed but is about another chart (name, version or file). */
export class ProvenanceMismatchError extends ChartprovError {
  readonly code = 'PROV_MISMATCH';
  protected get defaultHint(): string {
    return 'use the .prov published with this archive';
  }
}

/** The archive's digest differs from the one the .prov signs. */
export class ChartTamperedError extends ChartprovError {
  readonly code = 'CHART_TAMPERED';
  protected get defaultHint(): string {
    return 'do not use this chart; fetch it and its .prov again from a trusted source';
  }
}

/** The signature does not match the signed text (the .prov was edited). */
export class SignatureInvalidError extends ChartprovError {
  readonly code = 'SIGNATURE_INVALID';
  protected get defaultHint(): string {
    return 'do not trust this chart; fetch it and its .prov again from the publisher';
  }
}

/** The signature was made by a key that is not in the keyring. */
export class SignerUnknownError extends ChartprovError {
  readonly code = 'SIGNER_UNKNOWN';
  protected get defaultHint(): string {
    return "add the signer's public key with --keyring, or check who signed this chart";
  }
}

/** The external gpg binary failed (`--sign-with gpg`). */
export class GpgError extends ChartprovError {
  readonly code = 'GPG_FAILED';
  protected get defaultHint(): string {
    return 'check gpg --list-secret-keys, and run on a terminal so pinentry can ask for the passphrase';
  }
}

// ---- OCI registries -------------------------------------------------------

/** An `oci://` reference (or a registry host) that cannot be parsed. */
export class ReferenceInvalidError extends ChartprovError {
  readonly code = 'REFERENCE_INVALID';
  protected get defaultHint(): string {
    return 'write it as oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST], e.g. oci://localhost:5000/helm-charts/hello-world:0.1.0';
  }
}

/** The registry cannot be reached: DNS, refused connection, reset, timeout. */
export class RegistryUnreachableError extends ChartprovError {
  readonly code = 'REGISTRY_UNREACHABLE';
  protected get defaultHint(): string {
    return 'check the host and port, that the registry is running, and --plain-http for a registry without TLS';
  }
}

/** The TLS handshake failed (unknown CA, wrong host name, expired certificate, plain HTTP). */
export class RegistryTlsError extends ChartprovError {
  readonly code = 'REGISTRY_TLS';
  protected get defaultHint(): string {
    return "pass the registry's CA with --ca-file, use --plain-http for a registry without TLS, or --insecure-skip-tls-verify for a test registry";
  }
}

/** 401 with no credentials for this registry. */
export class RegistryLoginRequiredError extends ChartprovError {
  readonly code = 'REGISTRY_LOGIN_REQUIRED';
  protected get defaultHint(): string {
    return 'log in with chartprov registry login HOST -u USER --password-stdin, or set CHARTPROV_USERNAME and CHARTPROV_PASSWORD';
  }
}

/** 401 although credentials were sent: wrong user name, password or token. */
export class RegistryCredentialsRejectedError extends ChartprovError {
  readonly code = 'REGISTRY_CREDENTIALS_REJECTED';
  protected get defaultHint(): string {
    return 'check the user name and password (or token), then chartprov registry login HOST again';
  }
}

/** 403, or a token without the scope asked for: logged in, but not allowed to do this here. */
export class RegistryDeniedError extends ChartprovError {
  readonly code = 'REGISTRY_DENIED';
  protected get defaultHint(): string {
    return 'ask an administrator for access to this project (push needs developer rights), or check that the project exists';
  }
}

/** The repository, tag or digest does not exist in the registry. */
export class ChartNotFoundError extends ChartprovError {
  readonly code = 'CHART_NOT_FOUND';
  protected get defaultHint(): string {
    return 'list what exists with chartprov versions oci://HOST/PATH/NAME';
  }
}

/** No tag matches the version or SemVer range asked for. */
export class VersionNotFoundError extends ChartprovError {
  readonly code = 'VERSION_NOT_FOUND';
  protected get defaultHint(): string {
    return 'list the versions with chartprov versions oci://HOST/PATH/NAME';
  }
}

/** Content received does not hash to the digest it was asked for by. */
export class DigestMismatchError extends ChartprovError {
  readonly code = 'DIGEST_MISMATCH';
  protected get defaultHint(): string {
    return 'the registry or something between served altered content; do not use it, and tell the registry administrator';
  }
}

/** The manifest at a reference is not a Helm chart (an image, an index, another artifact). */
export class NotAChartArtifactError extends ChartprovError {
  readonly code = 'NOT_A_CHART_ARTIFACT';
  protected get defaultHint(): string {
    return 'point to a Helm chart pushed with helm push or chartprov push';
  }
}

/** 429 after the retries allowed. */
export class RegistryRateLimitedError extends ChartprovError {
  readonly code = 'REGISTRY_RATE_LIMITED';
  protected get defaultHint(): string {
    return 'wait and try again later, or log in (anonymous pulls are often limited harder)';
  }
}

/** Any other failure the registry reported (its `{"errors":[…]}` body is in the message). */
export class RegistryError extends ChartprovError {
  readonly code = 'REGISTRY_ERROR';
  protected get defaultHint(): string {
    return 'check the registry logs, or run with --debug for the request that failed';
  }
  constructor(
    message: string,
    readonly status?: number,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}

/** A credentials file or credential helper cannot be read or written. */
export class CredentialsError extends ChartprovError {
  readonly code = 'CREDENTIALS_UNAVAILABLE';
  protected get defaultHint(): string {
    return 'check the registry config file (HELM_REGISTRY_CONFIG, ~/.docker/config.json) and any docker-credential-* helper it names';
  }
}

/** The place a pull would write to already holds something it must not replace. */
export class DestinationExistsError extends ChartprovError {
  readonly code = 'DESTINATION_EXISTS';
  protected get defaultHint(): string {
    return 'remove it, or choose another folder with -d / --untardir';
  }
}

/** A project, user or robot name the embedded registry cannot accept. */
export class AccountNameInvalidError extends ChartprovError {
  readonly code = 'ACCOUNT_NAME_INVALID';
  protected get defaultHint(): string {
    return 'use lower-case letters, digits and . _ - (a letter or digit first and last)';
  }
}

/** Creating a project, user or robot that already exists. */
export class AccountExistsError extends ChartprovError {
  readonly code = 'ACCOUNT_EXISTS';
  protected get defaultHint(): string {
    return 'choose another name, or list what exists with chartprov serve project list / user list';
  }
}

/** A project, user or robot the embedded registry does not have. */
export class AccountNotFoundError extends ChartprovError {
  readonly code = 'ACCOUNT_NOT_FOUND';
  protected get defaultHint(): string {
    return 'check the name; chartprov serve project list / user list show what exists';
  }
}

/** Deleting a project that still holds repositories (Harbor refuses it too). */
export class ProjectNotEmptyError extends ChartprovError {
  readonly code = 'PROJECT_NOT_EMPTY';
  protected get defaultHint(): string {
    return 'delete its repositories first, or pass --force to delete them with it';
  }
}

/** A password the embedded registry refuses (Harbor's rule: 8-128 characters with upper, lower case and a digit). */
export class PasswordPolicyError extends ChartprovError {
  readonly code = 'PASSWORD_POLICY';
  protected get defaultHint(): string {
    return 'use 8 to 128 characters with at least one upper-case letter, one lower-case letter and one digit';
  }
}

/** `chartprov serve --config` file (or a flag) that cannot be used. */
export class ServeConfigError extends ChartprovError {
  readonly code = 'SERVE_CONFIG_INVALID';
  protected get defaultHint(): string {
    return 'fix the file given with --config; chartprov serve --help lists every setting';
  }
}

// ---- classic chart repositories (index.yaml over HTTP or file:) ------------

/** A chart repository's index.yaml that cannot be used: not YAML, not an index, empty, too large. */
export class RepoIndexInvalidError extends ChartprovError {
  readonly code = 'REPO_INDEX_INVALID';
  protected get defaultHint(): string {
    return 'check the --repo URL: it must be the folder that holds index.yaml (helm repo index DIR --url URL makes one)';
  }
}

// ---- embedded registry ----------------------------------------------------

/** Another live process (a running registry, a gc) holds the registry's data folder. */
export class DataLockedError extends ChartprovError {
  readonly code = 'REGISTRY_DATA_LOCKED';
  protected get defaultHint(): string {
    return 'stop the registry server using this data folder (or wait for the other command to finish), then try again';
  }
}

/** Signatures were found and hold, but not the ones a policy asks for (--require-signers, --key-id). */
export class SignaturePolicyError extends ChartprovError {
  readonly code = 'SIGNATURE_POLICY';
  protected get defaultHint(): string {
    return 'have the missing signers sign the chart (chartprov sign oci://…), or relax --require-signers / --key-id';
  }
}

/** The registry refused an artifact that refers to a chart (an OCI 1.1 manifest with `subject`). */
export class ReferrerRejectedError extends ChartprovError {
  readonly code = 'REFERRER_REJECTED';
  protected get defaultHint(): string {
    return 'this registry does not take OCI 1.1 artifacts with a subject; keep the .prov beside the chart elsewhere (pull --verify --prov-url), or re-push the chart with it as a layer (a new digest)';
  }
}

/** The fallback referrers index kept changing under us: other writers replaced our entry every time. */
export class ReferrersConflictError extends ChartprovError {
  readonly code = 'REFERRERS_CONFLICT';
  protected get defaultHint(): string {
    return 'run the command again: it is idempotent and adds what is missing; if it keeps failing, another tool is rewriting the sha256-<digest> tag';
  }
}

export function isChartprovError(err: unknown): err is ChartprovError {
  return err instanceof ChartprovError;
}

/** A step of `chartprov demo` did not do what it should; the message names the step and what went wrong. */
export class DemoFailedError extends ChartprovError {
  readonly code = 'DEMO_FAILED';
  /** The step that failed (its id, e.g. `push-signed`), when known. */
  readonly step: string | undefined;
  /** The code of the error the step ran into, when it was a ChartprovError. */
  readonly stepCode: string | undefined;
  protected get defaultHint(): string {
    return 'run chartprov demo --keep --debug and look at the workspace it prints';
  }
  constructor(message: string, details: ErrorDetails & { step?: string; stepCode?: string } = {}) {
    super(message, details);
    this.step = details.step;
    this.stepCode = details.stepCode;
  }
}

/** A trust policy file (--policy) that cannot be used: not YAML, an unknown key, a wrong value. */
export class TrustPolicyInvalidError extends ChartprovError {
  readonly code = 'POLICY_INVALID';
  protected get defaultHint(): string {
    return 'fix the policy file; its format is docs/trust-policy.schema.json (README, "Trust policy")';
  }
}

/** `chartprov audit oci://host/project`: the registry lets nobody here list its repositories (neither Harbor's API nor the catalog). */
export class RepositoryListRefusedError extends ChartprovError {
  readonly code = 'REPOSITORY_LIST_REFUSED';
  protected get defaultHint(): string {
    return 'name the repositories one at a time (chartprov audit oci://HOST/PROJECT/NAME), or log in as a project member or an admin';
  }
}
