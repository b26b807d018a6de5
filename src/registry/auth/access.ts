import { ROLE_ACTIONS, type AccountsState, type Principal, type RegistryAction } from './model.js';

/** One entry of a token's `access` claim (Docker token spec). */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

const ALL: readonly RegistryAction[] = ['pull', 'push', 'delete'];

/** The project a repository belongs to: its first path component (Harbor's rule). */
export function projectOf(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash > 0 ? repository.slice(0, slash) : undefined;
}

/** Every action `principal` may perform on `repository`, whatever was asked. */
export function allowedActions(state: AccountsState, principal: Principal, repository: string): Set<RegistryAction> {
  const allowed = new Set<RegistryAction>();
  const projectName = projectOf(repository);
  const project = projectName === undefined ? undefined : state.projects.find((p) => p.name === projectName);
  // Nothing exists outside a project, not even for admins: a push there must fail as in Harbor.
  if (!project) return allowed;
  if (project.public) allowed.add('pull');
  switch (principal.kind) {
    case 'anonymous':
      break;
    case 'user': {
      // Re-read the user: a token outlives a demotion only until it expires, a Basic check not at all.
      const user = state.users.find((u) => u.name === principal.name);
      if (!user) break;
      if (user.admin) ALL.forEach((a) => allowed.add(a));
      const member = project.members.find((m) => m.user === user.name);
      if (member) ROLE_ACTIONS[member.role].forEach((a) => allowed.add(a));
      break;
    }
    case 'robot':
      for (const perm of principal.permissions)
        if (perm.project === '*' || perm.project === project.name) perm.actions.forEach((a) => allowed.add(a));
      break;
  }
  return allowed;
}

/** Whether `principal` is a system admin right now. */
export function isSystemAdmin(state: AccountsState, principal: Principal): boolean {
  return principal.kind === 'user' && state.users.some((u) => u.name === principal.name && u.admin);
}

/**
 * What the token service grants for the requested scopes: the intersection
 * of what was asked and what is allowed; scopes with nothing granted are
 * left out, as distribution's token servers do.
 */
export function grant(state: AccountsState, principal: Principal, requested: AccessEntry[]): AccessEntry[] {
  const granted: AccessEntry[] = [];
  // Helm 3 asks `repository:R:pull repository:R:pull,push` in one request: one entry per resource.
  for (const req of mergeScopes(requested)) {
    let actions: string[] = [];
    if (req.type === 'repository') {
      const allowed = allowedActions(state, principal, req.name);
      actions = req.actions.flatMap((a) => (a === '*' ? [...allowed] : allowed.has(a as RegistryAction) ? [a] : []));
    } else if (req.type === 'registry' && req.name === 'catalog' && isSystemAdmin(state, principal)) {
      actions = req.actions.filter((a) => a === '*');
    }
    actions = [...new Set(actions)];
    if (actions.length > 0) granted.push({ type: req.type, name: req.name, actions });
  }
  return granted;
}

/** Requested scopes with one entry per (type, name), actions united in first-seen order. */
export function mergeScopes(requested: AccessEntry[]): AccessEntry[] {
  const byKey = new Map<string, AccessEntry>();
  for (const r of requested) {
    const key = `${r.type}\0${r.name}`;
    const seen = byKey.get(key);
    if (seen) seen.actions = [...new Set([...seen.actions, ...r.actions])];
    else byKey.set(key, { type: r.type, name: r.name, actions: [...r.actions] });
  }
  return [...byKey.values()];
}

/** `repository:name:pull,push` → entry; names may not hold `:`, a type may carry `(class)`. */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter(Boolean);
  if (!name || actions.length === 0) return undefined;
  return { type, name, actions };
}
