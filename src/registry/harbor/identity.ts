/**
 * Who calls the API and what they may do with a project, by Harbor's rules:
 * Basic credentials of a user or robot, or nobody. Registry bearer tokens
 * are not API credentials (Harbor only reads them under /v2), so they count
 * as anonymous, as do unknown schemes; only a wrong Basic password is
 * refused outright, so a client learns its credentials are wrong instead of
 * silently seeing the anonymous view.
 *
 * A project the caller may not see answers exactly like one that does not
 * exist (401 to anonymous callers, 404 to others), so names of private
 * projects do not leak.
 */
import { allowedActions, isSystemAdmin } from '../auth/access.js';
import type { Caller } from '../auth/control.js';
import { ANONYMOUS, type AccountsState, type Principal, type ProjectRecord, type ProjectRole, type RegistryAction } from '../auth/model.js';
import { HttpError } from '../routes/errors.js';
import { forbidden, notFound, unauthorized } from './json.js';

/** `see`: the project itself; `read`: its repositories and artifacts; `delete`: those; `deleteProject`: the project. */
export type ProjectNeed = 'see' | 'read' | 'delete' | 'deleteProject';

const DENIED_WHAT: Record<ProjectNeed, (project: string) => string> = {
  see: (p) => `see project ${p}`,
  read: (p) => `read the repositories of project ${p}`,
  delete: (p) => `delete repositories or artifacts of project ${p}`,
  deleteProject: (p) => `delete project ${p} (project admins and system admins may)`,
};

export class ApiIdentity {
  constructor(
    readonly state: AccountsState,
    readonly principal: Principal,
  ) {}

  get anonymous(): boolean {
    return this.principal.kind === 'anonymous';
  }

  get systemAdmin(): boolean {
    return isSystemAdmin(this.state, this.principal);
  }

  /** Registry actions on the project's repositories; a synthetic repository name asks access.ts about the project as a whole. */
  actions(project: ProjectRecord): Set<RegistryAction> {
    return allowedActions(this.state, this.principal, `${project.name}/_`);
  }

  /** Public, a member, a robot with a permission there, or a system admin: Harbor's list of "my projects". */
  sees(project: ProjectRecord): boolean {
    return this.actions(project).size > 0;
  }

  roleIn(project: ProjectRecord): ProjectRole | undefined {
    if (this.principal.kind !== 'user') return undefined;
    const name = this.principal.name;
    return project.members.find((m) => m.user === name)?.role;
  }

  may(project: ProjectRecord, need: ProjectNeed): boolean {
    switch (need) {
      case 'see':
        return this.sees(project);
      case 'read':
        return this.actions(project).has('pull');
      case 'delete':
        return this.actions(project).has('delete');
      case 'deleteProject':
        // Harbor lets only project admins delete the project itself; maintainers may delete its content.
        return this.systemAdmin || this.roleIn(project) === 'projectAdmin';
    }
  }

  /** The answer to a caller who sees the project but may not do `what`: 401 when anonymous (log in and retry), else 403. */
  denied(what: string): HttpError {
    return this.anonymous ? unauthorized() : forbidden(`you are not allowed to ${what}`);
  }

  /** What to answer about a project this caller cannot see or that does not exist. */
  unknownProject(name: string): HttpError {
    return this.anonymous ? unauthorized() : notFound(`project ${name} not found`);
  }

  findProject(nameOrId: string, isName: boolean): ProjectRecord | undefined {
    // Harbor's parseProjectNameOrID: an integer is an id unless X-Is-Resource-Name says otherwise.
    if (!isName && /^[+-]?\d+$/.test(nameOrId)) {
      const id = Number(nameOrId);
      return this.state.projects.find((p) => p.id === id);
    }
    return this.state.projects.find((p) => p.name === nameOrId);
  }

  /** The project if the caller may do `need` with it; otherwise the HttpError Harbor would send. */
  requireProject(nameOrId: string, need: ProjectNeed, isName = true): ProjectRecord {
    const project = this.findProject(nameOrId, isName);
    if (!project || !this.sees(project)) throw this.unknownProject(nameOrId);
    if (!this.may(project, need)) throw this.denied(DENIED_WHAT[need](project.name));
    return project;
  }
}

/** The identity behind an API request, or the error to answer with. */
export function identify(state: AccountsState, caller: Caller, authorization: string | undefined): ApiIdentity {
  switch (caller.kind) {
    case 'basic':
      return new ApiIdentity(state, caller.principal);
    case 'limited':
      throw new HttpError(429, 'TOO_MANY_REQUEST', 'too many failed logins; try again later', undefined, {
        'Retry-After': String(caller.retryAfter),
      });
    case 'invalid':
      if (authorization?.trim().toLowerCase().startsWith('basic')) throw unauthorized(caller.reason);
      return new ApiIdentity(state, ANONYMOUS);
    default:
      return new ApiIdentity(state, ANONYMOUS);
  }
}

/** For endpoints anyone may call: wrong credentials only lose the authenticated view, as in Harbor. */
export function identifyLeniently(state: AccountsState, caller: Caller): ApiIdentity {
  return new ApiIdentity(state, caller.kind === 'basic' ? caller.principal : ANONYMOUS);
}
