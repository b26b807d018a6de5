/**
 * Turning what the network and registries say into chartprov's errors: a
 * refused connection, a TLS failure, a `{"errors":[…]}` body. Kept apart from
 * the request loop so every caller words them the same way.
 */
import type { Readable } from 'node:stream';
import {
  ChartprovError,
  FileReadError,
  RegistryError,
  RegistryTimeoutError,
  RegistryTlsError,
  RegistryUnreachableError,
} from '../errors.js';

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response',
  UND_ERR_BODY_TIMEOUT: 'timed out while receiving data',
  UND_ERR_SOCKET: 'connection closed unexpectedly',
  UND_ERR_CLOSED: 'connection closed',
};

function errCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause as typeof e) {
    // Our own errors carry our codes; the network's code is on their cause.
    if (e instanceof ChartprovError) continue;
    if (typeof e.code === 'string' && e.code !== 'UND_ERR' && e.code !== 'ERR_INVALID_ARG_TYPE') return e.code;
  }
  return undefined;
}

/** Errors worth a retry on an idempotent request: the connection went away, not "nobody listens". */
export function isTransientNetworkError(err: unknown): boolean {
  const code = errCode(err);
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED';
}

/** What went wrong with a connection, in a few words ("connection reset"). */
export function networkReason(err: unknown): string {
  const code = errCode(err);
  return (code && NETWORK_CODES[code]) ?? (err as Error)?.message ?? String(err);
}

export interface NetworkErrorContext {
  tls?: boolean;
  /** The timeout that ran out, for the message (`sent no answer for 30 s`). */
  timeoutMs?: number;
  /** What was being done: "pull helm-charts/a:1.0.0". */
  what?: string;
}

export function networkError(err: unknown, host: string, opts: NetworkErrorContext = {}): ChartprovError {
  if (err instanceof ChartprovError) return err;
  const code = errCode(err);
  const reason = (err as Error)?.message ?? String(err);
  // The registry was reached and then went silent: not "unreachable", and the fix is a longer --timeout or a healthier registry.
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    const silence = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'sent no answer' : 'stopped sending data';
    const limit = opts.timeoutMs === undefined ? '' : ` for ${formatMs(opts.timeoutMs)}`;
    return new RegistryTimeoutError(`registry ${host} ${silence}${limit}${opts.what ? ` to ${opts.what}` : ''}`, { cause: err });
  }
  // The body we were sending came from a file that failed: not the network's fault.
  const path = (err as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string' && code && /^E(NOENT|ACCES|ISDIR|PERM|IO)$/.test(code)) {
    return new FileReadError(path, 'file', { cause: err });
  }
  if (code && TLS_CODES.test(code)) {
    const plain =
      code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(reason);
    return new RegistryTlsError(`TLS connection to ${host} failed: ${plain ? 'the server does not speak TLS' : tlsReason(code, reason)}`, {
      hint: plain
        ? 'the registry serves plain HTTP: add --plain-http'
        : "pass the registry's CA with --ca-file, or --insecure-skip-tls-verify for a test registry",
      cause: err,
    });
  }
  const what = (code && NETWORK_CODES[code]) ?? reason;
  // A TLS server that hangs up right away often wants a client certificate.
  const closed = opts.tls && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET');
  return new RegistryUnreachableError(`cannot reach registry ${host}: ${what}`, {
    cause: err,
    hint: closed ? 'if the registry requires a client certificate, pass --cert-file and --key-file; check the host and port' : undefined,
  });
}

/** `1.5 s`, `300 ms`, `5 min`: a timeout as a user would have written it. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

function tlsReason(code: string, message: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return 'its certificate is not for this host name';
  if (code === 'CERT_HAS_EXPIRED') return 'its certificate has expired';
  if (/SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(code)) return 'its certificate is not signed by a trusted CA';
  return message;
}

export interface RegistryErrorBody {
  code: string;
  message?: string;
  detail?: unknown;
}

const MAX_ERROR_BODY = 64 * 1024;

/** Reads at most 64 KiB of an error response and decodes the spec's `{"errors":[…]}`. */
export async function readErrorBody(body: Readable): Promise<{ errors: RegistryErrorBody[]; text: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (size < MAX_ERROR_BODY) chunks.push(buf.subarray(0, MAX_ERROR_BODY - size));
      size += buf.length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // An error body that breaks off still tells us the status.
  }
  body.destroy();
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) {
      const errors = parsed.errors
        .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
        .map((e) => ({
          code: String(e.code ?? 'UNKNOWN'),
          message: typeof e.message === 'string' ? e.message : undefined,
          detail: e.detail,
        }));
      return { errors, text };
    }
  } catch {
    // not JSON: keep the text
  }
  return { errors: [], text };
}

/**
 * Replaces every secret (and its URL-encoded form) in `text` with `***`:
 * some registries, proxies and token services quote the request, its
 * Authorization header or form, in their error pages.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

/** An error body with `redactSecrets` applied to everything a message may quote. */
export function redactErrorBody(
  body: { errors: RegistryErrorBody[]; text: string },
  secrets: readonly string[],
): { errors: RegistryErrorBody[]; text: string } {
  if (secrets.length === 0) return body;
  const r = (t: string) => redactSecrets(t, secrets);
  return {
    errors: body.errors.map((e) => ({ ...e, code: r(e.code), ...(e.message === undefined ? {} : { message: r(e.message) }) })),
    text: r(body.text),
  };
}

/** `MANIFEST_UNKNOWN: manifest unknown; …` — or the start of a non-JSON body. */
export function describeErrorBody(body: { errors: RegistryErrorBody[]; text: string }): string {
  if (body.errors.length > 0) {
    return body.errors.map((e) => (e.message ? `${e.code}: ${e.message}` : e.code)).join('; ');
  }
  const text = body.text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export function unexpectedStatus(status: number, what: string, body: { errors: RegistryErrorBody[]; text: string }): RegistryError {
  const said = describeErrorBody(body);
  return new RegistryError(`registry answered ${status} to ${what}${said ? `: ${said}` : ''}`, status);
}
