/**
 * The blobs `helm push` stores, byte for byte (Helm 3.17 and 4.1 write the
 * same): the config is json.Marshal of the loaded chart.Metadata, the
 * manifest json.Marshal of an image-spec Manifest with the layers sorted by
 * digest and annotations from generateOCIAnnotations (pkg/registry/util.go in
 * 3.17, chart.go in 4.1). Same bytes → same digests → a chart pushed by
 * chartprov is the chart Helm would have pushed.
 */
import type { ChartMetadata } from '../chart/metadata-types.js';
import { metadataToJson } from '../chart/metadata-encode.js';
import type { Descriptor } from './descriptor.js';
import { type GoJsonValue, goObject, goString, goStringMap, goValue } from './go-json-marshal.js';

export { parseHelmManifest, type HelmManifest } from './helm-manifest-parse.js';

// Go struct field order (helm pkg/chart Metadata, Maintainer, Dependency).
const METADATA_FIELDS = [
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
] as const;
const MAINTAINER_FIELDS = ['name', 'email', 'url'] as const;
// JSON order differs from the YAML one (which sorts): version sits between name and repository.
const DEPENDENCY_FIELDS = ['name', 'version', 'repository', 'condition', 'tags', 'enabled', 'import-values', 'alias'] as const;

type JsonObject = { [key: string]: GoJsonValue };

/**
 * The config blob. `md` is the metadata as Helm's loader sees it: for an
 * apiVersion v1 chart that includes the dependencies of its requirements.yaml.
 */
export function helmConfigJson(md: ChartMetadata): string {
  // metadataToJson applies Validate's sanitizing and omitempty; only the order is left to us.
  const json = metadataToJson(md) as JsonObject;
  return goObject(
    METADATA_FIELDS.filter((k) => k in json).map((k) => {
      const v = json[k]!;
      if (k === 'maintainers') return [k, structList(v, MAINTAINER_FIELDS)];
      if (k === 'dependencies') return [k, structList(v, DEPENDENCY_FIELDS)];
      return [k, goValue(v)];
    }),
  );
}

function structList(v: GoJsonValue, fields: readonly string[]): string {
  const items = v as (JsonObject | null)[];
  return `[${items.map((item) => (item === null ? 'null' : goObject(fields.filter((f) => f in item).map((f) => [f, goValue(item[f]!)])))).join(',')}]`;
}

export interface HelmAnnotationOptions {
  /**
   * org.opencontainers.image.created. A string is used as is; a Date is
   * written as Go's time.RFC3339 in UTC; omitted → now. `helm push` (3.17 and
   * 4.1) passes the .tgz file's mtime in the local time zone, so on a machine
   * not on UTC it writes an offset (use formatRfc3339 with the offset to
   * match). Neither version reads SOURCE_DATE_EPOCH.
   */
  created?: Date | string;
}

const ANNOTATION = {
  created: 'org.opencontainers.image.created',
  authors: 'org.opencontainers.image.authors',
  url: 'org.opencontainers.image.url',
  source: 'org.opencontainers.image.source',
  version: 'org.opencontainers.image.version',
  title: 'org.opencontainers.image.title',
  description: 'org.opencontainers.image.description',
} as const;

/** The chart's own annotations cannot replace these two; they may replace every other one. */
const IMMUTABLE_ANNOTATIONS: readonly string[] = [ANNOTATION.version, ANNOTATION.title];

/** Helm's generateOCIAnnotations: manifest annotations from the chart metadata. */
export function helmManifestAnnotations(md: ChartMetadata, opts: HelmAnnotationOptions = {}): Record<string, string> {
  const json = metadataToJson(md) as JsonObject;
  const str = (k: string) => (typeof json[k] === 'string' ? (json[k] as string) : '');
  const out = new Map<string, string>();
  // addToMap: a value that is only whitespace is left out (but a kept one is not trimmed).
  const add = (key: string, value: string) => {
    if (!isGoBlank(value)) out.set(key, value);
  };
  add(ANNOTATION.description, str('description'));
  add(ANNOTATION.title, str('name'));
  add(ANNOTATION.version, str('version'));
  add(ANNOTATION.url, str('home'));
  const { created } = opts;
  add(
    ANNOTATION.created,
    typeof created === 'string' && created !== '' ? created : formatRfc3339(created instanceof Date ? created : new Date()),
  );
  const sources = json.sources as string[] | undefined;
  if (sources?.length) add(ANNOTATION.source, sources[0]!);
  const maintainers = (json.maintainers as (JsonObject | null)[] | undefined) ?? [];
  if (maintainers.length) add(ANNOTATION.authors, maintainers.map(authorOf).join(', '));
  // Unlike the fields above, chart annotations go in even when empty.
  for (const [key, value] of Object.entries((json.annotations as Record<string, string> | undefined) ?? {})) {
    if (!IMMUTABLE_ANNOTATIONS.includes(key)) out.set(key, value);
  }
  return Object.fromEntries(out);
}

function authorOf(m: JsonObject | null): string {
  const name = typeof m?.name === 'string' ? m.name : '';
  const email = typeof m?.email === 'string' ? m.email : '';
  return email ? `${name} (${email})` : name;
}

/** strings.TrimSpace(s) == "": Go's unicode.IsSpace set. */
function isGoBlank(s: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/.test(s);
}

/**
 * Go's t.Format(time.RFC3339): whole seconds, `Z` for UTC, else ±hh:mm.
 * `utcOffsetMinutes` is east of UTC (for local time: -date.getTimezoneOffset()).
 */
export function formatRfc3339(date: Date, utcOffsetMinutes = 0): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  const shifted = new Date(date.getTime() + utcOffsetMinutes * 60_000);
  const base = shifted.toISOString().replace(/\.\d{3}Z$/, '');
  if (utcOffsetMinutes === 0) return `${base}Z`;
  const abs = Math.abs(utcOffsetMinutes);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${base}${utcOffsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export interface HelmManifestParts {
  config: Descriptor;
  chart: Descriptor;
  prov?: Descriptor;
  annotations?: Record<string, string>;
}

/**
 * The manifest blob: no top-level mediaType (Helm sets none), layers sorted
 * by digest as ORAS 1 did and Helm 4 still does, so a .prov can come first.
 */
export function helmManifestJson(parts: HelmManifestParts): string {
  const layers = parts.prov ? [parts.chart, parts.prov] : [parts.chart];
  layers.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const fields: [string, string][] = [
    ['schemaVersion', '2'],
    ['config', descriptorJson(parts.config)],
    ['layers', `[${layers.map(descriptorJson).join(',')}]`],
  ];
  if (parts.annotations && Object.keys(parts.annotations).length) fields.push(['annotations', goStringMap(parts.annotations)]);
  return goObject(fields);
}

/** image-spec Descriptor field order: mediaType, digest, size, urls, annotations, data, platform, artifactType. */
export function descriptorJson(d: Descriptor): string {
  const fields: [string, string][] = [
    ['mediaType', goString(d.mediaType)],
    ['digest', goString(d.digest)],
    ['size', String(d.size)],
  ];
  if (d.annotations && Object.keys(d.annotations).length) fields.push(['annotations', goStringMap(d.annotations)]);
  if (d.artifactType) fields.push(['artifactType', goString(d.artifactType)]);
  return goObject(fields);
}
