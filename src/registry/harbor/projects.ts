/**
 * `/api/v2.0/projects`: list, HEAD by name, create; and
 * `/api/v2.0/projects/{name_or_id}`: get, delete, `_deletable`.
 *
 * Creating a project is for system admins here (Harbor's "adminonly"
 * creation restriction); the creator becomes its project admin and owner,
 * as in Harbor.
 */
import { AccountExistsError, AccountNameInvalidError, AccountNotFoundError, ProjectNotEmptyError } from '../../errors.js';
import { ROLE_IDS, type ProjectRecord } from '../auth/model.js';
import { checkProjectName } from '../auth/names.js';
import type { ApiContext } from './api.js';
import type { ApiIdentity } from './identity.js';
import {
  badRequest,
  boolParam,
  conflict,
  forbidden,
  notFound,
  precondition,
  readJsonObject,
  sendApiEmpty,
  sendApiJson,
  unauthorized,
  unprocessable,
} from './json.js';
import { pageHeaders, pageOf, pageRequest } from './pagination.js';
import { projectRepositories } from './repositories.js';

const NOT_EMPTY = 'the project contains repositories, can not be deleted';

/** `X-Is-Resource-Name: true`: the path segment is a name even if it looks like an id. */
export function isResourceName(ctx: ApiContext): boolean {
  const header = ctx.req.headers['x-is-resource-name'];
  return boolParam(Array.isArray(header) ? header[0] : header, 'X-Is-Resource-Name', false);
}

function projectJson(who: ApiIdentity, project: ProjectRecord, repoCount: number): Record<string, unknown> {
  // Harbor's owner is the creator; ours is recorded as the first project admin, which createProject makes the creator.
  const ownerName = project.members.find((m) => m.role === 'projectAdmin')?.user;
  const owner = ownerName === undefined ? undefined : who.state.users.find((u) => u.name === ownerName);
  const role = who.roleIn(project);
  return {
    project_id: project.id,
    ...(owner ? { owner_id: owner.id, owner_name: owner.name } : {}),
    name: project.name,
    creation_time: project.createdAt,
    update_time: project.updatedAt,
    ...(role ? { current_user_role_id: ROLE_IDS[role], current_user_role_ids: [ROLE_IDS[role]] } : {}),
    repo_count: repoCount,
    metadata: { public: String(project.public) },
  };
}

export async function listProjects(ctx: ApiContext, who: ApiIdentity): Promise<void> {
  const { url } = ctx;
  const page = pageRequest(url);
  const name = url.searchParams.get('name') ?? '';
  const owner = url.searchParams.get('owner') ?? '';
  const isPublic = boolParam(url.searchParams.get('public'), 'public');
  const matches = who.state.projects
    .filter((p) => who.sees(p))
    .filter((p) => name === '' || p.name.includes(name))
    .filter((p) => isPublic === undefined || p.public === isPublic)
    .filter((p) => owner === '' || p.members.find((m) => m.role === 'projectAdmin')?.user === owner)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const all = matches.length > 0 ? await ctx.storage.listRepositories() : [];
  const items = [];
  for (const p of pageOf(matches, page)) items.push(projectJson(who, p, (await projectRepositories(ctx.storage, p.name, all)).length));
  sendApiJson(ctx.res, 200, items, pageHeaders(url, matches.length, page));
}

/** `HEAD /api/v2.0/projects?project_name=x`: 200 or 404, for tools that create a project unless it exists. */
export async function headProject(ctx: ApiContext, who: ApiIdentity): Promise<void> {
  const name = ctx.url.searchParams.get('project_name');
  if (!name) throw unprocessable('project_name in query is required');
  who.requireProject(name, 'see');
  sendApiEmpty(ctx.res, 200);
}

export async function createProject(ctx: ApiContext, who: ApiIdentity): Promise<void> {
  if (who.anonymous) throw unauthorized();
  if (!who.systemAdmin)
    throw forbidden(who.principal.kind === 'robot' ? 'Only system level robot can create project' : 'Only system admin can create project');
  const body = await readJsonObject(ctx.req);
  const { name, isPublic } = projectRequest(body);
  const owner = who.principal.kind === 'user' ? who.principal.name : undefined;
  let project: ProjectRecord;
  try {
    project = await ctx.access.accounts.createProject({ name, public: isPublic, ...(owner ? { owner } : {}) });
  } catch (err) {
    if (err instanceof AccountExistsError) throw conflict(`The project named ${name} already exists`);
    throw err;
  }
  const byName = boolParam(headerValue(ctx, 'x-resource-name-in-location'), 'X-Resource-Name-In-Location', false);
  const base = ctx.url.pathname.replace(/\/+$/, '');
  sendApiEmpty(ctx.res, 201, { Location: `${base}/${byName ? project.name : project.id}` });
}

function headerValue(ctx: ApiContext, name: string): string | undefined {
  const value = ctx.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Harbor's ProjectReq: `project_name`, `metadata.public` ("true"/"false"), or the deprecated boolean `public`. */
function projectRequest(body: Record<string, unknown>): { name: string; isPublic: boolean } {
  const name = body.project_name;
  if (typeof name !== 'string') throw badRequest('project_name is required');
  try {
    checkProjectName(name);
  } catch (err) {
    if (err instanceof AccountNameInvalidError) throw badRequest('project name is not in lower case or contains illegal characters');
    throw err;
  }
  if (body.registry_id !== undefined && body.registry_id !== null)
    throw badRequest('proxy cache projects are not supported by this registry');
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
    throw unprocessable('metadata must be an object');
  let flag = (metadata as Record<string, unknown> | null | undefined)?.public;
  if (flag !== undefined && typeof flag !== 'string') throw unprocessable('metadata.public must be of type string');
  if (body.public !== undefined && body.public !== null && typeof body.public !== 'boolean')
    throw unprocessable('public must be of type boolean');
  // The old boolean counts only when metadata says nothing (Harbor keeps it for replication from old versions).
  if ((flag === undefined || flag === '') && typeof body.public === 'boolean') flag = String(body.public);
  if (flag === undefined || flag === '') flag = 'false';
  if (flag !== 'true' && flag !== 'false')
    throw badRequest(`metadata.public should only be 'true' or 'false', but got: '${String(flag).slice(0, 50)}'`);
  return { name, isPublic: flag === 'true' };
}

export async function projectRoute(ctx: ApiContext, who: ApiIdentity, nameOrId: string): Promise<void> {
  const isName = isResourceName(ctx);
  if (ctx.req.method === 'DELETE') {
    const project = who.requireProject(nameOrId, 'deleteProject', isName);
    if ((await projectRepositories(ctx.storage, project.name)).length > 0) throw precondition(NOT_EMPTY);
    try {
      await ctx.access.accounts.deleteProject(project.name, { repositories: 0 });
    } catch (err) {
      if (err instanceof AccountNotFoundError) throw notFound(`project ${nameOrId} not found`);
      if (err instanceof ProjectNotEmptyError) throw precondition(NOT_EMPTY);
      throw err;
    }
    sendApiEmpty(ctx.res, 200);
    return;
  }
  const project = who.requireProject(nameOrId, 'see', isName);
  sendApiJson(ctx.res, 200, projectJson(who, project, (await projectRepositories(ctx.storage, project.name)).length));
}

/** `GET /api/v2.0/projects/{name_or_id}/_deletable`. */
export async function projectDeletable(ctx: ApiContext, who: ApiIdentity, nameOrId: string): Promise<void> {
  const project = who.requireProject(nameOrId, 'deleteProject', isResourceName(ctx));
  const empty = (await projectRepositories(ctx.storage, project.name)).length === 0;
  sendApiJson(ctx.res, 200, empty ? { deletable: true } : { deletable: false, message: NOT_EMPTY });
}
