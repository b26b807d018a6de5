/**
 * Which repositories a registry holds: the distribution catalog
 * (`GET /v2/_catalog`, paginated with `n`/`last` and `Link`) and Harbor's
 * project API (`GET /api/v2.0/projects/{p}/repositories`). Registries differ
 * in which one they answer: distribution serves the catalog to anyone it lets
 * in, Harbor only to system admins, while its API lists a project's
 * repositories to every member.
 */
import { RegistryError } from '../errors.js';
import type { RegistryClient } from './client.js';
import { header, type RegistryRequest, type RegistryResponse } from './http.js';
import { readLimited } from './repository.js';

/** Pages followed before we call a listing endless (a broken `Link`). */
const MAX_PAGES = 10_000;
/** Names kept before we call a listing too large to audit in one run. */
export const MAX_REPOSITORIES = 100_000;
const PAGE_BYTES = 16 * 1024 * 1024;
const PROBE_BYTES = 1024 * 1024;
const CATALOG_PAGE = 1000;
const HARBOR_PAGE = 100;

/**
 * Every repository in the registry's catalog (optionally only those named
 * `prefix` or under `prefix/`), following the pages. Distribution sends the
 * names in lexical order and `last` says where to start: with a prefix the
 * listing starts just before it and stops at the first name past it, instead
 * of walking the whole registry. Throws what the registry said when it
 * refuses (REGISTRY_DENIED, REGISTRY_LOGIN_REQUIRED…), and REGISTRY_ERROR
 * beyond MAX_REPOSITORIES names or MAX_PAGES pages (never a silent part).
 */
export async function listCatalog(
  client: RegistryClient,
  registry: string,
  opts: { prefix?: string; maxNames?: number } = {},
): Promise<string[]> {
  const base = client.baseUrl(registry);
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '');
  const maxNames = opts.maxNames ?? MAX_REPOSITORIES;
  const names: string[] = [];
  // `last` is exclusive: start below the prefix itself, so that a repository named exactly `prefix` is listed.
  const start = prefix.slice(0, -1);
  let url: URL | undefined = new URL(`/v2/_catalog?n=${CATALOG_PAGE}${start ? `&last=${encodeURIComponent(start)}` : ''}`, base);
  let page = 0;
  for (; url && page < MAX_PAGES; page++) {
    const seeded = page === 0 && start !== '';
    const { res, bytes } = await getSmall(
      client,
      registry,
      {
        method: 'GET',
        url,
        headers: { accept: 'application/json' },
        scopes: ['registry:catalog:*'],
        // Harbor's catalog takes as `last` only a name it holds: then start from the top.
        ...(seeded ? { accept: [400] } : {}),
        what: `list the repositories of ${registry} (/v2/_catalog)`,
      },
      seeded,
    );
    if (!bytes) {
      url = new URL(`/v2/_catalog?n=${CATALOG_PAGE}`, base);
      continue;
    }
    const body = parseJson(bytes, `catalog of ${registry}`) as { repositories?: unknown };
    const batch = Array.isArray(body.repositories) ? body.repositories.filter((r): r is string => typeof r === 'string') : [];
    names.push(...underPrefix(batch, prefix));
    if (new Set(names).size > maxNames) throw tooMany(registry, prefix, maxNames);
    // Sorted as distribution sorts them, a name past every `prefix…` name ends the listing.
    if (prefix && isSorted(batch) && batch.some((n) => n > `${prefix}/` && !n.startsWith(`${prefix}/`))) {
      url = undefined;
      break;
    }
    const next = nextLink(res);
    if (next) url = new URL(next, url);
    // A registry that honours `n` but sends no Link: ask for what follows the last name, until a short page.
    else if (batch.length >= CATALOG_PAGE) url = new URL(`/v2/_catalog?n=${CATALOG_PAGE}&last=${encodeURIComponent(batch.at(-1)!)}`, base);
    else url = undefined;
    if (batch.length === 0) url = undefined;
  }
  if (url) throw endless(registry, 'catalog');
  return underPrefix(names, prefix);
}

function isSorted(batch: readonly string[]): boolean {
  return batch.every((n, i) => i === 0 || batch[i - 1]! < n);
}

function tooMany(registry: string, prefix: string, max: number): RegistryError {
  return new RegistryError(
    `more than ${max} repositories under ${registry}${prefix ? `/${prefix}` : ''}: too many to audit in one run; audit one project or folder at a time`,
  );
}

function endless(registry: string, what: string): RegistryError {
  return new RegistryError(`the ${what} of ${registry} did not end after ${MAX_PAGES} pages (a Link that loops?)`);
}

/**
 * The repositories of a Harbor project as `project/name` (also nested
 * names), every page; undefined when the registry has no Harbor API (404,
 * or an answer that is not Harbor's JSON). `api` must send Basic credentials
 * up front: see harborApiAuth.
 */
export async function listHarborRepositories(
  api: RegistryClient,
  registry: string,
  project: string,
  opts: { maxNames?: number } = {},
): Promise<string[] | undefined> {
  const base = api.baseUrl(registry);
  const maxNames = opts.maxNames ?? MAX_REPOSITORIES;
  const names: string[] = [];
  for (let page = 1; ; page++) {
    if (page > MAX_PAGES) throw endless(registry, `Harbor API listing of project ${project}`);
    const url = new URL(`/api/v2.0/projects/${encodeURIComponent(project)}/repositories?page=${page}&page_size=${HARBOR_PAGE}`, base);
    const { res, bytes } = await getSmall(
      api,
      registry,
      {
        method: 'GET',
        url,
        // Harbor reads a numeric {project_name_or_id} as an id unless told it is a name.
        headers: { accept: 'application/json', 'x-is-resource-name': 'true' },
        accept: [404, 405],
        what: `list the repositories of project ${project} on ${registry} (Harbor API)`,
      },
      true,
    );
    if (!bytes) return undefined;
    if (!/json/i.test(header(res, 'content-type') ?? '')) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(body)) return undefined;
    const batch = body
      .map((r) => (r && typeof r === 'object' ? (r as { name?: unknown }).name : undefined))
      .filter((n): n is string => typeof n === 'string');
    names.push(...batch);
    if (new Set(names).size > maxNames) throw tooMany(registry, project, maxNames);
    const total = Number(header(res, 'x-total-count'));
    const more = nextLink(res) !== undefined || (Number.isFinite(total) ? names.length < total : batch.length >= HARBOR_PAGE);
    if (!more || batch.length === 0) break;
  }
  return [...new Set(names)];
}

/** What `GET /api/v2.0/systeminfo`, asked without credentials, says about a registry. */
export type HarborProbe = { harbor: true; version?: string } | { harbor: false; why: string };

/**
 * Whether the registry answers as Harbor does, asked WITHOUT credentials:
 * `GET /api/v2.0/systeminfo` is open to anonymous callers and answers a JSON
 * object with `auth_mode` and `self_registration` (the login page needs
 * them), and in the releases that still show it, `harbor_version`. Pass a
 * client that has no credentials (`anon`): a 401 from a registry that is not
 * Harbor then gets nothing back either.
 */
export async function probeHarbor(anon: RegistryClient, registry: string): Promise<HarborProbe> {
  const url = new URL('/api/v2.0/systeminfo', anon.baseUrl(registry));
  const res = await anon.http.send({
    method: 'GET',
    url,
    registry,
    registryOrigin: url.origin,
    headers: { accept: 'application/json' },
    accept: [401, 403, 404, 405],
    what: `ask ${registry} whether it is Harbor (/api/v2.0/systeminfo)`,
  });
  if (res.status !== 200) {
    await res.body.dump();
    return { harbor: false, why: `no Harbor API (/api/v2.0/systeminfo answered ${res.status})` };
  }
  const bytes = await readLimited(res.body, PROBE_BYTES, `read ${registry}'s /api/v2.0/systeminfo`, registry);
  let body: unknown;
  try {
    body = /json/i.test(header(res, 'content-type') ?? '') ? JSON.parse(bytes.toString('utf8')) : undefined;
  } catch {
    body = undefined;
  }
  const info = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const version = typeof info?.harbor_version === 'string' ? info.harbor_version : undefined;
  if (info && (version !== undefined || (typeof info.auth_mode === 'string' && typeof info.self_registration === 'boolean')))
    return { harbor: true, ...(version ? { version } : {}) };
  return { harbor: false, why: "no Harbor API (/api/v2.0/systeminfo is not Harbor's answer)" };
}

/**
 * Whether Basic credentials may be sent up front to `base` (a registry's
 * base URL): over https, or over plain HTTP to this machine only (127.0.0.0/8,
 * ::1, localhost). Anywhere else a password in clear text crosses the network.
 */
export function harborBasicAllowed(base: URL): boolean {
  if (base.protocol === 'https:') return true;
  const host = base.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Makes `api` send the registry's Basic credentials before any challenge:
 * Harbor's API takes no registry token and sends no challenge of its own.
 * Only for a registry known to be Harbor (probeHarbor), and never over plain
 * HTTP to another host (harborBasicAllowed): then nothing is armed. Use a
 * client of its own for the API: the registry's `/v2/` routes may want
 * bearer tokens from the same host. Returns whether credentials will be sent.
 */
export async function harborApiAuth(api: RegistryClient, registry: string): Promise<boolean> {
  if (!harborBasicAllowed(api.baseUrl(registry))) return false;
  return (await api.http.auth.answer(registry, { scheme: 'basic', params: {} }, [])) !== undefined;
}

/** Names equal to `prefix` or below `prefix/`; all of them without a prefix. */
export function underPrefix(names: readonly string[], prefix: string | undefined): string[] {
  const p = (prefix ?? '').replace(/\/+$/, '');
  const kept = p === '' ? names : names.filter((n) => n === p || n.startsWith(`${p}/`));
  return [...new Set(kept)].sort();
}

async function getSmall(
  client: RegistryClient,
  registry: string,
  req: Omit<RegistryRequest, 'registry' | 'registryOrigin'>,
  allowMissing = false,
): Promise<{ res: RegistryResponse; bytes?: Buffer }> {
  const res = await client.http.send({ ...req, registry, registryOrigin: client.baseUrl(registry).origin });
  if (res.status >= 400) {
    await res.body.dump();
    if (allowMissing) return { res };
    throw new RegistryError(`${req.what}: the registry answered ${res.status}`, res.status);
  }
  return { res, bytes: await readLimited(res.body, PAGE_BYTES, req.what, registry) };
}

function parseJson(bytes: Buffer | undefined, what: string): unknown {
  try {
    return JSON.parse((bytes ?? Buffer.alloc(0)).toString('utf8'));
  } catch (err) {
    throw new RegistryError(`${what} is not valid JSON`, undefined, { cause: err });
  }
}

function nextLink(res: RegistryResponse): string | undefined {
  // Harbor joins prev and next with " , "; distribution sends next alone.
  for (const part of (header(res, 'link') ?? '').split(/\s*,\s*(?=<)/)) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1];
  }
  return undefined;
}
