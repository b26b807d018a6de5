/**
 * Reading a packaged chart (.tgz) without unpacking it: its metadata, name and
 * file list and digest, with unsafe archives refused (see tar-read.ts).
 */
import { basename } from 'node:path';
import { ChartYamlError, NotAChartError } from '../errors.js';
import { archivedMetadata } from './metadata.js';
import { shown } from './show.js';
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
  /**
   * Hex sha256 of the whole archive: of the same bytes the metadata was read
   * from, so a caller never checks one version of a file and hashes another.
   */
  sha256: string;
  /** The archive's size in bytes. */
  size: number;
}

/**
 * Reads a chart archive from a path or from bytes. Not gzip → NotAChartError;
 * bad gzip/tar, unsafe or oversized entries → ChartArchiveError; no top-level
 * Chart.yaml → NotAChartError; a bad Chart.yaml → ChartYamlError; a path
 * that is missing → FileNotFoundError, a folder → NotAChartError, unreadable
 * → FileReadError.
 */
export async function readChartArchive(input: string | Uint8Array, opts: ReadChartArchiveOptions = {}): Promise<ChartArchiveInfo> {
  const label = typeof input === 'string' ? shown(basename(input)) : 'chart archive';
  const contents = await readTarGz(input, {
    label,
    maxBytes: opts.maxBytes ?? MAX_CHART_BYTES,
    maxFileBytes: opts.maxFileBytes ?? MAX_FILE_BYTES,
    keep: (path) => path === 'Chart.yaml' || path === 'requirements.yaml',
  });
  const data = contents.files.get('Chart.yaml');
  if (!data) {
    throw new NotAChartError(`${label}: Chart.yaml file is missing`, {
      hint: `the archive's top folder ${JSON.stringify(contents.top)} must hold Chart.yaml`,
    });
  }
  // The top folder's name comes from the archive: quoted if it could break the message line.
  const top = `${shown(contents.top)}/`;
  const chartYamlText = decodeUtf8(data, () => new ChartYamlError('yaml', `${label}: ${top}Chart.yaml is not valid UTF-8 text`));
  const requirements = contents.files.get('requirements.yaml');
  const requirementsText =
    requirements && decodeUtf8(requirements, () => new ChartYamlError('yaml', `${label}: ${top}requirements.yaml is not valid UTF-8 text`));
  const metadata = archivedMetadata(chartYamlText, requirementsText, top);
  return { metadata, chartYamlText, chartName: contents.top, entries: contents.entries, sha256: contents.sha256, size: contents.size };
}

/** Strict UTF-8 decoding: go-yaml refuses invalid UTF-8, so must we. */
export function decodeUtf8(data: Uint8Array, onError: () => Error): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    throw onError();
  }
}
