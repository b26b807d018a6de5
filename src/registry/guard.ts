/**
 * Access checks in front of the distribution routes, answering as Harbor
 * and distribution do so that docker, Helm, oras and skopeo run their usual
 * challenge → token → retry dance: 401 with a Bearer challenge naming the
 * scope, `insufficient_scope` for a token without it.
 */
import type { IncomingMessage } from 'node:http';
import { projectOf } from './auth/access.js';
import type { AccessControl, Caller } from './auth/control.js';
import type { RegistryAction } from './auth/model.js';
import { HttpError } from './routes/errors.js';

export type RegistryRequest =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'repository'; repository: string; action: RegistryAction };

/** Returns the caller when the request may go on; throws the HttpError to answer otherwise. */
export async function authorize(access: AccessControl, req: IncomingMessage, request: RegistryRequest, realm: string): Promise<Caller> {
  const caller = await access.caller(req);
  if (caller.kind === 'limited')
    throw new HttpError(429, 'TOOMANYREQUESTS', 'too many failed logins; try again later', undefined, { 'Retry-After': String(caller.retryAfter) });
  const challenge = (scope?: string, error?: string) => {
    const parts = [`realm="${realm}"`, `service="${access.settings.service}"`];
    if (scope) parts.push(`scope="${scope}"`);
    if (error) parts.push(`error="${error}"`);
    return { 'WWW-Authenticate': `Bearer ${parts.join(',')}` };
  };
  switch (request.kind) {
    case 'base':
      // Anonymous callers are challenged here: it is how `registry login` checks credentials.
      if (caller.kind === 'token' || caller.kind === 'basic') return caller;
      throw new HttpError(401, 'UNAUTHORIZED', caller.kind === 'invalid' ? caller.reason : 'authentication required', undefined, challenge());
    case 'catalog':
      if (access.permitsCatalog(caller)) return caller;
      throw new HttpError(401, 'UNAUTHORIZED', 'the catalog is for system admins', undefined, challenge('registry:catalog:*', caller.kind === 'token' ? 'insufficient_scope' : undefined));
  }
  const { repository, action } = request;
  if (access.permits(caller, repository, action)) return caller;
  const scope = `repository:${repository}:${action === 'push' ? 'pull,push' : action}`;
  if (caller.kind === 'invalid') {
    const badToken = req.headers.authorization?.toLowerCase().startsWith('bearer') === true;
    throw new HttpError(401, 'UNAUTHORIZED', caller.reason, undefined, challenge(scope, badToken ? 'invalid_token' : undefined));
  }
  const principal = access.principalOf(caller);
  const project = projectOf(repository);
  // Only someone who logged in learns that a project does not exist (Harbor does the same).
  if (principal && (project === undefined || !access.accounts.getProject(project))) {
    const detail = { project: project ?? null, repository };
    if (project === undefined)
      throw new HttpError(404, 'NAME_UNKNOWN', `repository ${repository} is not in a project: use <project>/${repository}`, detail);
    throw new HttpError(404, 'NAME_UNKNOWN', `project ${project} not found: create it first (chartprov serve project create ${project}, or in Harbor's UI)`, detail);
  }
  const message = `unauthorized to access repository: ${repository}, action: ${action}`;
  if (caller.kind === 'basic') throw new HttpError(403, 'DENIED', message);
  throw new HttpError(401, 'UNAUTHORIZED', message, undefined, challenge(scope, caller.kind === 'token' ? 'insufficient_scope' : undefined));
}
