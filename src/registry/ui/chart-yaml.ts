/**
 * A chart's Chart.yaml as its author wrote it, read from the archive in
 * storage. An archive too large to read for a page, or one that cannot be
 * read, shows the config blob instead (the same metadata as JSON, which
 * Helm writes from Chart.yaml), converted to YAML. What an archive holds
 * never changes (it is named by its digest): a cache keeps the text, or that
 * it cannot be read, so a page view does not decompress it again.
 */
import { stringify } from 'yaml';
import { readChartArchive } from '../../chart/archive.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { RegistryStorage } from '../storage/index.js';
import { readBlobBytes } from '../storage/blob-bytes.js';

// Charts are usually a few KiB to a few MiB; a page must not read hundreds of MiB.
const MAX_ARCHIVE_BYTES = 16 * 1024 * 1024;

export interface ChartYaml {
  text: string;
  from: 'archive' | 'config';
}

/** Chart.yaml texts by chart layer digest (null: the archive cannot be read), least recently used dropped first. */
export class ChartYamlCache {
  private readonly entries = new Map<string, string | null>();
  private chars = 0;

  /** At most `max` archives and `maxChars` characters of text in all. */
  constructor(
    private readonly max = 256,
    private readonly maxChars = 4 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(digest: string): string | null | undefined {
    const text = this.entries.get(digest);
    if (text === undefined) return undefined;
    this.entries.delete(digest);
    this.entries.set(digest, text);
    return text;
  }

  set(digest: string, text: string | null): void {
    if ((text?.length ?? 0) > this.maxChars) return;
    this.drop(digest);
    this.entries.set(digest, text);
    this.chars += text?.length ?? 0;
    while (this.entries.size > this.max || this.chars > this.maxChars) this.drop(this.entries.keys().next().value!);
  }

  private drop(digest: string): void {
    const text = this.entries.get(digest);
    if (text === undefined) return;
    this.entries.delete(digest);
    this.chars -= text?.length ?? 0;
  }
}

export async function chartYamlOf(
  storage: RegistryStorage,
  chartLayer: Descriptor,
  config: Record<string, unknown>,
  cache?: ChartYamlCache,
): Promise<ChartYaml> {
  let text = cache?.get(chartLayer.digest);
  if (text === undefined) {
    text = await readChartYaml(storage, chartLayer);
    cache?.set(chartLayer.digest, text);
  }
  return text !== null ? { text, from: 'archive' } : { text: stringify(config), from: 'config' };
}

async function readChartYaml(storage: RegistryStorage, chartLayer: Descriptor): Promise<string | null> {
  if (chartLayer.size > MAX_ARCHIVE_BYTES) return null;
  try {
    const bytes = await readBlobBytes(storage, chartLayer.digest, MAX_ARCHIVE_BYTES);
    return (await readChartArchive(bytes, { maxBytes: 4 * MAX_ARCHIVE_BYTES })).chartYamlText;
  } catch {
    // Unreadable archive: the config still says what the chart claims to be.
    return null;
  }
}
