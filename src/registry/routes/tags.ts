/** `GET /v2/<name>/tags/list` and `GET /v2/_catalog`, paginated with `n`/`last` and a `Link` header. */
import { HttpError } from './errors.js';
import { paginate, sendJson, type RouteContext } from './context.js';
import { methodNotAllowed } from './blobs.js';

function linkHeader(path: string, next: { n: number; last: string } | undefined): Record<string, string> {
  if (!next) return {};
  const q = new URLSearchParams({ n: String(next.n), last: next.last });
  return { Link: `<${path}?${q.toString()}>; rel="next"` };
}

export async function tagsRoute(ctx: RouteContext, name: string): Promise<void> {
  const { req, res, url, storage } = ctx;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET, HEAD');
  const tags = await storage.listTags(name);
  if (tags.length === 0 && (await storage.listManifests(name)).length === 0)
    throw new HttpError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name });
  const { page, next } = paginate(tags, url);
  sendJson(res, 200, { name, tags: page }, linkHeader(`/v2/${name}/tags/list`, next), req.method === 'HEAD');
}

export async function catalogRoute(ctx: RouteContext): Promise<void> {
  const { req, res, url, storage } = ctx;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET, HEAD');
  const { page, next } = paginate(await storage.listRepositories(), url);
  sendJson(res, 200, { repositories: page }, linkHeader('/v2/_catalog', next), req.method === 'HEAD');
}
