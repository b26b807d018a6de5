/** Talking to registries and chart repositories: references, transport, auth, content, referrers. */
import { ChartprovError, type ErrorDetails } from './base.js';

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

/**
 * The registry went silent: no answer to a request, or no more bytes of one,
 * for longer than the timeout (`--timeout`, `CHARTPROV_TIMEOUT`, default 5 min).
 */
export class RegistryTimeoutError extends ChartprovError {
  readonly code = 'REGISTRY_TIMEOUT';
  protected get defaultHint(): string {
    return 'the registry is slow or stuck: try again later, or allow it longer with --timeout (or CHARTPROV_TIMEOUT), e.g. --timeout 10m';
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

// ---- classic chart repositories (index.yaml over HTTP or file:) ------------

/** A chart repository's index.yaml that cannot be used: not YAML, not an index, empty, too large. */
export class RepoIndexInvalidError extends ChartprovError {
  readonly code = 'REPO_INDEX_INVALID';
  protected get defaultHint(): string {
    return 'check the --repo URL: it must be the folder that holds index.yaml (helm repo index DIR --url URL makes one)';
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

/** `chartprov audit oci://host/project`: the registry lets nobody here list its repositories (neither Harbor's API nor the catalog). */
export class RepositoryListRefusedError extends ChartprovError {
  readonly code = 'REPOSITORY_LIST_REFUSED';
  protected get defaultHint(): string {
    return 'name the repositories one at a time (chartprov audit oci://HOST/PROJECT/NAME), or log in as a project member or an admin';
  }
}
