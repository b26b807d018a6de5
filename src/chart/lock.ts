/**
 * Chart.lock as Helm packages it: Helm loads the lock (Chart.lock, or the
 * older requirements.lock) into its Lock struct and writes it back with
 * sigs.k8s.io/yaml, so the archive holds a normalised copy: keys sorted,
 * `generated` as a quoted RFC 3339 time with trailing zeros trimmed and a zero
 * offset written "Z", `dependencies: null` when there are none.
 */
import { NotAChartError } from '../errors.js';
import { GoYamlError, decodeGoYaml } from './go-yaml-decode.js';
import { GoYamlMarshalError, type JsonValue, marshalGoYaml } from './go-yaml-encode.js';
import { DEPENDENCY_FIELDS, type Kind, type RawStruct, applyStruct } from './metadata-decode.js';

export interface ChartLock {
  /** RFC 3339 time as Go prints it, e.g. "2024-01-02T03:04:05.1+01:00". */
  generated: string;
  digest: string;
  /** Locked dependencies as written (Helm does not validate them); null entries are kept. */
  dependencies: ({ [key: string]: JsonValue } | null)[] | null;
}

const LOCK_FIELDS: Record<string, Kind> = { generated: 'raw', digest: 'string', dependencies: 'dependencies' };
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Parses Chart.lock / requirements.lock text as Helm's loader does. */
export function parseChartLock(text: string, source = 'Chart.lock'): ChartLock {
  const bad = (why: string) =>
    new NotAChartError(`${source}: ${why}`, { hint: `fix ${source} or regenerate it with "helm dependency update"` });
  const raw: RawStruct = {};
  try {
    applyStruct(raw, decodeGoYaml(text), LOCK_FIELDS, { source, prefix: '' });
  } catch (err) {
    if (err instanceof GoYamlError) throw bad(`not valid YAML: ${err.message}`);
    if (err instanceof Error) throw bad(err.message.replace(`${source}: `, ''));
    throw err;
  }
  let generated = ZERO_TIME;
  if (raw.generated !== undefined && raw.generated !== null) {
    if (typeof raw.generated !== 'string') throw bad('"generated" must be an RFC 3339 time string');
    const t = normalizeRfc3339(raw.generated);
    if (!t) throw bad(`"generated" is not an RFC 3339 time: ${JSON.stringify(raw.generated)}`);
    generated = t;
  }
  const deps = raw.dependencies as (RawStruct | null)[] | null | undefined;
  const lock: ChartLock = {
    generated,
    digest: typeof raw.digest === 'string' ? raw.digest : '',
    dependencies: deps ? deps.map((d) => (d === null ? null : lockDependencyToJson(d))) : null,
  };
  try {
    marshalChartLock(lock);
  } catch (e) {
    if (e instanceof GoYamlMarshalError) throw bad(`a value ${e.message}: ${JSON.stringify(e.value)}`);
    throw e;
  }
  return lock;
}

/** The lock as Helm writes it into the archive. */
export function marshalChartLock(lock: ChartLock): string {
  return marshalGoYaml({ generated: lock.generated, digest: lock.digest, dependencies: lock.dependencies });
}

function lockDependencyToJson(d: RawStruct): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(DEPENDENCY_FIELDS)) {
    const v = d[key] as JsonValue | undefined;
    if (v === undefined || v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[key] = v;
  }
  out.name = typeof d.name === 'string' ? d.name : '';
  out.repository = typeof d.repository === 'string' ? d.repository : '';
  return out;
}

/**
 * Go's strict RFC 3339 parse followed by its RFC3339Nano format. Undefined
 * when Go's time.Time.UnmarshalJSON would refuse the text.
 */
export function normalizeRfc3339(s: string): string | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || Number(d) < 1 || Number(d) > days) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  let z = zone!;
  if (z !== 'Z') {
    if (Number(z.slice(1, 3)) > 23 || Number(z.slice(4)) > 59) return undefined;
    if (z.slice(1) === '00:00') z = 'Z';
  }
  const nanos = (frac ?? '').slice(0, 9).replace(/0+$/, '');
  return `${y}-${mo}-${d}T${h}:${mi}:${sec}${nanos ? `.${nanos}` : ''}${z}`;
}
