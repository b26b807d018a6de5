/**
 * `WWW-Authenticate` as registries send it (RFC 7235 auth-params):
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push",error="insufficient_scope"`
 * or `Basic realm="Registry Realm"`. Quoted values may hold commas (scopes do).
 */
export interface AuthChallenge {
  scheme: 'basic' | 'bearer' | 'other';
  params: Record<string, string>;
}

export function parseChallenge(header: string | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  const scheme = name === 'basic' ? 'basic' : name === 'bearer' ? 'bearer' : 'other';
  return { scheme, params: parseParams(m[2]!) };
}

function parseParams(rest: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null && m[0] !== '') {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    params[m[1]!.toLowerCase()] = value;
  }
  return params;
}

/** `repository:a/b:pull,push` scopes, merged: one entry per resource, actions unioned and sorted. */
export function mergeScopes(...lists: Array<readonly string[] | undefined>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of lists.flatMap((l) => l ?? [])) {
    for (const one of scope.split(' ')) {
      const i = one.lastIndexOf(':');
      if (i <= 0) continue;
      const resource = one.slice(0, i);
      const actions = byResource.get(resource) ?? new Set<string>();
      for (const a of one.slice(i + 1).split(',')) if (a) actions.add(a);
      byResource.set(resource, actions);
    }
  }
  return [...byResource].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`).sort();
}

export const repositoryScope = (repository: string, ...actions: string[]): string => `repository:${repository}:${actions.join(',')}`;
