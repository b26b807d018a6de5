/**
 * Settings of `chartprov serve`: built-in defaults, then the YAML file of
 * `--config`, then flags. Every value is checked here, before anything
 * starts, and a bad one is a ServeConfigError naming the setting (the file
 * key, or the flag) — a registry that starts with half its configuration
 * ignored is worse than one that does not start.
 */
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { ServeConfigError } from '../errors.js';
import { readSmallFile } from '../fs/read-file.js';

/** Where and how the embedded registry runs, every value checked. */
export interface ServeSettings {
  /** Interface to bind: `127.0.0.1` by default (loopback only). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Absolute path of the registry's data folder. */
  dataDir: string;
  /** PEM files: serve HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** The URL clients reach the registry at, when a proxy sits in front. */
  externalUrl?: string;
  /** Token `service`, `issuer` and lifetime. */
  tokens: { service?: string; issuer?: string; ttlSeconds?: number };
  limits: { maxBlobBytes?: number; maxManifestBytes?: number };
  /** One line per request on the log (default true). */
  logRequests: boolean;
  /** Public keyring the web UI verifies chart signatures against (absolute path). */
  keyring?: string;
}

/** The flags of `chartprov serve`, as typed (strings, unparsed). */
export interface ServeFlags {
  /** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces). */
  addr?: string;
  data?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** YAML file with the settings below; flags win over it. */
  config?: string;
  externalUrl?: string;
  /** `512MiB`, `2GB`, or bytes. */
  maxBlobSize?: string;
  /** Public keyring for the web UI's signature checks. */
  keyring?: string;
}

export const DEFAULT_SERVE_ADDR = '127.0.0.1:5000';

/** The settings of a config file, each relative path already resolved against the file's folder. */
export interface ServeFileSettings {
  addr?: string;
  data?: string;
  tls?: { cert?: string; key?: string };
  externalUrl?: string;
  tokens: ServeSettings['tokens'];
  limits: ServeSettings['limits'];
  logRequests?: boolean;
  keyring?: string;
}

/**
 * `$XDG_DATA_HOME/chartprov/registry`, else `~/.local/share/chartprov/registry`
 * (a relative XDG_DATA_HOME is ignored, as the XDG spec says).
 */
export function defaultRegistryDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'chartprov', 'registry');
}

/** Combines defaults, the `--config` file and flags into checked settings. */
export async function resolveServeSettings(opts: { flags?: ServeFlags; env?: NodeJS.ProcessEnv } = {}): Promise<ServeSettings> {
  const flags = opts.flags ?? {};
  const file: ServeFileSettings = flags.config ? await loadServeConfig(flags.config) : { tokens: {}, limits: {} };
  const { host, port } = flags.addr !== undefined ? parseAddr(flags.addr, '--addr') : parseAddr(file.addr ?? DEFAULT_SERVE_ADDR, 'addr');
  const cert = flags.tlsCert !== undefined ? resolve(flags.tlsCert) : file.tls?.cert;
  const key = flags.tlsKey !== undefined ? resolve(flags.tlsKey) : file.tls?.key;
  if ((cert === undefined) !== (key === undefined))
    throw new ServeConfigError(`TLS needs both a certificate and a key; only the ${cert === undefined ? 'key' : 'certificate'} was given`, {
      hint: 'give both --tls-cert FILE and --tls-key FILE (or tls.cert and tls.key in the config file)',
    });
  const externalUrl = flags.externalUrl !== undefined ? checkExternalUrl(flags.externalUrl, '--external-url') : file.externalUrl;
  const maxBlobBytes = flags.maxBlobSize !== undefined ? parseSize(flags.maxBlobSize, '--max-blob-size') : file.limits.maxBlobBytes;
  const keyring = flags.keyring !== undefined ? resolve(flags.keyring) : file.keyring;
  return {
    host,
    port,
    dataDir: flags.data !== undefined ? resolve(flags.data) : (file.data ?? defaultRegistryDataDir(opts.env)),
    ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
    ...(externalUrl !== undefined ? { externalUrl } : {}),
    tokens: file.tokens,
    limits: {
      ...(maxBlobBytes !== undefined ? { maxBlobBytes } : {}),
      ...(file.limits.maxManifestBytes !== undefined ? { maxManifestBytes: file.limits.maxManifestBytes } : {}),
    },
    logRequests: file.logRequests ?? true,
    ...(keyring !== undefined ? { keyring } : {}),
  };
}

/** Warnings worth a line before the registry starts: plain HTTP reachable from other hosts. */
export function serveWarnings(settings: ServeSettings): string[] {
  if (settings.tls || isLoopbackHost(settings.host)) return [];
  return [
    `serving plain HTTP on ${settings.host}, reachable from other hosts: passwords and tokens cross the network in clear text; ` +
      'use --tls-cert/--tls-key, or a TLS proxy in front (with --external-url https://…)',
  ];
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return /^::ffff:127\./.test(h);
}

// ---- the config file

type Node = Record<string, unknown>;

const KEYS: Record<string, readonly string[]> = {
  '': ['addr', 'data', 'tls', 'external_url', 'auth', 'limits', 'log', 'keyring'],
  tls: ['cert', 'key'],
  auth: ['service', 'issuer', 'token_ttl'],
  limits: ['max_blob_size', 'max_manifest_size'],
  log: ['requests'],
};

/**
 * Reads and checks a `chartprov serve` YAML config file. Unknown keys, wrong
 * types and bad values are ServeConfigErrors naming the key (`tls.cert`);
 * relative paths are taken from the file's folder.
 */
export async function loadServeConfig(file: string): Promise<ServeFileSettings> {
  const text = (await readSmallFile(file, { what: 'serve config file', maxBytes: 1 << 20 })).toString('utf8');
  return parseServeConfig(text, { file, baseDir: dirname(resolve(file)) });
}

/** The pure part of loadServeConfig: text in, checked settings out. */
export function parseServeConfig(text: string, opts: { file?: string; baseDir?: string } = {}): ServeFileSettings {
  const where = opts.file ? ` in ${opts.file}` : '';
  const baseDir = opts.baseDir ?? process.cwd();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = ` (line ${text.slice(0, e.pos[0]).split('\n').length})`;
    throw new ServeConfigError(`the serve config${where} is not valid YAML${line}: ${e.message}`, { cause: e });
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (cause) {
    // Unresolved aliases and alias bombs surface here, not in doc.errors.
    throw new ServeConfigError(`the serve config${where} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const bad = (key: string, what: string) => new ServeConfigError(`${key}${where}: ${what}`);
  const section = (value: unknown, path: string): Node => {
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw bad(path || 'the file', 'must be a mapping of settings');
    const known = KEYS[path]!;
    for (const k of Object.keys(value))
      if (!known.includes(k))
        throw new ServeConfigError(`unknown setting ${path ? `${path}.` : ''}${k}${where}`, {
          hint: `known settings${path ? ` under ${path}` : ''}: ${known.join(', ')}`,
        });
    return value as Node;
  };
  const str = (node: Node, key: string, path: string): string | undefined => {
    const v = node[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') throw bad(path, `must be a non-empty string, not ${describe(v)}`);
    return v;
  };
  const top = section(root, '');
  const tls = section(top.tls, 'tls');
  const auth = section(top.auth, 'auth');
  const limits = section(top.limits, 'limits');
  const log = section(top.log, 'log');

  const addr = str(top, 'addr', 'addr');
  if (addr !== undefined) parseAddr(addr, `addr${where}`);
  const data = str(top, 'data', 'data');
  const cert = str(tls, 'cert', 'tls.cert');
  const key = str(tls, 'key', 'tls.key');
  const externalUrl = str(top, 'external_url', 'external_url');
  const keyring = str(top, 'keyring', 'keyring');
  const service = str(auth, 'service', 'auth.service');
  const issuer = str(auth, 'issuer', 'auth.issuer');
  const ttl = auth.token_ttl;
  const size = (value: unknown, path: string): number | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') throw bad(path, `must be a size such as 512MiB, not ${describe(value)}`);
    return parseSize(value, `${path}${where}`);
  };
  const maxBlobBytes = size(limits.max_blob_size, 'limits.max_blob_size');
  const maxManifestBytes = size(limits.max_manifest_size, 'limits.max_manifest_size');
  let logRequests: boolean | undefined;
  if (log.requests !== undefined && log.requests !== null) {
    if (typeof log.requests !== 'boolean') throw bad('log.requests', `must be true or false, not ${describe(log.requests)}`);
    logRequests = log.requests;
  }
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  return {
    ...(addr !== undefined ? { addr } : {}),
    ...(data !== undefined ? { data: path(data)! } : {}),
    ...(cert !== undefined || key !== undefined
      ? { tls: { ...(cert ? { cert: path(cert)! } : {}), ...(key ? { key: path(key)! } : {}) } }
      : {}),
    ...(externalUrl !== undefined ? { externalUrl: checkExternalUrl(externalUrl, `external_url${where}`) } : {}),
    tokens: {
      ...(service !== undefined ? { service } : {}),
      ...(issuer !== undefined ? { issuer } : {}),
      ...(ttl !== undefined && ttl !== null ? { ttlSeconds: parseDuration(ttl, `auth.token_ttl${where}`) } : {}),
    },
    limits: {
      ...(maxBlobBytes !== undefined ? { maxBlobBytes } : {}),
      ...(maxManifestBytes !== undefined ? { maxManifestBytes } : {}),
    },
    ...(logRequests !== undefined ? { logRequests } : {}),
    ...(keyring !== undefined ? { keyring: path(keyring)! } : {}),
  };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

// ---- values

/** `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` for every interface; `name` says where the value came from. */
export function parseAddr(addr: string, name = 'addr'): { host: string; port: number } {
  const bad = (why: string) =>
    new ServeConfigError(`${name}: ${JSON.stringify(addr)} ${why}`, {
      hint: 'write it as HOST:PORT, e.g. 127.0.0.1:5000, [::1]:5000 or :5000 (all interfaces)',
    });
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(addr.trim());
  if (!m) throw bad('is not HOST:PORT');
  const port = Number(m[3]);
  if (port > 65535) throw bad('has a port above 65535');
  const v6 = m[1];
  if (v6 !== undefined) {
    if (isIP(v6) !== 6) throw bad('has an invalid IPv6 address');
    return { host: v6, port };
  }
  const host = m[2]!;
  if (host === '') return { host: '0.0.0.0', port };
  if (isIP(host) !== 4 && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/.test(host))
    throw bad('has an invalid host');
  return { host, port };
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * `512MiB` (powers of 1024), `2GB` (powers of 1000), `1048576` (bytes);
 * units are case-insensitive, a fraction is allowed (`1.5GiB`). Bare `M`
 * or `G` is refused: it means MB to some tools and MiB to others.
 */
export function parseSize(value: string | number, name = 'size'): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new ServeConfigError(`${name}: ${JSON.stringify(value)} is not a size`, {
      hint: 'write a positive number of bytes, or one with a unit: KB, MB, GB, TB (1000s) or KiB, MiB, GiB, TiB (1024s), e.g. 512MiB',
    });
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `1800` (seconds), `30m`, `1h30m`, `90s`, `1d` → seconds. */
export function parseDuration(value: unknown, name = 'duration'): number {
  const bad = () =>
    new ServeConfigError(`${name}: ${JSON.stringify(value)} is not a duration`, {
      hint: 'write seconds (1800) or a duration such as 30m, 1h or 1h30m',
    });
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value <= 0) throw bad();
    return value;
  }
  if (typeof value !== 'string') throw bad();
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseDuration(Number(text), name);
  if (!/^(?:\d+[smhd])+$/.test(text)) throw bad();
  let seconds = 0;
  for (const [, n, u] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(n) * DURATION_UNITS[u!]!;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw bad();
  return seconds;
}

function checkExternalUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password)
    throw new ServeConfigError(`${name}: ${JSON.stringify(value)} is not an http(s) URL`, {
      hint: 'give the base URL clients use, e.g. https://registry.example.com (no query, no credentials)',
    });
  return value.replace(/\/+$/, '');
}

/**
 * The initial admin's password: the first line of `file` (`-` for stdin),
 * else `CHARTPROV_ADMIN_PASSWORD`, else undefined (the server generates one).
 */
export async function readAdminPassword(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: () => Promise<string>;
}): Promise<string | undefined> {
  if (opts.file !== undefined) {
    const text =
      opts.file === '-' && opts.stdin
        ? await opts.stdin()
        : (await readSmallFile(opts.file, { what: 'admin password file', maxBytes: 64 * 1024, allowStreams: true })).toString('utf8');
    const line = text.split(/\r?\n/, 1)[0] ?? '';
    if (line === '')
      throw new ServeConfigError(`the admin password file ${opts.file} is empty`, { hint: 'put the password on its first line' });
    return line;
  }
  const env = (opts.env ?? process.env).CHARTPROV_ADMIN_PASSWORD;
  return env === undefined || env === '' ? undefined : env;
}
