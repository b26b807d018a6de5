/**
 * From decoded YAML to Helm's Metadata struct, the way sigs.k8s.io/yaml
 * + encoding/json do it: field names match case-insensitively (the key that
 * sorts last wins), unknown fields are dropped, numbers and booleans read
 * into a string field become strings (a float with 32-bit precision, so
 * `appVersion: 1.10` is "1.1"), `null` leaves a field unset, and a value of
 * the wrong shape is an error naming the field.
 */
import { ChartYamlError } from '../errors.js';
import { GoFloat, GoInt, formatGoFloat } from './go-resolve.js';
import type { GoMap, GoValue } from './go-yaml-decode.js';
import type { JsonValue } from './go-yaml-encode.js';

/** Metadata as decoded, before Helm's sanitising and validation. */
export interface RawMetadata {
  [field: string]: unknown;
  maintainers?: (RawStruct | null)[];
  dependencies?: (RawStruct | null)[];
}
export type RawStruct = Record<string, unknown>;

export type Kind = 'string' | 'bool' | 'strings' | 'stringMap' | 'maintainers' | 'dependencies' | 'any' | 'raw';

export const METADATA_FIELDS: Record<string, Kind> = {
  name: 'string',
  home: 'string',
  sources: 'strings',
  version: 'string',
  description: 'string',
  keywords: 'strings',
  maintainers: 'maintainers',
  icon: 'string',
  apiVersion: 'string',
  condition: 'string',
  tags: 'string',
  appVersion: 'string',
  deprecated: 'bool',
  annotations: 'stringMap',
  kubeVersion: 'string',
  dependencies: 'dependencies',
  type: 'string',
};

const MAINTAINER_FIELDS: Record<string, Kind> = { name: 'string', email: 'string', url: 'string' };

export const DEPENDENCY_FIELDS: Record<string, Kind> = {
  name: 'string',
  version: 'string',
  repository: 'string',
  condition: 'string',
  tags: 'strings',
  enabled: 'bool',
  'import-values': 'any',
  alias: 'string',
};

/**
 * Applies a decoded YAML mapping onto `target` as json.Unmarshal would
 * (fields present overwrite, maps merge), e.g. Chart.yaml onto an empty
 * struct, then a v2 chart's requirements.yaml onto that.
 */
export function applyStruct(target: RawStruct, value: GoValue, fields: Record<string, Kind>, where: Where): void {
  if (value === null) return;
  if (!(value instanceof Map)) throw shapeError(where, '', 'a mapping', value);
  for (const [key, fieldValue] of sortedForJson(value)) {
    const field = matchField(key, fields);
    if (!field) continue;
    const kind = fields[field]!;
    const path = where.prefix ? `${where.prefix}.${field}` : field;
    const next = decodeKind(kind, fieldValue, { ...where, prefix: path }, target[field]);
    if (next !== undefined) target[field] = next;
  }
}

export interface Where {
  source: string;
  /** Dotted path of the field being decoded, for messages. */
  prefix: string;
}

function decodeKind(kind: Kind, value: GoValue, where: Where, previous: unknown): unknown {
  switch (kind) {
    case 'string':
      return value === null ? undefined : toGoString(value, where);
    case 'bool':
      if (value === null) return undefined;
      if (typeof value !== 'boolean') throw shapeError(where, where.prefix, 'true or false', value);
      return value;
    case 'strings':
      if (value === null) return null;
      if (!Array.isArray(value)) throw shapeError(where, where.prefix, 'a list of strings', value);
      return value.map((item, i) => (item === null ? '' : toGoString(item, { ...where, prefix: `${where.prefix}[${i}]` })));
    case 'stringMap': {
      if (value === null) return null;
      if (!(value instanceof Map)) throw shapeError(where, where.prefix, 'a mapping of strings', value);
      const out: Record<string, string> = { ...(previous as Record<string, string> | undefined) };
      for (const [k, v] of value) setOwn(out, k, v === null ? '' : toGoString(v, { ...where, prefix: `${where.prefix}.${k}` }));
      return out;
    }
    case 'maintainers':
    case 'dependencies': {
      if (value === null) return null;
      const shape = kind === 'maintainers' ? MAINTAINER_FIELDS : DEPENDENCY_FIELDS;
      if (!Array.isArray(value)) throw shapeError(where, where.prefix, 'a list of mappings', value);
      return value.map((item, i) => {
        if (item === null) return null;
        const out: RawStruct = {};
        applyStruct(out, item, shape, { ...where, prefix: `${where.prefix}[${i}]` });
        return out;
      });
    }
    case 'raw':
      return toJson(value, where);
    case 'any':
      if (value === null) return null;
      if (!Array.isArray(value)) throw shapeError(where, where.prefix, 'a list', value);
      return value.map((item) => toJson(item, where));
  }
}

/** sigs.k8s.io/yaml's coercion of a scalar read into a Go string field. */
function toGoString(value: GoValue, where: Where): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof GoInt) return value.value.toString();
  if (value instanceof GoFloat) return formatGoFloat(value.value, 32);
  throw shapeError(where, where.prefix, 'a string', value);
}

/** A value kept as interface{}: what Go's JSON round trip leaves (numbers become float64). */
function toJson(value: GoValue, where: Where): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof GoInt) return Number(value.value);
  if (value instanceof GoFloat) {
    if (!Number.isFinite(value.value)) {
      throw new ChartYamlError(where.prefix, `${where.source}: "${where.prefix}" holds ${value.value}, which JSON cannot represent`);
    }
    return value.value;
  }
  if (Array.isArray(value)) return value.map((v) => toJson(v, where));
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of value) setOwn(out, k, toJson(v, where));
  return out;
}

/**
 * `obj[key] = value` for a key from the chart: assignment to "__proto__"
 * would set the prototype and lose the entry, where Go keeps it as a map key.
 */
export function setOwn<T>(obj: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Keys in the order encoding/json sees them: json.Marshal sorts map keys bytewise. */
function sortedForJson(map: GoMap): [string, GoValue][] {
  return [...map.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function matchField(key: string, fields: Record<string, Kind>): string | undefined {
  // Own keys only: `key in fields` would match "constructor" or "__proto__".
  if (Object.hasOwn(fields, key)) return key;
  const lower = asciiLower(key);
  return Object.keys(fields).find((f) => asciiLower(f) === lower);
}

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function describe(value: GoValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Map) return 'a mapping';
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (value instanceof GoInt || value instanceof GoFloat) return `the number ${toGoString(value, { source: '', prefix: '' })}`;
  return `the string ${JSON.stringify(value)}`;
}

function shapeError(where: Where, field: string, expected: string, got: GoValue): ChartYamlError {
  const name = field || '(document)';
  const subject = field ? `"${field}"` : 'the document';
  return new ChartYamlError(name, `${where.source}: ${subject} must be ${expected}, got ${describe(got)}`);
}
