/**
 * The subset of Harbor's v2.0 API that tools use around the chart flow
 * (api/v2.0/swagger.yaml in goharbor/harbor): ping, systeminfo, projects,
 * repositories, artifacts with their accessories. Paths, JSON field names,
 * status codes and the `{"errors":[{code,message}]}` body are Harbor's, so
 * scripts and clients written for Harbor work against the embedded registry.
 */
import { randomUUID } from 'node:crypto';
import type { AccessControl, Caller } from '../auth/control.js';
import type { RouteContext } from '../routes/context.js';
import { artifactRoute, listArtifacts } from './artifacts.js';
import { identify, identifyLeniently, type ApiIdentity } from './identity.js';
import { methodNotAllowed, notFound, sendApiError } from './json.js';
import { createProject, headProject, listProjects, projectDeletable, projectRoute } from './projects.js';
import { listAllRepositories, listRepositories, repositoryRoute } from './repositories.js';
import { pingRoute, systemInfoRoute } from './system.js';

export interface ApiContext extends RouteContext {
  access: AccessControl;
  caller: Caller;
}

const PREFIX = ['', 'api', 'v2.0'];
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export async function harborApiRoute(ctx: ApiContext): Promise<void> {
  const { req, res } = ctx;
  // Harbor echoes the caller's X-Request-Id (or makes one) on every answer, for support tickets and logs.
  const given = req.headers['x-request-id'];
  res.setHeader('X-Request-Id', typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID());
  // Only project creation reads a body; anything else sent is drained so the connection stays usable.
  if (req.method !== 'POST') req.resume();
  try {
    await dispatch(ctx);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!req.readableEnded) req.resume();
    sendApiError(res, err, req.method === 'HEAD');
  }
}

/** Path segments after /api/v2.0, each percent-decoded once; undefined for paths outside the API. */
function segmentsOf(pathname: string): string[] | undefined {
  const parts = pathname.split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length < PREFIX.length || PREFIX.some((p, i) => parts[i] !== p)) return undefined;
  try {
    return parts.slice(PREFIX.length).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/**
 * Harbor asks for a repository name with `/` encoded twice (a/b → a%252Fb);
 * clients that encode once (a%2Fb) are served too. No repository name holds
 * `%`, so a second decoding never changes a valid name.
 */
function repositoryParam(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function dispatch(ctx: ApiContext): Promise<void> {
  const method = ctx.req.method ?? 'GET';
  const path = segmentsOf(ctx.url.pathname);
  if (!path || path.length === 0) throw notFound(`path ${ctx.url.pathname} was not found`);
  const state = ctx.access.accounts.store.current();
  const who = (): ApiIdentity => identify(state, ctx.caller, ctx.req.headers.authorization);
  const allow = (...methods: string[]) => {
    if (!methods.includes(method)) throw methodNotAllowed(method, methods);
  };
  const [first, project, sub, repository, leaf, reference] = path;

  switch (first) {
    case 'ping':
      if (path.length !== 1) break;
      allow('GET');
      return pingRoute(ctx);
    case 'systeminfo':
      if (path.length !== 1) break;
      allow('GET');
      return systemInfoRoute(ctx, identifyLeniently(state, ctx.caller));
    case 'repositories':
      if (path.length !== 1) break;
      allow('GET');
      return listAllRepositories(ctx, who());
    case 'projects':
      if (path.length === 1) {
        allow('GET', 'HEAD', 'POST');
        if (method === 'POST') return createProject(ctx, who());
        return method === 'HEAD' ? headProject(ctx, who()) : listProjects(ctx, who());
      }
      if (path.length === 2) {
        allow('GET', 'DELETE');
        return projectRoute(ctx, who(), project!);
      }
      if (sub === '_deletable' && path.length === 3) {
        allow('GET');
        return projectDeletable(ctx, who(), project!);
      }
      if (sub !== 'repositories') break;
      if (path.length === 3) {
        allow('GET');
        return listRepositories(ctx, who(), project!);
      }
      if (path.length === 4) {
        allow('GET', 'DELETE');
        return repositoryRoute(ctx, who(), project!, repositoryParam(repository!));
      }
      if (leaf !== 'artifacts') break;
      if (path.length === 5) {
        allow('GET');
        return listArtifacts(ctx, who(), project!, repositoryParam(repository!));
      }
      if (path.length === 6) {
        allow('GET', 'DELETE');
        return artifactRoute(ctx, who(), project!, repositoryParam(repository!), reference!);
      }
      break;
  }
  throw notFound(`path ${ctx.url.pathname} was not found`);
}
