/**
 * A Docker-format registry config file (Helm's registry/config.json and
 * Docker's config.json share it): which helper serves a registry, the
 * `auths` entry for it, and rewriting the file the way oras-go (Helm 4) does.
 * Messages name the file, never its content.
 */
import { readFile } from 'node:fs/promises';
import { CredentialsError } from '../../errors.js';
import { AuthEntryError, decodeAuthEntry, encodeAuthEntry } from './auth-entry.js';
import { compactMap, marshalIndentMap, rawMembers, sortedAsGoMap, type RawMember } from './go-json.js';
import { matchingKeys } from './host.js';
import type { RegistryCredential } from './types.js';

export interface RegistryConfig {
  path: string;
  /** The file's text; '' when it does not exist. */
  text: string;
  credsStore?: string;
  credHelpers: Record<string, string>;
  auths: Record<string, unknown>;
}

export async function loadRegistryConfig(path: string): Promise<RegistryConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, text: '', credHelpers: {}, auths: {} };
    const why = code === 'EISDIR' ? ': it is a folder' : code === 'EACCES' ? ': permission denied' : code ? `: ${code}` : '';
    throw new CredentialsError(`cannot read registry config ${path}${why}`, { hint: 'make it a readable file, or remove it', cause: err });
  }
  // An empty file is an empty config to Docker and to oras-go since v2.6/v3.
  if (text.trim() === '') return { path, text, credHelpers: {}, auths: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // SyntaxError messages quote the text around the error: it may be a password.
    throw invalid(path, 'it is not valid JSON');
  }
  if (!isObject(parsed)) throw invalid(path, 'it is not a JSON object');
  const { credsStore, credHelpers = {}, auths = {} } = parsed;
  if (credsStore !== undefined && credsStore !== null && typeof credsStore !== 'string')
    throw invalid(path, '"credsStore" is not a string');
  if (!isStringMap(credHelpers ?? {})) throw invalid(path, '"credHelpers" is not an object of strings');
  if (!isObject(auths ?? {})) throw invalid(path, '"auths" is not an object');
  return {
    path,
    text,
    credsStore: credsStore || undefined,
    credHelpers: (credHelpers ?? {}) as Record<string, string>,
    auths: (auths ?? {}) as Record<string, unknown>,
  };
}

/** The helper that serves `key` in this file: its credHelpers entry, else credsStore, as in Docker and oras-go. */
export function helperFor(config: RegistryConfig, key: string): string | undefined {
  const [helperKey] = matchingKeys(Object.keys(config.credHelpers), key);
  return (helperKey !== undefined && config.credHelpers[helperKey]) || config.credsStore;
}

/** The credential the file's `auths` holds for `key`; undefined when none or empty. */
export function authFor(config: RegistryConfig, key: string): RegistryCredential | undefined {
  const [entryKey] = matchingKeys(Object.keys(config.auths), key);
  if (entryKey === undefined) return undefined;
  let cred: RegistryCredential;
  try {
    cred = decodeAuthEntry(config.auths[entryKey]);
  } catch (err) {
    if (!(err instanceof AuthEntryError)) throw err;
    throw invalid(config.path, `the "auths" entry for ${entryKey}: ${err.message}`);
  }
  return Object.keys(cred).length ? cred : undefined;
}

/** The file's new text with `auths[key]` set to `cred`, every other key and entry kept as it was. */
export function withAuth(config: RegistryConfig, key: string, cred: RegistryCredential): string {
  return rewriteAuths(config, (entries) => [...entries.filter((e) => e.key !== key), { key, raw: encodeAuthEntry(cred) }]);
}

/** The file's new text without the `auths` entries for `key`, or undefined when it has none. */
export function withoutAuth(config: RegistryConfig, key: string): string | undefined {
  const drop = new Set(matchingKeys(Object.keys(config.auths), key));
  if (drop.size === 0) return undefined;
  return rewriteAuths(config, (entries) => entries.filter((e) => !drop.has(e.key)));
}

function rewriteAuths(config: RegistryConfig, change: (entries: RawMember[]) => RawMember[]): string {
  const top = config.text.trim() === '' ? [] : rawMembers(config.text);
  const authsRaw = top.find((m) => m.key === 'auths')?.raw;
  const entries = authsRaw === undefined || authsRaw === 'null' ? [] : rawMembers(authsRaw);
  const auths: RawMember = { key: 'auths', raw: compactMap(sortedAsGoMap(change(entries))) };
  // No trailing newline: oras-go writes MarshalIndent's output as is.
  return marshalIndentMap([...top.filter((m) => m.key !== 'auths'), auths]);
}

function invalid(path: string, why: string): CredentialsError {
  return new CredentialsError(`invalid registry config ${path}: ${why}`, {
    hint: 'fix the file (it is JSON like {"auths":{"HOST":{"auth":"…"}}}), or move it away and log in again',
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): boolean {
  return isObject(v) && Object.values(v).every((s) => typeof s === 'string');
}
