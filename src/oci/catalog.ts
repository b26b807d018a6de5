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
const PAGE_BYTES = 16 * 1024 * 1024;
const CATALOG_PAGE = 1000;
const HARBOR_PAGE = 100;

/**
 * Every repository in the registry's catalog (optionally only those named
 * `prefix` or under `prefix/`), following the pages. Throws what the
 * registry said when it refuses (REGISTRY_DENIED, REGISTRY_LOGIN_REQUIRED…).
 */
export async function listCatalog(client: RegistryClient, registry: string, opts: { prefix?: string } = {}): Promise<string[]> {
  const base = client.baseUrl(registry);
  const names: string[] = [];
  let url: URL | undefined = new URL(`/v2/_catalog?n=${CATALOG_PAGE}`, base);
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const { res, bytes } = await getSmall(client, registry, {
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      scopes: ['registry:catalog:*'],
      what: `list the repositories of ${registry} (/v2/_catalog)`,
    });
    const body = parseJson(bytes, `catalog of ${registry}`) as { repositories?: unknown };
    const batch = Array.isArray(body.repositories) ? body.repositories.filter((r): r is string => typeof r === 'string') : [];
    names.push(...batch);
    const next = nextLink(res);
    if (next) url = new URL(next, url);
    // A registry that honours `n` but sends no Link: ask for what follows the last name, until a short page.
    else if (batch.length >= CATALOG_PAGE) url = new URL(`/v2/_catalog?n=${CATALOG_PAGE}&last=${encodeURIComponent(batch.at(-1)!)}`, base);
    else url = undefined;
    if (batch.length === 0) break;
  }
  return underPrefix(names, opts.prefix);
}

/**
 * The repositories of a Harbor project as `project/name` (also nested
 * names), every page; undefined when the registry has no Harbor API (404,
 * or an answer that is not Harbor's JSON). `api` must send Basic credentials
 * up front: see harborApiAuth.
 */
export async function listHarborRepositories(api: RegistryClient, registry: string, project: string): Promise<string[] | undefined> {
  const base = api.baseUrl(registry);
  const names: string[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
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
    const total = Number(header(res, 'x-total-count'));
    const more = nextLink(res) !== undefined || (Number.isFinite(total) ? names.length < total : batch.length >= HARBOR_PAGE);
    if (!more || batch.length === 0) break;
  }
  return [...new Set(names)];
}

/**
 * Makes `api` send the registry's Basic credentials before any challenge:
 * Harbor's API takes no registry token and sends no challenge of its own.
 * Use a client of its own for the API: the registry's `/v2/` routes may
 * want bearer tokens from the same host. Returns whether there were
 * credentials to send.
 */
export async function harborApiAuth(api: RegistryClient, registry: string): Promise<boolean> {
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
