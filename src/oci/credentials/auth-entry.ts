/**
 * One `auths` entry of a Docker-format config file, read as Docker and
 * oras-go read it and written as oras-go writes it (Helm's AuthConfig).
 */
import { compactMap, encodeString } from './go-json.js';
import type { RegistryCredential } from './types.js';

/** Why an entry cannot be read; the caller adds file and host, the entry's content is never quoted. */
export class AuthEntryError extends Error {}

/**
 * The credential an entry holds. `auth` (base64 of `user:password`, split at
 * the first colon) wins over the legacy `username`/`password` fields, as in
 * oras-go. Go matches struct fields case-insensitively, so we do too.
 */
export function decodeAuthEntry(entry: unknown): RegistryCredential {
  if (entry === null) return {};
  if (typeof entry !== 'object' || Array.isArray(entry)) throw new AuthEntryError('the entry is not a JSON object');
  const field = (name: string): string | undefined => {
    let value: unknown;
    for (const [k, v] of Object.entries(entry)) if (k.toLowerCase() === name) value = v;
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new AuthEntryError(`its "${name}" field is not a string`);
    return value || undefined;
  };
  const cred: RegistryCredential = {
    username: field('username'),
    password: field('password'),
    identityToken: field('identitytoken'),
    registryToken: field('registrytoken'),
  };
  const auth = field('auth');
  if (auth !== undefined) Object.assign(cred, decodeBasicAuth(auth));
  return dropEmpty(cred);
}

function decodeBasicAuth(auth: string): { username: string; password: string } {
  // Go's StdEncoding is strict where Buffer.from is lenient: check first, so
  // a garbled entry is reported rather than read as some other password.
  if (auth.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(auth)) {
    throw new AuthEntryError('its "auth" field is not valid base64');
  }
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new AuthEntryError('its "auth" field is not base64 of user:password');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The entry's JSON text, fields in the order and with the omissions of oras-go's AuthConfig. */
export function encodeAuthEntry(cred: RegistryCredential): string {
  const fields: Array<[string, string | undefined]> = [
    ['auth', cred.username || cred.password ? Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`).toString('base64') : undefined],
    ['identitytoken', cred.identityToken],
    ['registrytoken', cred.registryToken],
  ];
  return compactMap(fields.filter(([, v]) => v).map(([key, v]) => ({ key, raw: encodeString(v!) })));
}

function dropEmpty(cred: RegistryCredential): RegistryCredential {
  const out: RegistryCredential = {};
  for (const [k, v] of Object.entries(cred) as Array<[keyof RegistryCredential, string | undefined]>) if (v) out[k] = v;
  return out;
}
