/**
 * Helm's LoadFiles: turns a chart's file list (from a folder walk or an
 * archive) into the parts Helm keeps, in the order Helm writes them.
 *
 * - Chart.yaml becomes metadata (re-marshalled on packaging, see metadata.ts).
 * - Chart.lock / requirements.lock become the lock, re-marshalled as
 *   Chart.lock for v2 charts and dropped for v1 (where requirements.* stay as
 *   plain files); requirements.yaml is applied over Chart.yaml.
 * - values.yaml must be YAML mappings; values.schema.json must be JSON.
 * - `charts/<x>/…` and `charts/<x>.tgz` are dependencies; `charts/*.prov`
 *   stays a file; names starting with "_" or "." under charts/ are dropped.
 * Helm orders dependencies by Go map iteration (random from run to run); we
 * sort them by their name under charts/ so output is reproducible.
 */
import { ChartYamlError, NotAChartError } from '../errors.js';
import { decodeUtf8 } from './archive.js';
import { GoYamlError, decodeGoYamlAll } from './go-yaml-decode.js';
import { type ChartLock, marshalChartLock, parseChartLock } from './lock.js';
import { decodeChartYaml, validateRawMetadata } from './metadata.js';
import type { ChartMetadata } from './metadata-types.js';
import { oneLine, shown } from './show.js';
import { readTarGz } from './tar-read.js';

export interface ChartFile {
  /** Path inside the chart, "/"-separated, e.g. "templates/service.yaml". */
  name: string;
  /** Contents as Helm stores them (a leading UTF-8 BOM removed). */
  data: Uint8Array;
}

export interface LoadedChart {
  metadata: ChartMetadata;
  /** Chart.yaml as written in the source (BOM removed). */
  chartYamlText: string;
  /**
   * Everything but Chart.yaml and the dependencies, in Helm's archive order:
   * Chart.lock (as Helm rewrites it), values.yaml, values.schema.json,
   * templates/…, then the other files in walk order.
   */
  files: ChartFile[];
  /** Subcharts from charts/, sorted by their folder or file name there. */
  dependencies: LoadedChart[];
  /** Things Helm would log: followed symlinks, deprecated requirements files. */
  warnings: string[];
}

export interface AssembleContext {
  /** Names the chart in messages (folder path or archive name). */
  label: string;
  /** Path of this chart inside the top chart, "" or e.g. "charts/sub/". */
  prefix?: string;
}

export async function assembleChart(files: ChartFile[], ctx: AssembleContext): Promise<LoadedChart> {
  const prefix = ctx.prefix ?? '';
  const chartYaml = files.find((f) => f.name === 'Chart.yaml');
  if (!chartYaml) {
    throw new NotAChartError(`${ctx.label}: ${shown(`${prefix}Chart.yaml`)} file is missing`, {
      hint:
        prefix.startsWith('charts/') || prefix.includes('/charts/')
          ? 'charts/ may hold only subcharts: folders with a Chart.yaml, or .tgz archives'
          : 'point at a chart folder; if Chart.yaml exists, check that .helmignore does not drop it (a "!pattern" line ignores everything it does not match)',
    });
  }
  const source = shown(`${prefix}Chart.yaml`);
  const chartYamlText = text(chartYaml, () => new ChartYamlError('yaml', `${source} is not valid UTF-8 text`));
  const raw = decodeChartYaml(chartYamlText, source);
  const isV1 = raw.apiVersion === undefined || raw.apiVersion === '' || raw.apiVersion === 'v1';
  const warnings: string[] = [];

  let lock: ChartLock | undefined;
  let values: ChartFile | undefined;
  let schema: ChartFile | undefined;
  const templates: ChartFile[] = [];
  const others: ChartFile[] = [];
  const subcharts = new Map<string, ChartFile[]>();
  for (const f of files) {
    const where = shown(`${prefix}${f.name}`);
    if (f.name === 'Chart.yaml') continue;
    if (f.name === 'Chart.lock') {
      lock = parseChartLock(text(f), where);
    } else if (f.name === 'values.yaml') {
      checkValues(text(f), where);
      values = f;
    } else if (f.name === 'values.schema.json') {
      checkJson(text(f), where);
      schema = f;
    } else if (f.name === 'requirements.yaml') {
      if (!isV1) warnings.push(`${where}: dependencies are handled in Chart.yaml since apiVersion "v2"; migrate them there`);
      decodeChartYaml(text(f), where, raw);
      if (isV1) others.push(f);
    } else if (f.name === 'requirements.lock') {
      if (!isV1) warnings.push(`${where}: dependency locking is handled in Chart.lock since apiVersion "v2"`);
      lock = parseChartLock(text(f), where);
      if (isV1) others.push(f);
    } else if (f.name.startsWith('templates/')) {
      templates.push(f);
    } else if (f.name.startsWith('charts/')) {
      if (f.name.endsWith('.prov')) {
        others.push(f);
        continue;
      }
      const inner = f.name.slice('charts/'.length);
      const cname = inner.split('/')[0]!;
      const list = subcharts.get(cname) ?? [];
      list.push({ name: inner, data: f.data });
      subcharts.set(cname, list);
    } else {
      others.push(f);
    }
  }
  const metadata = validateRawMetadata(raw, source);

  const dependencies: LoadedChart[] = [];
  const byName = new Map<string, string>();
  const cnames = [...subcharts.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const cname of cnames) {
    if (cname.startsWith('_') || cname.startsWith('.')) continue;
    const subPrefix = `${prefix}charts/${cname}/`;
    const subName = shown(`${prefix}charts/${cname}`);
    const list = subcharts.get(cname)!;
    let dep: LoadedChart;
    if (cname.endsWith('.tgz')) {
      const file = list[0]!;
      if (file.name !== cname) {
        throw new NotAChartError(`${ctx.label}: ${subName} is a folder; a name ending in .tgz must be a chart archive`, {
          hint: 'rename the folder, or package it into that .tgz',
        });
      }
      const unpacked = await readTarGz(file.data, { label: subName, keep: () => true });
      const inner = [...unpacked.files].map(([name, data]) => ({ name, data }));
      dep = await assembleChart(inner, { label: `${ctx.label}: ${subName}`, prefix: '' });
    } else {
      const inner = list.filter((f) => f.name.includes('/')).map((f) => ({ name: f.name.slice(cname.length + 1), data: f.data }));
      dep = await assembleChart(inner, { label: ctx.label, prefix: subPrefix });
    }
    const seen = byName.get(dep.metadata.name);
    if (seen !== undefined) {
      throw new NotAChartError(
        `${ctx.label}: ${shown(`${prefix}charts/`)} holds two subcharts named "${dep.metadata.name}" (${shown(seen)} and ${shown(cname)})`,
        {
          hint: 'keep one of them; Helm would write both into the archive under the same folder',
        },
      );
    }
    byName.set(dep.metadata.name, cname);
    warnings.push(...dep.warnings);
    dependencies.push(dep);
  }

  const ordered: ChartFile[] = [];
  // Helm writes the lock only for v2 charts.
  if (lock && metadata.apiVersion === 'v2') ordered.push({ name: 'Chart.lock', data: Buffer.from(marshalChartLock(lock)) });
  if (values) ordered.push(values);
  if (schema) ordered.push(schema);
  ordered.push(...templates, ...others);
  return { metadata, chartYamlText, files: ordered, dependencies, warnings };
}

function text(f: ChartFile, onError?: () => Error): string {
  return decodeUtf8(
    f.data,
    onError ?? (() => new NotAChartError(`${shown(f.name)} is not valid UTF-8 text`, { hint: 'save the file as UTF-8' })),
  );
}

/** Helm 4 reads every document of values.yaml into a map; Helm 3 the first. */
function checkValues(content: string, where: string): void {
  let docs;
  try {
    docs = decodeGoYamlAll(content);
  } catch (err) {
    if (!(err instanceof GoYamlError)) throw err;
    const at = err.line === undefined ? '' : ` (line ${err.line})`;
    throw new NotAChartError(`${where}: not valid YAML${at}: ${err.message}`, { hint: `fix ${where}` });
  }
  for (const doc of docs) {
    if (doc !== null && !(doc instanceof Map)) {
      throw new NotAChartError(`${where}: must be a YAML mapping of values, not ${Array.isArray(doc) ? 'a list' : 'a single value'}`, {
        hint: `fix ${where}`,
      });
    }
  }
}

function checkJson(content: string, where: string): void {
  try {
    JSON.parse(content);
  } catch (err) {
    throw new NotAChartError(`${where}: invalid JSON (${oneLine((err as Error).message)})`, { hint: `fix ${where}` });
  }
}
