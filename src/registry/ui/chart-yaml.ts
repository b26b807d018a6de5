/**
 * A chart's Chart.yaml as its author wrote it, read from the archive in
 * storage. An archive too large to read for a page, or one that cannot be
 * read, shows the config blob instead (the same metadata as JSON, which
 * Helm writes from Chart.yaml), converted to YAML.
 */
import { stringify } from 'yaml';
import { readChartArchive } from '../../chart/archive.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { RegistryStorage } from '../storage/index.js';
import { readBlobBytes } from './blob-bytes.js';

// Charts are usually a few KiB to a few MiB; a page must not read hundreds of MiB.
const MAX_ARCHIVE_BYTES = 16 * 1024 * 1024;

export interface ChartYaml {
  text: string;
  from: 'archive' | 'config';
}

export async function chartYamlOf(storage: RegistryStorage, chartLayer: Descriptor, config: Record<string, unknown>): Promise<ChartYaml> {
  if (chartLayer.size <= MAX_ARCHIVE_BYTES) {
    try {
      const bytes = await readBlobBytes(storage, chartLayer.digest, MAX_ARCHIVE_BYTES);
      return { text: (await readChartArchive(bytes, { maxBytes: 4 * MAX_ARCHIVE_BYTES })).chartYamlText, from: 'archive' };
    } catch {
      // Unreadable archive: the config below still says what the chart claims to be.
    }
  }
  return { text: stringify(config), from: 'config' };
}
