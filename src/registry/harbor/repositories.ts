/**
 * `/api/v2.0/projects/{p}/repositories[/{r}]` and `/api/v2.0/repositories`.
 *
 * A repository exists while it holds a manifest: the storage keeps the
 * folder of a repository whose manifests were all deleted, and a deleted
 * repository must neither be listed nor keep its project from being deleted.
 */
import type { ProjectRecord } from '../auth/model.js';
import type { RegistryStorage } from '../storage/index.js';
import { checkRepoName } from '../storage/names.js';
import type { ApiContext } from './api.js';
import type { ApiIdentity } from './identity.js';
import { badRequest, notFound, sendApiEmpty, sendApiJson } from './json.js';
import { pageHeaders, pageOf, pageRequest } from './pagination.js';
import { stableId } from './artifact-json.js';
import { RepositoryView } from './repository-view.js';

/** Names of the repositories of `project` that hold something, sorted; `all` saves a storage walk when given. */
export async function projectRepositories(storage: RegistryStorage, project: string, all?: readonly string[]): Promise<string[]> {
  const prefix = `${project}/`;
  const names = (all ?? (await storage.listRepositories())).filter((n) => n.startsWith(prefix));
  const live: string[] = [];
  for (const name of names) if ((await storage.listManifests(name)).length > 0) live.push(name);
  return live;
}

/** `{project}/{repository}` from the path, where the repository part may hold `/` (sent as %2F or %252F). */
export function fullRepositoryName(project: ProjectRecord, repository: string): string {
  const name = `${project.name}/${repository}`;
  try {
    return checkRepoName(name);
  } catch {
    throw badRequest(`invalid repository name ${JSON.stringify(repository.slice(0, 200))}`);
  }
}

/** The repository as Harbor's Repository JSON; creation and update times are not recorded by the storage. */
function repositoryJson(project: ProjectRecord, view: RepositoryView): Record<string, unknown> {
  return {
    id: stableId('repository', view.name),
    project_id: project.id,
    name: view.name,
    artifact_count: view.artifacts().length,
    pull_count: 0,
  };
}

export async function listRepositories(ctx: ApiContext, who: ApiIdentity, projectName: string): Promise<void> {
  const project = who.requireProject(projectName, 'read');
  const page = pageRequest(ctx.url);
  const names = await projectRepositories(ctx.storage, project.name);
  const items = [];
  for (const name of pageOf(names, page)) items.push(repositoryJson(project, await RepositoryView.load(ctx.storage, name)));
  sendApiJson(ctx.res, 200, items, pageHeaders(ctx.url, names.length, page));
}

/** `GET /api/v2.0/repositories`: every repository in a project the caller may read. */
export async function listAllRepositories(ctx: ApiContext, who: ApiIdentity): Promise<void> {
  const page = pageRequest(ctx.url);
  const all = await ctx.storage.listRepositories();
  const entries: { project: ProjectRecord; name: string }[] = [];
  for (const project of [...who.state.projects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!who.may(project, 'read')) continue;
    for (const name of await projectRepositories(ctx.storage, project.name, all)) entries.push({ project, name });
  }
  const items = [];
  for (const e of pageOf(entries, page)) items.push(repositoryJson(e.project, await RepositoryView.load(ctx.storage, e.name)));
  sendApiJson(ctx.res, 200, items, pageHeaders(ctx.url, entries.length, page));
}

export async function repositoryRoute(ctx: ApiContext, who: ApiIdentity, projectName: string, repository: string): Promise<void> {
  const deleting = ctx.req.method === 'DELETE';
  const project = who.requireProject(projectName, deleting ? 'delete' : 'read');
  const name = fullRepositoryName(project, repository);
  const view = await RepositoryView.load(ctx.storage, name);
  if (!view.exists) throw notFound(`repository ${name} not found`);
  if (!deleting) {
    sendApiJson(ctx.res, 200, repositoryJson(project, view));
    return;
  }
  // Referrers first: a crash midway leaves a chart without its signature, never a signature without its chart.
  const order = [...view.manifests.values()].sort((a, b) => Number(b.subject !== undefined) - Number(a.subject !== undefined));
  for (const m of order) await ctx.storage.deleteManifest(name, m.digest);
  for (const digest of await ctx.storage.listManifests(name)) await ctx.storage.deleteManifest(name, digest);
  for (const tag of await ctx.storage.listTags(name)) await ctx.storage.deleteTag(name, tag);
  sendApiEmpty(ctx.res, 200);
}
