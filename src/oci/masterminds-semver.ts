/**
 * The SemVer rules Helm picks chart versions by: github.com/Masterminds/semver
 * v3 (3.3.0 in Helm 3.17, 3.4.0 in Helm 4.1), ported rule for rule.
 *
 * Why a port and not npm `semver` ranges: the two disagree in ways a user
 * would see. Masterminds has `!=`; `~0.0.0` matches everything; `<1.2` with
 * prereleases allowed accepts 1.2.0-rc.1 (npm desugars to `<1.2.0-0`); and it
 * lets prereleases in per AND group (3.4.0) or per comparator (3.3.0), where
 * npm needs a comparator on the same major.minor.patch. Mapping onto npm
 * ranges would pick a different chart than `helm pull --version` in those cases.
 */

export interface SemVersion {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Prerelease without the '-', '' for none. */
  pre: string;
  /** Build metadata without the '+', '' for none; never compared. */
  build: string;
}

/** Which Masterminds release's prerelease rule to apply: Helm 3.17 ships 3.3.0, Helm 4.1 ships 3.4.0. */
export type HelmMajor = 3 | 4;

const UINT64_MAX = (1n << 64n) - 1n;
const STRICT =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const LOOSE = /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;

/** StrictNewVersion: what Helm accepts as a chart tag (after `_` → `+`). */
export function parseStrictVersion(s: string): SemVersion | undefined {
  const m = STRICT.exec(s);
  if (!m) return undefined;
  return makeVersion(m[1]!, m[2]!, m[3]!, m[4] ?? '', m[5] ?? '');
}

/** NewVersion (coercing): `v1.2`, `1`, `01.2.3` are versions too. */
export function parseLooseVersion(s: string): SemVersion | undefined {
  const m = LOOSE.exec(s);
  if (!m) return undefined;
  const pre = m[5] ?? '';
  if (pre !== '' && !validPrerelease(pre)) return undefined;
  return makeVersion(m[1]!, (m[2] ?? '.0').slice(1), (m[3] ?? '.0').slice(1), pre, m[8] ?? '');
}

function makeVersion(major: string, minor: string, patch: string, pre: string, build: string): SemVersion | undefined {
  const v = { major: BigInt(major), minor: BigInt(minor), patch: BigInt(patch), pre, build };
  return v.major > UINT64_MAX || v.minor > UINT64_MAX || v.patch > UINT64_MAX ? undefined : v;
}

function validPrerelease(pre: string): boolean {
  return pre.split('.').every((p) => (/^[0-9]+$/.test(p) ? p.length === 1 || p[0] !== '0' : /^[0-9A-Za-z-]+$/.test(p)));
}

/** Version.Compare: major, minor, patch, then prerelease; build metadata ignored. */
export function compareVersions(a: SemVersion, b: SemVersion): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] > b[k] ? 1 : -1;
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return comparePrerelease(a.pre, b.pre);
}

function comparePrerelease(a: string, b: string): number {
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = comparePrePart(as[i] ?? '', bs[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

// comparePrePart, quirks included: numeric means "parses as uint64", and two
// different spellings of one number (never in valid SemVer) compare as -1.
function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === '') return -1;
  if (o === '') return 1;
  const sn = uint64(s);
  const on = uint64(o);
  if (sn === undefined && on === undefined) return s > o ? 1 : -1;
  if (on === undefined) return -1;
  if (sn === undefined) return 1;
  return sn > on ? 1 : -1;
}

function uint64(s: string): bigint | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > UINT64_MAX ? undefined : n;
}

// ---- constraints ------------------------------------------------------------

interface Constraint {
  op: string;
  orig: string;
  con: SemVersion;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

export interface Constraints {
  /** OR of AND groups. */
  groups: Constraint[][];
}

export class ConstraintSyntaxError extends Error {}

// Go's \s is ASCII only; JS's is not.
const WS = '[\\t\\n\\f\\r ]';
// The empty alternative and `|` inside the character classes are Masterminds' own.
const OPS = '=||!=|>|<|>=|=>|<=|=<|~|~>|\\^';
const CV =
  'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const CONSTRAINT = new RegExp(`^${WS}*(${OPS})${WS}*(${CV})${WS}*$`);
const RANGE = new RegExp(`${WS}*(${CV})${WS}+-${WS}+(${CV})${WS}*`, 'g');
const FIND = new RegExp(`(${OPS})${WS}*(${CV})`, 'g');
const VALID = new RegExp(`^(${WS}*(${OPS})${WS}*(${CV})${WS}*)((?:${WS}+|,${WS}*)(${OPS})${WS}*(${CV})${WS}*)*$`);

/** NewConstraint. Throws ConstraintSyntaxError with Masterminds' message. */
export function parseConstraints(input: string): Constraints {
  // Go's RE2 cannot backtrack; JS can, exponentially on long runs of spaces.
  // Every whitespace in these patterns is \s* or \s+, so one space is as good as many.
  const c = rewriteRange(input.replace(/[\t\n\f\r ]+/g, ' '));
  const groups = c.split('||').map((segment) => {
    if (!VALID.test(segment)) throw new ConstraintSyntaxError(`improper constraint: ${segment}`);
    const found = [...segment.matchAll(FIND)].map((m) => m[0]);
    return (found.length ? found : [segment]).map(parseConstraint);
  });
  return { groups };
}

function rewriteRange(s: string): string {
  let out = s;
  for (const m of s.matchAll(RANGE)) {
    const replacement = `>= ${m[1]}, <= ${m[11]} `;
    out = out.replace(m[0], () => replacement);
  }
  return out;
}

const isX = (s: string) => s === 'x' || s === 'X' || s === '*';

function parseConstraint(s: string): Constraint {
  const m = CONSTRAINT.exec(s);
  if (!m) throw new ConstraintSyntaxError(`improper constraint: ${s}`);
  const [major, minor, patch, pre] = [m[3] ?? '', m[4] ?? '', m[5] ?? '', m[6] ?? ''];
  let ver = m[2]!;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor.slice(1)) || minor === '') {
    ver = `${major}.0.0${pre}`;
    dirty = minorDirty = true;
  } else if (isX(patch.slice(1)) || patch === '') {
    ver = `${major}${minor}.0${pre}`;
    dirty = patchDirty = true;
  }
  const con = parseLooseVersion(ver);
  if (!con) throw new ConstraintSyntaxError('constraint parser error');
  return { op: m[1]!, orig: m[2]!, con, dirty, minorDirty, patchDirty };
}

/** Constraints.Check, with the prerelease rule of the Masterminds release that Helm `helm` ships. */
export function satisfies(v: SemVersion, cs: Constraints, helm: HelmMajor = 4): boolean {
  return cs.groups.some((group) => {
    const groupHasPre = group.some((c) => c.con.pre !== '');
    return group.every((c) => {
      if (v.pre !== '') {
        // 3.4.0: any prerelease in the AND group lets prereleases in for all of it.
        // 3.3.0: only a comparator with a prerelease does, and `!=` checks only when it has an x.
        const allowed = helm === 4 ? groupHasPre : c.con.pre !== '';
        const gated = helm === 4 || c.op !== '!=' || c.dirty;
        if (gated && !allowed) return false;
      }
      return OPS_CHECK[c.op]!(v, c);
    });
  });
}

type Check = (v: SemVersion, c: Constraint) => boolean;

const cmp = compareVersions;

const tilde: Check = (v, c) => {
  if (cmp(v, c.con) < 0) return false;
  const { con } = c;
  if (con.major === 0n && con.minor === 0n && con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== con.major) return false;
  return v.minor === con.minor || c.minorDirty;
};

const notEqual: Check = (v, c) => {
  const { con } = c;
  if (c.dirty) {
    if (con.major !== v.major) return true;
    if (con.minor !== v.minor && !c.minorDirty) return true;
    if (c.minorDirty) return false;
    if (con.patch !== v.patch && !c.patchDirty) return true;
    if (c.patchDirty) {
      if (v.pre !== '' || con.pre !== '') return comparePrerelease(v.pre, con.pre) !== 0;
      return false;
    }
  }
  return cmp(v, con) !== 0;
};

const greaterThan: Check = (v, c) => {
  const { con } = c;
  if (!c.dirty) return cmp(v, con) === 1;
  if (v.major !== con.major) return v.major > con.major;
  if (c.minorDirty) return false;
  if (c.patchDirty) return v.minor > con.minor;
  return cmp(v, con) === 1;
};

const lessThanEqual: Check = (v, c) => {
  const { con } = c;
  if (!c.dirty) return cmp(v, con) <= 0;
  if (v.major > con.major) return false;
  return !(v.major === con.major && v.minor > con.minor && !c.minorDirty);
};

const caret: Check = (v, c) => {
  const { con } = c;
  if (cmp(v, con) < 0) return false;
  if (con.major > 0n || c.minorDirty) return v.major === con.major;
  if (v.major > 0n) return false;
  if (con.minor > 0n || c.patchDirty) return v.minor === con.minor;
  if (v.minor > 0n) return false;
  return v.patch === con.patch;
};

const OPS_CHECK: Record<string, Check> = {
  '': (v, c) => (c.dirty ? tilde(v, c) : cmp(v, c.con) === 0),
  '=': (v, c) => (c.dirty ? tilde(v, c) : cmp(v, c.con) === 0),
  '!=': notEqual,
  '>': greaterThan,
  '<': (v, c) => cmp(v, c.con) < 0,
  '>=': (v, c) => cmp(v, c.con) >= 0,
  '=>': (v, c) => cmp(v, c.con) >= 0,
  '<=': lessThanEqual,
  '=<': lessThanEqual,
  '~': tilde,
  '~>': tilde,
  '^': caret,
};
