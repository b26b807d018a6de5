/**
 * Reading a packaged chart (.tgz) without unpacking it: its metadata, name and
 * file list, with unsafe archives refused (see tar-read.ts). Also the streaming
 * sha256 other modules use for archive digests.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ChartArchiveError, ChartYamlError, FileNotFoundError, NotAChartError } from '../errors.js';
import { archivedMetadata } from './metadata.js';
import type { ChartMetadata } from './metadata-types.js';
import { MAX_CHART_BYTES, MAX_FILE_BYTES, readTarGz } from './tar-read.js';

export interface ReadChartArchiveOptions {
  /** Limit on the decompressed tar stream; default 100 MiB (Helm's limit). */
  maxBytes?: number;
  /** Limit on any one file; default 5 MiB (Helm refuses larger files). */
  maxFileBytes?: number;
}

export interface ChartArchiveInfo {
  /** The metadata Helm loads from this archive (Chart.yaml, plus requirements.yaml if present). */
  metadata: ChartMetadata;
  /** The top chart's Chart.yaml as stored (UTF-8 BOM removed). */
  chartYamlText: string;
  /** The archive's top folder, which Helm names after the chart. */
  chartName: string;
  /** Every file's path as stored, e.g. "demo/templates/service.yaml", in archive order. */
  entries: string[];
}

/**
 * Reads a chart archive from a path or from bytes. Not gzip → NotAChartError;
 * bad gzip/tar, unsafe or oversized entries → ChartArchiveError; no top-level
 * Chart.yaml → NotAChartError; a bad Chart.yaml → ChartYamlError.
 */
export async function readChartArchive(input: string | Uint8Array, opts: ReadChartArchiveOptions = {}): Promise<ChartArchiveInfo> {
  const label = typeof input === 'string' ? basename(input) : 'chart archive';
  const contents = await readTarGz(input, {
    label,
    maxBytes: opts.maxBytes ?? MAX_CHART_BYTES,
    maxFileBytes: opts.maxFileBytes ?? MAX_FILE_BYTES,
    keep: (path) => path === 'Chart.yaml' || path === 'requirements.yaml',
  });
  const data = contents.files.get('Chart.yaml');
  if (!data) {
    throw new NotAChartError(`${label}: Chart.yaml file is missing`, {
      hint: `the archive's top folder "${contents.top}" must hold Chart.yaml`,
    });
  }
  const chartYamlText = decodeUtf8(data, () => new ChartYamlError('yaml', `${label}: ${contents.top}/Chart.yaml is not valid UTF-8 text`));
  const requirements = contents.files.get('requirements.yaml');
  const requirementsText =
    requirements &&
    decodeUtf8(requirements, () => new ChartYamlError('yaml', `${label}: ${contents.top}/requirements.yaml is not valid UTF-8 text`));
  const metadata = archivedMetadata(chartYamlText, requirementsText, `${contents.top}/`);
  return { metadata, chartYamlText, chartName: contents.top, entries: contents.entries };
}

/** Hex sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), hash);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(path);
    throw new ChartArchiveError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return hash.digest('hex');
}

/** Strict UTF-8 decoding: go-yaml refuses invalid UTF-8, so must we. */
export function decodeUtf8(data: Uint8Array, onError: () => Error): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw onError();
  }
}
