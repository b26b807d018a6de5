/**
 * `helm package`, reproducibly. The archive holds what Helm's would (same
 * files, same bytes, same order: Chart.yaml as Helm re-marshals it, Chart.lock,
 * values.yaml, values.schema.json, templates, other files, then each
 * dependency under charts/<name>/), but every entry gets the same fixed mtime
 * and gzip gets a fixed header, so the same chart gives the same bytes on
 * every run. Helm stamps file or current times instead, so its bytes differ
 * from run to run; only the loaded chart is comparable.
 */
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { ChartYamlError, FileNotFoundError, FileWriteError, UsageError } from '../errors.js';
import { tempPathFor, toWriteError } from '../fs/atomic-write.js';
import type { LoadedChart } from './assemble.js';
import { DigestStream } from './digest.js';
import { loadChartDir } from './load.js';
import { archivedMetadata, isHelmVersion, normalizeMetadata } from './metadata.js';
import { marshalChartYaml, sanitizeString } from './metadata-encode.js';
import type { ChartMetadata } from './metadata-types.js';
import { MAX_TAR_MTIME, tarEnd, tarEntryBlocks } from './tar-write.js';

/**
 * The mtime of every entry when neither `mtime` nor SOURCE_DATE_EPOCH is
 * given: 1980-01-01T00:00:00Z, the usual "reproducible" epoch (zip's first
 * representable date, also used by Go module zips), so output never depends
 * on when or where it was built.
 */
export const DEFAULT_MTIME = new Date(Date.UTC(1980, 0, 1));

export interface PackageChartOptions {
  chartDir: string;
  /** Folder to write into; default the current directory. It must exist. */
  destination?: string;
  /** Overrides Chart.yaml's version (must be what Helm accepts as SemVer). */
  version?: string;
  /** Overrides Chart.yaml's appVersion. */
  appVersion?: string;
  /** Entry mtime; default SOURCE_DATE_EPOCH if set, else DEFAULT_MTIME. */
  mtime?: Date;
}

export interface PackagedChart {
  fileName: string;
  /** The metadata as Helm will load it from the archive (what a .prov must carry). */
  metadata: ChartMetadata;
  /** What Helm would log while packaging (followed symlinks, deprecated files). */
  warnings: string[];
  /** Hex sha256 of the archive bytes. */
  sha256: string;
  size: number;
}

export interface PackageResult extends PackagedChart {
  path: string;
}

/** Packages a chart folder into `<destination>/<name>-<version>.tgz`, written atomically. */
export async function packageChart(opts: PackageChartOptions): Promise<PackageResult> {
  const { chart, metadata, archived, mtime } = await prepare(opts);
  const fileName = `${metadata.name}-${metadata.version}.tgz`;
  const dest = resolve(opts.destination ?? process.cwd());
  const info = await stat(dest).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new FileNotFoundError(dest, 'destination folder', { cause: err });
    throw new FileWriteError(dest, {
      hint: err.code === 'ENOTDIR' ? 'a part of the destination path is a file, not a folder' : undefined,
      cause: err,
    });
  });
  if (!info.isDirectory()) throw new FileWriteError(dest, { hint: 'the destination must be a folder' });

  const path = join(dest, fileName);
  const tmp = tempPathFor(path);
  const digest = new DigestStream();
  try {
    // Streamed to a temp file, synced, then renamed: readers see the old
    // archive or the complete new one, even after a crash.
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await pipeline(...archiveStages(chart, metadata, mtime), digest, (source: AsyncIterable<Buffer>) => writeAll(fh, source));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw toWriteError(path, err);
  }
  return { path, fileName, metadata: archived, warnings: chart.warnings, sha256: digest.hex(), size: digest.size };
}

/**
 * Writes a stream to an open file. Not fh.createWriteStream: with autoClose
 * off (needed to fsync before closing) it keeps a reference that makes
 * fh.close() wait forever.
 */
async function writeAll(fh: FileHandle, source: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length;) at += (await fh.write(chunk, at, chunk.length - at)).bytesWritten;
  }
}

/** Same archive, in memory (for tests and for callers that upload directly). */
export async function packageChartToBuffer(opts: Omit<PackageChartOptions, 'destination'>): Promise<PackagedChart & { data: Buffer }> {
  const { chart, metadata, archived, mtime } = await prepare(opts);
  const chunks: Buffer[] = [];
  const digest = new DigestStream();
  await pipeline(...archiveStages(chart, metadata, mtime), digest, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return {
    data: Buffer.concat(chunks),
    fileName: `${metadata.name}-${metadata.version}.tgz`,
    metadata: archived,
    warnings: chart.warnings,
    sha256: digest.hex(),
    size: digest.size,
  };
}

/** The entry mtime in seconds: explicit, else SOURCE_DATE_EPOCH, else DEFAULT_MTIME. */
export function resolveMtime(mtime: Date | undefined, env: NodeJS.ProcessEnv = process.env): number {
  let seconds: number;
  if (mtime) {
    seconds = Math.floor(mtime.getTime() / 1000);
    if (!Number.isFinite(seconds)) throw new UsageError('the mtime is not a valid date');
  } else if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '') {
    if (!/^[0-9]+$/.test(env.SOURCE_DATE_EPOCH)) {
      throw new UsageError(`SOURCE_DATE_EPOCH must be a whole number of seconds, got ${JSON.stringify(env.SOURCE_DATE_EPOCH)}`, {
        hint: 'set it to e.g. $(git log -1 --format=%ct), or unset it',
      });
    }
    seconds = Number(env.SOURCE_DATE_EPOCH);
  } else {
    seconds = DEFAULT_MTIME.getTime() / 1000;
  }
  if (seconds < 0 || seconds > MAX_TAR_MTIME) throw new UsageError(`the mtime ${seconds} does not fit a tar header (1970 to 2242)`);
  return seconds;
}

interface Prepared {
  chart: LoadedChart;
  /** Written into the archive's Chart.yaml. */
  metadata: ChartMetadata;
  /** Read back from the archive by Helm. */
  archived: ChartMetadata;
  mtime: number;
}

async function prepare(opts: Omit<PackageChartOptions, 'destination'>): Promise<Prepared> {
  const mtime = resolveMtime(opts.mtime);
  const chart = await loadChartDir(opts.chartDir);
  let metadata = chart.metadata;
  if (opts.version !== undefined && opts.version !== '') {
    if (!isHelmVersion(opts.version)) {
      throw new ChartYamlError('version', `version override ${JSON.stringify(opts.version)} is not valid SemVer`, {
        hint: 'pass a SemVer 2 version such as 1.2.3 or 1.2.3-rc.1',
      });
    }
    metadata = { ...metadata, version: opts.version };
  }
  if (opts.appVersion !== undefined && opts.appVersion !== '') {
    // Helm would silently rewrite these characters; refusing is clearer.
    if (sanitizeString(opts.appVersion) !== opts.appVersion) {
      throw new ChartYamlError(
        'appVersion',
        `appVersion override ${JSON.stringify(opts.appVersion)} holds control or whitespace characters other than spaces`,
        {
          hint: 'pass a plain one-line appVersion',
        },
      );
    }
    metadata = { ...metadata, appVersion: opts.appVersion };
  }
  metadata = normalizeMetadata(metadata);
  checkDependencies(chart, metadata);
  const requirements = chart.files.find((f) => f.name === 'requirements.yaml');
  const archived = archivedMetadata(marshalChartYaml(metadata), requirements && Buffer.from(requirements.data).toString('utf8'));
  return { chart, metadata, archived, mtime };
}

/** `helm package` refuses a chart whose Chart.yaml lists dependencies missing from charts/. */
function checkDependencies(chart: LoadedChart, metadata: ChartMetadata): void {
  const present = new Set(chart.dependencies.map((d) => d.metadata.name));
  const missing = (metadata.dependencies ?? []).map((d) => d.name).filter((n) => !present.has(n));
  if (missing.length > 0) {
    throw new ChartYamlError('dependencies', `found in Chart.yaml, but missing in charts/ directory: ${missing.join(', ')}`, {
      hint: 'run "helm dependency build" (or put the subcharts under charts/) and package again',
    });
  }
}

/** tar → gzip → fixed header, as pipeline stages. */
function archiveStages(chart: LoadedChart, metadata: ChartMetadata, mtime: number): [Readable, Transform, Transform] {
  const tar = Readable.from(coalesce(tarBlocks(chart, metadata, mtime), 64 * 1024), { objectMode: false });
  return [tar, createGzip({ level: constants.Z_BEST_COMPRESSION }), new FixGzipHeader()];
}

/**
 * Joins the many small tar blocks (a 512-byte header, a file, its padding…)
 * into chunks of about `size` bytes: each chunk is one trip to zlib's thread,
 * so a chart of small files otherwise pays hundreds of them. Memory stays
 * bounded by `size` plus one file.
 */
function* coalesce(blocks: Iterable<Uint8Array>, size: number): Generator<Buffer> {
  let pending: Uint8Array[] = [];
  let length = 0;
  for (const block of blocks) {
    pending.push(block);
    length += block.length;
    if (length >= size) {
      yield Buffer.concat(pending, length);
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}

function* tarBlocks(chart: LoadedChart, metadata: ChartMetadata, mtime: number): Generator<Uint8Array> {
  yield* chartBlocks(chart, metadata, metadata.name, mtime);
  yield tarEnd();
}

function* chartBlocks(chart: LoadedChart, metadata: ChartMetadata, base: string, mtime: number): Generator<Uint8Array> {
  yield* tarEntryBlocks({ path: `${base}/Chart.yaml`, data: Buffer.from(marshalChartYaml(metadata)) }, mtime);
  for (const f of chart.files) yield* tarEntryBlocks({ path: `${base}/${f.name}`, data: f.data }, mtime);
  for (const dep of chart.dependencies) yield* chartBlocks(dep, dep.metadata, `${base}/charts/${dep.metadata.name}`, mtime);
}

/**
 * zlib writes mtime 0 and the OS it was built for into the gzip header; we
 * pin the OS byte to 255 ("unknown", as Go's gzip writer does) so the bytes
 * do not depend on the platform.
 */
class FixGzipHeader extends Transform {
  private seen = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    if (this.seen <= 9 && this.seen + chunk.length > 9) {
      chunk = Buffer.from(chunk);
      chunk[9 - this.seen] = 0xff;
    }
    this.seen += chunk.length;
    done(null, chunk);
  }
}
