/**
 * Request and response plumbing of the Harbor API: JSON bodies, Harbor's
 * error body `{"errors":[{"code","message"}]}` (no `detail`, unlike the
 * distribution routes) and the query parameter parsing go-swagger does for
 * Harbor, which answers 422 for a parameter of the wrong type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBodyLimited } from '../routes/context.js';
import { HttpError, toHttpError } from '../routes/errors.js';

const MAX_BODY_BYTES = 64 * 1024;

export function sendApiJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}, head = false): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
  res.end(head ? undefined : body);
}

/** Harbor's answer to a successful DELETE/HEAD and friends: a status and nothing else. */
export function sendApiEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': '0' });
  res.end();
}

/** Anything thrown by an API handler, as Harbor would send it; internals never leak into a 500. */
export function sendApiError(res: ServerResponse, err: unknown, head = false): void {
  const http = toHttpError(err);
  const code = http.status >= 500 ? 'UNKNOWN' : harborCode(http);
  const message = http.status >= 500 ? 'internal server error' : http.message;
  const body = Buffer.from(`${JSON.stringify({ errors: [{ code, message }] })}\n`);
  res.writeHead(http.status, {
    ...http.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(body.length),
  });
  res.end(head ? undefined : body);
}

// Storage errors carry distribution-spec codes; Harbor's API names them by HTTP status.
function harborCode(err: HttpError): string {
  if (err.code === 'NAME_INVALID' || err.code === 'TAG_INVALID' || err.code === 'DIGEST_INVALID') return 'BAD_REQUEST';
  return err.code;
}

export const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const conflict = (message: string) => new HttpError(409, 'CONFLICT', message);
export const forbidden = (message: string) => new HttpError(403, 'FORBIDDEN', message);
export const precondition = (message: string, code = 'PRECONDITION') => new HttpError(412, code, message);
export const unprocessable = (message: string) => new HttpError(422, 'UNPROCESSABLE_ENTITY', message);

/**
 * Harbor's API itself sends no challenge; we add a Basic one so that generic
 * HTTP clients (curl --anyauth, requests' auth handlers) know what to send.
 */
export function unauthorized(message = 'unauthorized'): HttpError {
  return new HttpError(401, 'UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': 'Basic realm="harbor", charset="UTF-8"' });
}

export function methodNotAllowed(method: string | undefined, allowed: string[]): HttpError {
  return new HttpError(405, 'METHOD_NOT_ALLOWED', `method ${method ?? ''} is not allowed, but [${allowed.join(',')}] are`, undefined, {
    Allow: allowed.join(', '),
  });
}

/** The JSON object in a request body (at most 64 KiB), or a 400 saying why not. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBodyLimited(
    req,
    MAX_BODY_BYTES,
    () => new HttpError(413, 'REQUEST_ENTITY_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`),
  );
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw unprocessable('the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unprocessable('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

// strconv.ParseBool, which go-swagger uses for boolean parameters.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A boolean query parameter or header; `fallback` when absent. */
export function boolParam(value: string | null | undefined, name: string, fallback: boolean): boolean;
export function boolParam(value: string | null | undefined, name: string): boolean | undefined;
export function boolParam(value: string | null | undefined, name: string, fallback?: boolean): boolean | undefined {
  if (value === null || value === undefined || value === '') return fallback;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw unprocessable(`${name} in query must be of type boolean: ${JSON.stringify(value.slice(0, 50))}`);
}

/** An integer query parameter (strconv.ParseInt rules); `fallback` when absent. */
export function intParam(value: string | null, name: string, fallback: number): number {
  if (value === null || value === '') return fallback;
  if (!/^[+-]?\d{1,15}$/.test(value)) throw unprocessable(`${name} in query must be of type int64: ${JSON.stringify(value.slice(0, 50))}`);
  return Number(value);
}
