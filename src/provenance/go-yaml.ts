/**
 * Chart metadata marshalled byte for byte as Helm does it: `sigs.k8s.io/yaml`
 * turns the Go struct into JSON (omitempty drops empty fields), reads that JSON
 * back with yaml.v2 into plain maps (so keys come out sorted, by yaml.v2's own
 * "natural" order) and writes it with yaml.v2's emitter (go-yaml-emitter.ts).
 * Before that, Helm's loader runs Metadata.Validate, which rewrites some string
 * fields (sanitizeString); we apply the same rewrite so a Chart.yaml read by
 * any parser gives the text Helm signs.
 */
import type { ChartDependency, ChartMaintainer, ChartMetadata } from '../chart/metadata-types.js';
import { ChartYamlError } from '../errors.js';
import { emitGoYaml, type EmitNode } from './go-yaml-emitter.js';

/** A value as yaml.v2 holds it after decoding JSON: numbers keep int/float apart. */
export type GoValue = string | boolean | null | { int: string } | { float: number } | GoValue[] | Map<string, GoValue>;

// ---------------------------------------------------------------------------
// Helm's sanitizeString: whitespace → ' ', unprintable characters dropped.

// Go's unicode.IsSpace: ASCII spaces, NEL, NBSP and the Z categories.
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\p{Zs}\p{Zl}\p{Zp}]/u;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, ASCII space.
const GO_PRINT = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

export function sanitizeString(s: string): string {
  let out = '';
  for (const ch of s) {
    if (GO_SPACE.test(ch)) out += ' ';
    else if (GO_PRINT.test(ch)) out += ch;
  }
  return out;
}

// ---------------------------------------------------------------------------
// yaml.v2 resolve(): which plain scalars would read back as something else.

const RESOLVE_NON_STRING = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'true',
  'True',
  'TRUE',
  'on',
  'On',
  'ON',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'false',
  'False',
  'FALSE',
  'off',
  'Off',
  'OFF',
  '',
  '~',
  'null',
  'Null',
  'NULL',
  '.nan',
  '.NaN',
  '.NAN',
  '.inf',
  '.Inf',
  '.INF',
  '+.inf',
  '+.Inf',
  '+.INF',
  '-.inf',
  '-.Inf',
  '-.INF',
  // "<<" (merge) is in yaml.v2's table too, but '<' is not a resolvable first
  // character, so it never applies to plain strings.
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseInt/ParseUint with base 0 (prefixes 0x, 0o, 0b, 0 and `_`). */
function goParseInteger(s: string, unsigned: boolean): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m) return undefined;
  const sign = m[1]!;
  if (unsigned && sign !== '') return undefined;
  let body = m[2]!;
  // Underscores must sit between digits (after a base prefix); yaml.v2 already
  // removed them all, so any left here make the number invalid.
  if (body.includes('_')) return undefined;
  if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
  let v = BigInt(body);
  if (sign === '-') v = -v;
  if (unsigned ? v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX) return undefined;
  return v;
}

/**
 * yaml.v2's parseTimestamp: four digits and '-', then one of its layouts as Go's
 * time.Parse reads them (1–2 digit fields, ranges checked, day within month).
 */
function isGoTimestamp(s: string): boolean {
  const m =
    /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/.exec(
      s,
    );
  if (!m) return false;
  const [, y, mo, d, sep, h, mi, sec, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysIn = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (day < 1 || day > daysIn) return false;
  if (sep === undefined) return true;
  // "T"/"t" layouts carry a zone (Z07:00); the space layout has none.
  if ((sep === ' ') !== (zone === undefined)) return false;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return false;
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 24 || Number(zone.slice(4, 6)) > 60)) return false;
  return true;
}

/** True when yaml.v2 would read the string back, unquoted, as a string. */
function resolvesToString(s: string): boolean {
  if (RESOLVE_NON_STRING.has(s)) return false;
  const c = s[0];
  if (c === '.') return Number.isNaN(goParseFloat(s));
  if (c === '+' || c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
    if (isGoTimestamp(s)) return false;
    const plain = s.replaceAll('_', '');
    if (goParseInteger(plain, false) !== undefined || goParseInteger(plain, true) !== undefined) return false;
    if (YAML_STYLE_FLOAT.test(plain) && !Number.isNaN(goParseFloat(plain))) return false;
    if (/^-?0b[01]+$/.test(plain)) return false;
  }
  return true;
}

/**
 * Go's strconv.ParseFloat for the decimal forms the callers pass; NaN when Go
 * returns an error, including out-of-range values like 1e400.
 */
function goParseFloat(s: string): number {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return NaN;
  const f = Number(s);
  return Number.isFinite(f) ? f : NaN;
}

function isBase60Float(s: string): boolean {
  return s.includes(':') && /^[-+0-9]/.test(s) && BASE60_FLOAT.test(s);
}

// ---------------------------------------------------------------------------
// Numbers: Go's encoding/json writes them, yaml.v2 reads them back.

/** Shortest digits that read back as the same float64 (or float32), and the decimal exponent. */
function shortestDigits(f: number, bits: 32 | 64): { digits: string; exp: number } {
  let e = f.toExponential();
  if (bits === 32) {
    const f32 = Math.fround(f);
    for (let p = 0; p <= 8; p++) {
      e = f32.toExponential(p);
      if (Math.fround(Number(e)) === f32) break;
    }
  }
  const [mant, exp] = e.split('e') as [string, string];
  return { digits: mant.replace('-', '').replace('.', ''), exp: Number(exp) };
}

/**
 * Go's strconv.FormatFloat(f, 'g', -1, bits): yaml.v2 writes floats with
 * bits 64; sigs.k8s.io/yaml turns a YAML float into a Go string with bits 32.
 */
function goFormatG(f: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Infinity) return '.inf';
  if (f === -Infinity) return '-.inf';
  const sign = f < 0 || Object.is(f, -0) ? '-' : '';
  if (f === 0) return `${sign}0`;
  const { digits, exp } = shortestDigits(f, bits);
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const abs = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
}

/** A JavaScript number through json.Marshal(float64) and yaml.v2's resolver. */
export function goNumber(n: number): GoValue {
  if (!Number.isFinite(n)) throw new TypeError(`cannot marshal ${n}: JSON has no such number`);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) return { float: n };
  // json.Marshal writes the shortest 'f' form; integral ones read back as ints.
  if (Number.isInteger(n)) {
    const v = BigInt(n);
    if (v >= INT64_MIN && v <= UINT64_MAX) return { int: v.toString() };
  }
  return { float: n };
}

// ---------------------------------------------------------------------------
// yaml.v2 keyList.Less: letters after non-letters, digit runs compared as numbers.

const IS_LETTER = /\p{L}/u;
const IS_DIGIT = /\p{Nd}/u;

export function goYamlKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a, (c) => c.codePointAt(0)!);
  const br = Array.from(b, (c) => c.codePointAt(0)!);
  const letter = (c: number): boolean => IS_LETTER.test(String.fromCodePoint(c));
  const digit = (c: number | undefined): boolean => c !== undefined && IS_DIGIT.test(String.fromCodePoint(c));
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ai0 = ar[i]!;
    const bi0 = br[i]!;
    if (ai0 === bi0) continue;
    const al = letter(ai0);
    const bl = letter(bi0);
    if (al && bl) return ai0 < bi0;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ai0 === 0x30 || bi0 === 0x30) {
      for (let j = i - 1; j >= 0 && digit(ar[j]); j--) {
        if (ar[j] !== 0x30) {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && digit(ar[ai]); ai++) an = BigInt.asIntN(64, an * 10n + BigInt(ar[ai]! - 0x30));
    let bi = i;
    for (; bi < br.length && digit(br[bi]); bi++) bn = BigInt.asIntN(64, bn * 10n + BigInt(br[bi]! - 0x30));
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ai0 < bi0;
  }
  return ar.length < br.length;
}

// ---------------------------------------------------------------------------
// Go value → emitter nodes (yaml.v2 encoder.marshal).

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Characters encoding/json leaves raw and yaml.v2's reader then refuses
// ("yaml: control characters are not allowed"): Helm cannot package them.
const YAML_READER_REJECTS = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;
// A raw NEL in the JSON text is a line break to yaml.v2's scanner and gets
// folded like one inside the double-quoted scalar (blanks around it dropped).
const RAW_NEL_RUN = /[ \t]*(?:\u0085[ \t]*)+/g;

/**
 * A Go string as it comes out of json.Marshal → yaml.v2 Unmarshal, the trip
 * sigs.k8s.io/yaml makes every string take.
 */
function jsonRoundTrip(s: string, path: string): string {
  const value = s.replace(LONE_SURROGATE, '\ufffd');
  const bad = YAML_READER_REJECTS.exec(value);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    const field = path.split(/[.[]/)[0] || 'metadata';
    throw new ChartYamlError(field, `Chart.yaml ${path}: Helm cannot write the control character U+${code}`);
  }
  return value.replace(RAW_NEL_RUN, (run) => {
    const breaks = run.split('\u0085').length - 1;
    return breaks === 1 ? ' ' : '\n'.repeat(breaks - 1);
  });
}

function stringNode(s: string, path: string): EmitNode {
  const value = jsonRoundTrip(s, path);
  const canUsePlain = resolvesToString(value) && !isBase60Float(value);
  const style = value.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double';
  return { kind: 'scalar', value, style };
}

function toNode(v: GoValue, path: string): EmitNode {
  if (v === null) return { kind: 'scalar', value: 'null', style: 'plain' };
  if (typeof v === 'string') return stringNode(v, path);
  if (typeof v === 'boolean') return { kind: 'scalar', value: String(v), style: 'plain' };
  if (Array.isArray(v)) return { kind: 'seq', items: v.map((item, i) => toNode(item, `${path}[${i}]`)) };
  if (v instanceof Map) {
    // yaml.v2's Less is not transitive (a1b < a2 < a10 < a1b) and Go ranges
    // over maps in random order, so Helm's own order for such keys changes
    // from run to run; for all other keys this is the order Helm writes.
    const keys = [...v.keys()].sort((a, b) => (goYamlKeyLess(a, b) ? -1 : goYamlKeyLess(b, a) ? 1 : 0));
    return {
      kind: 'map',
      entries: keys.map((k) => {
        const at = path ? `${path}.${k}` : k;
        return [stringNode(k, at), toNode(v.get(k)!, at)];
      }),
    };
  }
  if ('int' in v) return { kind: 'scalar', value: v.int, style: 'plain' };
  return { kind: 'scalar', value: goFormatG(v.float), style: 'plain' };
}

/** yaml.v2 Marshal of a decoded-JSON value: one document, ending in "\n". */
export function marshalGoYaml(value: GoValue): string {
  return emitGoYaml(toNode(value, ''));
}

/** Any JSON-like JavaScript value as sigs.k8s.io/yaml would see it (interface{} fields). */
export function toGoValue(v: unknown): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'bigint') return { int: v.toString() };
  if (Array.isArray(v)) return v.map(toGoValue);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const m = new Map<string, GoValue>();
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) m.set(k, toGoValue(val));
    return m;
  }
  return String(v);
}

// ---------------------------------------------------------------------------
// ChartMetadata → the Go struct's JSON (helm pkg/chart Metadata, omitempty).

/**
 * A Chart.yaml value for a string field. Numbers and booleans become strings
 * the way sigs.k8s.io/yaml converts them for a Go string field: integers as
 * written, floats with FormatFloat(f, 'g', -1, 32), so `appVersion: 1.10`
 * reads as "1.1", as in Helm.
 */
function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return goFormatG(v, 32);
  return String(v);
}

/** Sets key when the value is not "empty" in encoding/json's omitempty sense. */
function putOmitEmpty(m: Map<string, GoValue>, key: string, v: GoValue | undefined): void {
  if (v === undefined || v === null || v === '' || v === false) return;
  if (Array.isArray(v) && v.length === 0) return;
  if (v instanceof Map && v.size === 0) return;
  m.set(key, v);
}

const strings = (list: unknown, clean: (s: string) => string): string[] | undefined =>
  Array.isArray(list) ? list.map((s) => clean(str(s))) : undefined;

function maintainerValue(mt: ChartMaintainer | null | undefined): GoValue {
  if (mt === null || mt === undefined) return null;
  const m = new Map<string, GoValue>();
  putOmitEmpty(m, 'name', sanitizeString(str(mt.name)));
  putOmitEmpty(m, 'email', sanitizeString(str(mt.email)));
  putOmitEmpty(m, 'url', sanitizeString(str(mt.url)));
  return m;
}

function dependencyValue(d: ChartDependency | null | undefined): GoValue {
  if (d === null || d === undefined) return null;
  const m = new Map<string, GoValue>();
  // name and repository have no omitempty in Helm's Dependency struct.
  m.set('name', sanitizeString(str(d.name)));
  putOmitEmpty(m, 'version', sanitizeString(str(d.version)));
  m.set('repository', sanitizeString(str(d.repository)));
  putOmitEmpty(m, 'condition', sanitizeString(str(d.condition)));
  putOmitEmpty(m, 'tags', strings(d.tags, sanitizeString));
  putOmitEmpty(m, 'enabled', d.enabled === true);
  putOmitEmpty(m, 'import-values', Array.isArray(d['import-values']) ? d['import-values'].map(toGoValue) : undefined);
  putOmitEmpty(m, 'alias', str(d.alias));
  return m;
}

/**
 * The Go value Helm marshals for this metadata: only the fields Helm's struct
 * knows (unknown keys are dropped as Go's decoder drops them), sanitized as
 * Metadata.Validate does, empty ones omitted.
 */
export function chartMetadataGoValue(md: ChartMetadata): Map<string, GoValue> {
  const m = new Map<string, GoValue>();
  const clean = (v: unknown): string => sanitizeString(str(v));
  putOmitEmpty(m, 'name', clean(md.name));
  putOmitEmpty(m, 'home', clean(md.home));
  putOmitEmpty(m, 'sources', strings(md.sources, sanitizeString));
  putOmitEmpty(m, 'version', str(md.version));
  putOmitEmpty(m, 'description', clean(md.description));
  putOmitEmpty(m, 'keywords', strings(md.keywords, sanitizeString));
  putOmitEmpty(m, 'maintainers', Array.isArray(md.maintainers) ? md.maintainers.map(maintainerValue) : undefined);
  putOmitEmpty(m, 'icon', clean(md.icon));
  putOmitEmpty(m, 'apiVersion', str(md.apiVersion));
  putOmitEmpty(m, 'condition', clean(md.condition));
  putOmitEmpty(m, 'tags', clean(md.tags));
  putOmitEmpty(m, 'appVersion', clean(md.appVersion));
  putOmitEmpty(m, 'deprecated', md.deprecated === true);
  if (md.annotations && typeof md.annotations === 'object') {
    const ann = new Map<string, GoValue>();
    for (const [k, v] of Object.entries(md.annotations)) ann.set(k, str(v));
    putOmitEmpty(m, 'annotations', ann);
  }
  putOmitEmpty(m, 'kubeVersion', clean(md.kubeVersion));
  putOmitEmpty(m, 'dependencies', Array.isArray(md.dependencies) ? md.dependencies.map(dependencyValue) : undefined);
  putOmitEmpty(m, 'type', str(md.type));
  return m;
}

/**
 * Chart metadata as the YAML text Helm puts in the first document of a .prov
 * (`yaml.Marshal(chart.Metadata)` after the loader's Validate).
 */
export function marshalChartMetadata(md: ChartMetadata): string {
  return marshalGoYaml(chartMetadataGoValue(md));
}
