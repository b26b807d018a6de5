/**
 * The repositories an audit covers: everything under `host/path`. Registries
 * differ in how they tell: Harbor's API lists a project's repositories to its
 * members (its catalog is for system admins), distribution has only the
 * catalog, and some registries refuse both. Tried in that order; when both
 * are refused, a path that names one repository is audited as that. Harbor's
 * API wants Basic credentials up front, so it is tried only on a registry
 * that answers as Harbor without them, and with them only over https or to
 * this machine.
 */
import { ChartNotFoundError, isChartprovError, RepositoryListRefusedError } from '../errors.js';
import { harborApiAuth, harborBasicAllowed, listCatalog, listHarborRepositories, probeHarbor, underPrefix } from '../oci/catalog.js';
import type { RegistryClient } from '../oci/client.js';

/** How the repositories were found. */
export type RepositoryListing = 'harbor-api' | 'catalog' | 'given';

export interface ListedRepositories {
  repositories: string[];
  listing: RepositoryListing;
  /** Why a listing that was tried did not answer (shown with --debug, kept in the report). */
  notes: string[];
}

export interface ListRepositoriesContext {
  client: RegistryClient;
  /**
   * Makes a client for Harbor's API, with its own auth state (not the
   * registry's bearer tokens): with the credentials (sent as Basic up front,
   * see harborApiAuth), or without any (`withCredentials` false: to ask
   * whether the registry is Harbor at all, or to list anonymously).
   */
  apiClient: (withCredentials: boolean) => Promise<RegistryClient>;
  registry: string;
  /** The path prefix: a project, a folder in it, or one repository. */
  path: string;
}

// Failures that say the registry cannot be reached at all: no other listing would do better.
const FATAL = new Set(['REGISTRY_UNREACHABLE', 'REGISTRY_TLS', 'CREDENTIALS_UNAVAILABLE']);

export async function listAuditRepositories(ctx: ListRepositoriesContext): Promise<ListedRepositories> {
  const notes: string[] = [];
  const where = `${ctx.registry}/${ctx.path}`;
  const project = ctx.path.split('/')[0]!;

  const harbor = await attempt(notes, 'Harbor API', async () => {
    // Is it Harbor? Asked without credentials: a password goes up front only to a registry that is.
    const anon = await ctx.apiClient(false);
    try {
      const probe = await probeHarbor(anon, ctx.registry);
      if (!probe.harbor) {
        notes.push(`Harbor API: ${probe.why}`);
        return undefined;
      }
      const base = anon.baseUrl(ctx.registry);
      if (!harborBasicAllowed(base)) {
        // Plain HTTP to another host: a public project still lists anonymously, else the catalog.
        notes.push(`Harbor API: credentials not sent over plain HTTP to ${base.host}; listing anonymously`);
        return await listHarborRepositories(anon, ctx.registry, project);
      }
    } finally {
      await anon.close();
    }
    const api = await ctx.apiClient(true);
    try {
      await harborApiAuth(api, ctx.registry);
      return await listHarborRepositories(api, ctx.registry, project);
    } finally {
      await api.close();
    }
  });
  if (harbor) return found(underPrefix(harbor, ctx.path), 'harbor-api', notes, where);
  if (harbor === undefined && !notes.some((n) => n.startsWith('Harbor API:'))) notes.push('Harbor API: not there (404)');

  const catalog = await attempt(notes, 'catalog', () => listCatalog(ctx.client, ctx.registry, { prefix: ctx.path }));
  if (catalog) return found(catalog, 'catalog', notes, where);

  // Neither listing answered: a path deeper than a project can still name one repository.
  if (ctx.path.includes('/')) return { repositories: [ctx.path], listing: 'given', notes };
  throw new RepositoryListRefusedError(`cannot list the repositories of ${where}: ${notes.join('; ')}`, {
    hint: `name the repositories one at a time (chartprov audit oci://${where}/NAME), or log in as a member of project ${project} (Harbor API) or as an admin (catalog)`,
  });
}

function found(repositories: string[], listing: RepositoryListing, notes: string[], where: string): ListedRepositories {
  if (repositories.length === 0)
    throw new ChartNotFoundError(`no repositories under ${where}`, {
      hint: 'check the path: oci://HOST/PROJECT lists a project, oci://HOST/PROJECT/NAME one repository',
    });
  return { repositories, listing, notes };
}

/** Runs one listing; a refusal becomes a note (undefined), a dead registry is thrown. */
async function attempt<T>(notes: string[], what: string, run: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (!isChartprovError(err) || FATAL.has(err.code)) throw err;
    notes.push(`${what}: ${err.code}: ${err.message}`);
    return undefined;
  }
}
