/**
 * Chart metadata written the way Helm writes it: `sigs.k8s.io/yaml.Marshal`
 * of helm's Metadata struct after the loader's Metadata.Validate. That is the
 * Chart.yaml inside an archive Helm packages, what `helm show chart` prints,
 * and the first document of the text a .prov signs.
 *
 * The struct decides what gets written: only the fields Helm knows (others
 * are dropped as Go's decoder drops them), empty ones omitted (omitempty,
 * except a dependency's name and repository), string fields sanitized as
 * Validate does. So any ChartMetadata-shaped value gives Helm's bytes, be it
 * validated by parseChartYaml or parsed from Chart.yaml by any YAML parser.
 */
import { ChartYamlError } from '../errors.js';
import { formatGoFloat } from './go-resolve.js';
import { ASSIGNED_AFTER_GO_UNICODE } from './go-unicode.js';
import { GoYamlMarshalError, type JsonValue, marshalGoYaml } from './go-yaml-encode.js';
import type { ChartMetadata } from './metadata-types.js';

type JsonObject = { [key: string]: JsonValue };

/** The metadata as sigs.k8s.io/yaml marshals it (`helm show chart`, the .prov metadata block). */
export function marshalMetadata(md: ChartMetadata): string {
  const json = metadataToJson(md);
  try {
    return marshalGoYaml(json);
  } catch (e) {
    if (e instanceof GoYamlMarshalError) checkMarshallable(json, 'Chart.yaml');
    throw e;
  }
}

/** Chart.yaml as Helm writes it into an archive: v1 charts lose `dependencies`. */
export function marshalChartYaml(md: ChartMetadata): string {
  const { dependencies: _dropped, ...rest } = md;
  return marshalMetadata(md.apiVersion === 'v1' ? (rest as ChartMetadata) : md);
}

/** Fails like Helm does when a value cannot be written back as YAML, naming the field. */
export function checkMarshallable(json: JsonObject, source: string): void {
  for (const [field, value] of Object.entries(json)) {
    try {
      marshalGoYaml({ [field]: value });
    } catch (e) {
      if (!(e instanceof GoYamlMarshalError)) throw e;
      throw new ChartYamlError(field, `${source}: "${field}" ${e.message}: ${JSON.stringify(e.value)}`);
    }
  }
}

/** The JSON Go's encoding/json writes for Helm's Metadata struct, after Validate. */
export function metadataToJson(md: ChartMetadata): JsonObject {
  const m = md as unknown as Record<string, unknown>;
  const out: JsonObject = {};
  const put = (key: string, value: JsonValue | undefined) => {
    if (!isEmpty(value)) out[key] = value!;
  };
  put('name', clean(m.name));
  put('home', clean(m.home));
  put('sources', strings(m.sources));
  put('version', str(m.version));
  put('description', clean(m.description));
  put('keywords', strings(m.keywords));
  put('maintainers', list(m.maintainers, maintainerToJson));
  put('icon', clean(m.icon));
  put('apiVersion', str(m.apiVersion));
  put('condition', clean(m.condition));
  put('tags', clean(m.tags));
  put('appVersion', clean(m.appVersion));
  put('deprecated', m.deprecated === true);
  if (m.annotations !== null && typeof m.annotations === 'object') {
    // map[string]string: values are not sanitized. fromEntries keeps a "__proto__" key.
    put('annotations', Object.fromEntries(Object.entries(m.annotations).map(([k, v]) => [k, str(v)])));
  }
  put('kubeVersion', clean(m.kubeVersion));
  put('dependencies', list(m.dependencies, dependencyToJson));
  put('type', str(m.type));
  return out;
}

function maintainerToJson(mt: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const key of ['name', 'email', 'url']) {
    const v = clean(mt[key]);
    if (v !== '') out[key] = v;
  }
  return out;
}

function dependencyToJson(d: Record<string, unknown>): JsonObject {
  // name and repository have no omitempty in Helm's Dependency struct.
  const out: JsonObject = { name: clean(d.name), repository: clean(d.repository) };
  const put = (key: string, value: JsonValue | undefined) => {
    if (!isEmpty(value)) out[key] = value!;
  };
  put('version', clean(d.version));
  put('condition', clean(d.condition));
  put('tags', strings(d.tags));
  put('enabled', d.enabled === true);
  put('import-values', Array.isArray(d['import-values']) ? d['import-values'].map(toJsonValue) : undefined);
  put('alias', str(d.alias));
  return out;
}

/** encoding/json's omitempty: false, "", empty slices and maps (and unset pointers). */
function isEmpty(v: JsonValue | undefined): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** A list of struct pointers: null entries stay null, as Go writes a nil pointer. */
function list(v: unknown, convert: (item: Record<string, unknown>) => JsonObject): JsonValue[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((item) => (item === null || item === undefined ? null : convert(item as Record<string, unknown>)));
}

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(clean) : undefined);
const clean = (v: unknown): string => sanitizeString(str(v));

/**
 * A value for a Go string field. Numbers and booleans become strings the way
 * sigs.k8s.io/yaml converts them: integers as written, floats with
 * FormatFloat(f, 'g', -1, 32), so `appVersion: 1.10` (a YAML float) is "1.1".
 */
function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return formatGoFloat(v, 32);
  return String(v);
}

/** An interface{} value (import-values) after Go's JSON round trip: numbers are float64. */
function toJsonValue(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)]));
  return String(v);
}

/**
 * Helm's sanitizeString (run by Metadata.Validate): whitespace becomes a
 * space, non-printable characters are dropped — printable as Go's Unicode
 * 15.0 tables say, not Node's newer ones (go-unicode.ts). A lone surrogate,
 * Go's invalid UTF-8, reads as U+FFFD, which is printable and kept.
 */
export function sanitizeString(s: string): string {
  // Nearly every Chart.yaml string is printable ASCII: nothing to change.
  if (PRINTABLE_ASCII.test(s)) return s;
  let out = '';
  for (const c of s) {
    if (GO_SPACE.test(c)) out += ' ';
    else if (GO_PRINT.test(c) && !ASSIGNED_AFTER_GO_UNICODE.test(c)) out += c;
    else if (LONE_SURROGATE.test(c)) out += '\ufffd';
  }
  return out;
}

// unicode.IsSpace and unicode.IsPrint (categories L, M, N, P, S plus ASCII space).
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const GO_PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const LONE_SURROGATE = /^[\ud800-\udfff]$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
