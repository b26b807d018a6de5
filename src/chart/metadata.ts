/**
 * Chart.yaml: parse it into Helm's model and validate it as `helm package`
 * does (writing it back the way Helm does is metadata-encode.ts).
 *
 * Helm does not copy Chart.yaml into the archive: it re-marshals the loaded
 * metadata (sigs.k8s.io/yaml, keys sorted, empty fields dropped, strings
 * sanitised). So `appVersion: 1.10` ends up as `appVersion: "1.1"` and
 * unknown fields disappear. We mirror that so Helm reads our archives the
 * same way it reads its own.
 */
import { ChartYamlError } from '../errors.js';
import { GoYamlError, decodeGoYaml } from './go-yaml-decode.js';
import { METADATA_FIELDS, type RawMetadata, type RawStruct, applyStruct } from './metadata-decode.js';
import { checkMarshallable, metadataToJson, sanitizeString } from './metadata-encode.js';
import type { ChartDependency, ChartMaintainer, ChartMetadata } from './metadata-types.js';

export interface ParseChartYamlOptions {
  /** Names the file in error messages; default "Chart.yaml". */
  source?: string;
}

/** Parses and validates Chart.yaml text into Helm's model of it. */
export function parseChartYaml(text: string, opts: ParseChartYamlOptions = {}): ChartMetadata {
  const source = opts.source ?? 'Chart.yaml';
  return validateRawMetadata(decodeChartYaml(text, source), source);
}

/**
 * The metadata Helm gets when it loads an archive: the archived Chart.yaml,
 * with a requirements.yaml beside it applied on top (Helm's loader does that
 * for any chart; v1 archives keep the file, so their dependencies come back
 * from it). This is what `helm package --sign` and `helm sign` put in a .prov.
 */
export function archivedMetadata(chartYamlText: string, requirementsText?: string, prefix = ''): ChartMetadata {
  const source = `${prefix}Chart.yaml`;
  const raw = decodeChartYaml(chartYamlText, source);
  if (requirementsText !== undefined) decodeChartYaml(requirementsText, `${prefix}requirements.yaml`, raw);
  return validateRawMetadata(raw, source);
}

/** Decodes without validating (Helm validates only after requirements.yaml is applied). */
export function decodeChartYaml(text: string, source = 'Chart.yaml', onto: RawMetadata = {}): RawMetadata {
  let doc;
  try {
    doc = decodeGoYaml(stripBom(text));
  } catch (err) {
    if (!(err instanceof GoYamlError)) throw err;
    const at = err.line === undefined ? '' : ` (line ${err.line})`;
    throw new ChartYamlError('yaml', `${source}: not valid YAML${at}: ${err.message}`, {
      hint: `fix the YAML syntax of ${source}`,
      cause: err,
    });
  }
  applyStruct(onto, doc, METADATA_FIELDS, { source, prefix: '' });
  return onto;
}

/**
 * Helm's Metadata.Validate plus the loader's defaults: a missing apiVersion
 * means v1, strings lose control characters and have whitespace turned into
 * spaces. We are stricter than Helm 3 in one place: an apiVersion other than
 * v1/v2 is refused (Helm 4 refuses it too, or reads it as a v3 chart).
 */
export function validateRawMetadata(raw: RawMetadata, source = 'Chart.yaml'): ChartMetadata {
  const err = (field: string, message: string) => new ChartYamlError(field, `${source}: ${message}`);
  const str = (field: string) => (typeof raw[field] === 'string' ? sanitizeString(raw[field] as string) : '');
  const apiVersion = typeof raw.apiVersion === 'string' && raw.apiVersion !== '' ? raw.apiVersion : 'v1';
  if (apiVersion !== 'v1' && apiVersion !== 'v2') {
    throw err('apiVersion', `"apiVersion" must be v1 or v2, got ${JSON.stringify(apiVersion)}`);
  }
  const name = str('name');
  if (name === '') throw err('name', '"name" is required');
  if (name === '.' || name === '..' || name.includes('/')) {
    throw err('name', `"name" is not a valid chart name: ${JSON.stringify(name)}`);
  }
  const version = typeof raw.version === 'string' ? raw.version : '';
  if (version === '') throw err('version', '"version" is required');
  if (!isHelmVersion(version)) throw err('version', `"version" is not valid SemVer: ${JSON.stringify(version)}`);
  const type = typeof raw.type === 'string' ? raw.type : '';
  if (type !== '' && type !== 'application' && type !== 'library') {
    throw err('type', `"type" must be application or library, got ${JSON.stringify(type)}`);
  }

  const md: ChartMetadata = { name, version, apiVersion };
  const put = <K extends keyof ChartMetadata>(key: K, value: ChartMetadata[K] | undefined | '') => {
    if (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)) md[key] = value as ChartMetadata[K];
  };
  put('home', str('home'));
  put('sources', strings(raw.sources));
  put('description', str('description'));
  put('keywords', strings(raw.keywords));
  put('maintainers', maintainers(raw.maintainers, err));
  put('icon', str('icon'));
  put('condition', str('condition'));
  put('tags', str('tags'));
  put('appVersion', str('appVersion'));
  if (raw.deprecated === true) md.deprecated = true;
  const annotations = raw.annotations as Record<string, string> | null | undefined;
  if (annotations && Object.keys(annotations).length > 0) md.annotations = { ...annotations };
  put('kubeVersion', str('kubeVersion'));
  put('dependencies', dependencies(raw.dependencies, err));
  put('type', type);
  checkMarshallable(metadataToJson(md), source);
  return md;
}

/** Re-validates a metadata object (e.g. after a version override) into Helm's model. */
export function normalizeMetadata(md: ChartMetadata, opts: ParseChartYamlOptions = {}): ChartMetadata {
  return validateRawMetadata(structuredClone(md) as unknown as RawMetadata, opts.source ?? 'Chart.yaml');
}

const LOOSE_SEMVER = /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * What `helm package` accepts as a version (Masterminds/semver NewVersion,
 * coercing mode): an optional "v", one to three numeric parts (leading zeros
 * allowed there, each fitting in uint64), then SemVer pre-release and build
 * parts, where numeric pre-release identifiers must not have leading zeros.
 * So "v1.2", "1" and "01.02.03" pass; "1.0.0-01", "1.2.3.4", "V1" do not.
 * The `semver` package's loose mode draws the line elsewhere (it rejects
 * "1" and "v1.2", accepts "=1.2.3"), hence this rule of our own.
 */
export function isHelmVersion(v: string): boolean {
  const m = LOOSE_SEMVER.exec(v);
  if (!m) return false;
  for (const part of [m[1], m[2], m[3]]) {
    if (part !== undefined && BigInt(part.replace('.', '')) > UINT64_MAX) return false;
  }
  const pre = m[5];
  return pre === undefined || pre.split('.').every((id) => !/^[0-9]+$/.test(id) || id.length === 1 || id[0] !== '0');
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? (value as string[]).map(sanitizeString) : undefined;
}

type Err = (field: string, message: string) => ChartYamlError;

function maintainers(value: unknown, err: Err): ChartMaintainer[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return (value as (RawStruct | null)[]).map((m, i) => {
    if (m === null) throw err('maintainers', `"maintainers[${i}]" is empty; maintainers must not contain empty or null entries`);
    const out: ChartMaintainer = {};
    for (const key of ['name', 'email', 'url'] as const) {
      const s = typeof m[key] === 'string' ? sanitizeString(m[key] as string) : '';
      if (s !== '') out[key] = s;
    }
    return out;
  });
}

const ALIAS = /^[a-zA-Z0-9_-]+$/;

function dependencies(value: unknown, err: Err): ChartDependency[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const seen = new Set<string>();
  return (value as (RawStruct | null)[]).map((d, i) => {
    if (d === null) throw err('dependencies', `"dependencies[${i}]" is empty; dependencies must not contain empty or null entries`);
    const s = (key: string) => (typeof d[key] === 'string' ? (d[key] as string) : '');
    const name = sanitizeString(s('name'));
    // Helm itself lets a nameless dependency through here, then fails at
    // package time because no subchart matches "". Saying so now is clearer.
    if (name === '') throw err('dependencies', `"dependencies[${i}].name" is required`);
    const alias = s('alias');
    if (alias !== '' && !ALIAS.test(alias)) {
      throw err(
        'dependencies',
        `"dependencies[${i}].alias" has characters other than letters, digits, "_" and "-": ${JSON.stringify(alias)}`,
      );
    }
    const key = alias || name;
    if (seen.has(key)) throw err('dependencies', `"dependencies" has more than one dependency with name or alias ${JSON.stringify(key)}`);
    seen.add(key);
    const out: ChartDependency = { name };
    const opt = (k: 'version' | 'repository' | 'condition', v: string) => v !== '' && (out[k] = v);
    opt('version', sanitizeString(s('version')));
    opt('repository', sanitizeString(s('repository')));
    opt('condition', sanitizeString(s('condition')));
    if (Array.isArray(d.tags) && d.tags.length > 0) out.tags = (d.tags as string[]).map(sanitizeString);
    if (d.enabled === true) out.enabled = true;
    if (Array.isArray(d['import-values']) && d['import-values'].length > 0) out['import-values'] = d['import-values'] as unknown[];
    if (alias !== '') out.alias = alias;
    return out;
  });
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
