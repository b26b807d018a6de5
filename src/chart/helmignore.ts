/**
 * `.helmignore` with Helm's own rules (helm pkg/ignore/rules.go), which are
 * NOT gitignore's, so the `ignore` package would pick different files:
 *
 * - `!pattern` does not re-include anything. Helm ignores every path that
 *   does NOT match it (`docs/` + `!docs/keep.md` ignores Chart.yaml too, and
 *   `helm package` fails with "Chart.yaml file is missing").
 * - Rules are tried in order; the first plain rule that matches ignores the
 *   path. A matching negated rule just moves on to the next rule.
 * - `name/` matches folders only; an ignored folder is not entered.
 * - A pattern without "/" matches the basename at any depth; one with "/"
 *   (a leading "/" is dropped) matches the whole path from the chart root.
 * - Matching is Go's filepath.Match: `*` and `?` never cross "/", classes
 *   negate with `^`, `\` escapes. `**` is rejected, as is a malformed pattern.
 * - Blank lines and lines starting with `#` are skipped; lines are trimmed.
 * - Helm always adds `templates/.?*` (dotfiles directly in templates/).
 * - The rules of the top chart apply to subchart folders too; a subchart's
 *   own .helmignore is just a file.
 * Each of these was checked against `helm package` (3.17 and 4.1).
 */
import { NotAChartError } from '../errors.js';

export interface HelmIgnoreRules {
  /** True when Helm would leave this chart-relative posix path out. */
  ignores(path: string, isDir: boolean): boolean;
  /** The patterns as written, in order (for messages and tests). */
  readonly patterns: readonly string[];
}

interface Rule {
  raw: string;
  negate: boolean;
  mustDir: boolean;
  basename: boolean;
  pattern: string;
}

/** Helm's defaults, added after the file's own rules. */
export const DEFAULT_IGNORE_PATTERNS = ['templates/.?*'];

/** Parses .helmignore text (plus Helm's defaults unless `defaults: false`). */
export function parseHelmignore(text: string, opts: { defaults?: boolean; source?: string } = {}): HelmIgnoreRules {
  const source = opts.source ?? '.helmignore';
  const rules: Rule[] = [];
  const lines = text.replace(/^\ufeff/, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const rule = parseRule(line.replace(/\r$/, ''), `${source} line ${i + 1}`);
    if (rule) rules.push(rule);
  });
  if (opts.defaults !== false) DEFAULT_IGNORE_PATTERNS.forEach((p) => rules.push(parseRule(p, 'default rule')!));
  return {
    patterns: rules.map((r) => r.raw),
    ignores: (path, isDir) => ignores(rules, path, isDir),
  };
}

function parseRule(line: string, where: string): Rule | undefined {
  const raw = goTrimSpace(line);
  if (raw === '' || raw.startsWith('#')) return undefined;
  const bad = (why: string) =>
    new NotAChartError(`${where}: ${why}: ${JSON.stringify(raw)}`, { hint: 'fix or remove that line of .helmignore' });
  if (raw.includes('**')) throw bad('double-star (**) syntax is not supported');
  if (goMatch(raw, 'abc') === 'bad') throw bad('syntax error in pattern');
  let pattern = raw;
  const negate = pattern.startsWith('!');
  if (negate) pattern = pattern.slice(1);
  const mustDir = pattern.endsWith('/');
  if (mustDir) pattern = pattern.slice(0, -1);
  let basename = false;
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  else if (!pattern.includes('/')) basename = true;
  return { raw, negate, mustDir, basename, pattern };
}

function ignores(rules: Rule[], path: string, isDir: boolean): boolean {
  if (path === '' || path === '.' || path === './') return false;
  for (const r of rules) {
    const subject = r.basename ? goBase(path) : path;
    if (r.negate) {
      if (r.mustDir && !isDir) return true;
      if (goMatch(r.pattern, subject) !== true) return true;
      continue;
    }
    if (r.mustDir && !isDir) continue;
    if (goMatch(r.pattern, subject) === true) return true;
  }
  return false;
}

/** filepath.Base for posix paths. */
function goBase(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return path === '' ? '.' : '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/gu;
const goTrimSpace = (s: string) => s.replace(GO_SPACE, '');

/**
 * Go's path/filepath.Match on a Unix system, on code points. Returns 'bad'
 * for a malformed pattern (Go validates the whole pattern even when an
 * earlier part already failed to match).
 */
export function goMatch(pattern: string, name: string): boolean | 'bad' {
  let pat = [...pattern];
  let nm = [...name];
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !nm.includes('/');
    const first = matchChunk(chunk, nm);
    if (first !== 'bad' && first !== false && (first.length === 0 || pat.length > 0)) {
      nm = first;
      continue;
    }
    if (first === 'bad') return 'bad';
    if (star) {
      for (let i = 0; i < nm.length && nm[i] !== '/'; i++) {
        const t = matchChunk(chunk, nm.slice(i + 1));
        if (t === 'bad') return 'bad';
        if (t !== false) {
          if (pat.length === 0 && t.length > 0) continue;
          nm = t;
          continue outer;
        }
      }
    }
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      if (matchChunk(next.chunk, []) === 'bad') return 'bad';
    }
    return false;
  }
  return nm.length === 0;
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let p = pattern;
  let star = false;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** Matches one chunk at the start of `s`: the rest of `s`, false, or 'bad'. */
function matchChunk(chunk: string[], s: string[]): string[] | false | 'bad' {
  let c = chunk;
  let str = s;
  let failed = false;
  while (c.length > 0) {
    if (!failed && str.length === 0) failed = true;
    const head = c[0]!;
    if (head === '[') {
      let r = '';
      if (!failed) {
        r = str[0]!;
        str = str.slice(1);
      }
      c = c.slice(1);
      let negated = false;
      if (c[0] === '^') {
        negated = true;
        c = c.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (c.length > 0 && c[0] === ']' && nrange > 0) {
          c = c.slice(1);
          break;
        }
        const lo = getEsc(c);
        if (lo === 'bad') return 'bad';
        c = lo.rest;
        let hi = lo;
        if (c[0] === '-') {
          const h = getEsc(c.slice(1));
          if (h === 'bad') return 'bad';
          hi = h;
          c = h.rest;
        }
        if (!failed && lo.cp <= r.codePointAt(0)! && r.codePointAt(0)! <= hi.cp) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (head === '?') {
      if (!failed) {
        if (str[0] === '/') failed = true;
        str = str.slice(1);
      }
      c = c.slice(1);
    } else {
      if (head === '\\') {
        c = c.slice(1);
        if (c.length === 0) return 'bad';
      }
      if (!failed) {
        if (c[0] !== str[0]) failed = true;
        str = str.slice(1);
      }
      c = c.slice(1);
    }
  }
  return failed ? false : str;
}

function getEsc(chunk: string[]): { cp: number; rest: string[] } | 'bad' {
  let c = chunk;
  if (c.length === 0 || c[0] === '-' || c[0] === ']') return 'bad';
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) return 'bad';
  }
  const cp = c[0]!.codePointAt(0)!;
  const rest = c.slice(1);
  if (rest.length === 0) return 'bad';
  return { cp, rest };
}
