/**
 * The last step of every pull (OCI or chart repository): the staged archive,
 * and its .prov when there is one, move to the destination together — or the
 * archive is unpacked with --untar.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { extractChartArchive } from '../chart/extract.js';
import { KeyedLock } from '../fs/keyed-lock.js';
import { movePairIn } from '../fs/move-into-place.js';

export interface PlacedChart {
  chartPath?: string;
  provPath?: string;
  untarredTo?: string;
}

// Parallel pulls of one name and version into one folder take turns, so a
// chart never ends up beside the other one's prov.
const targets = new KeyedLock();

/** `staged` (and `${staged}.prov` when `withProv`) to `destination/fileName`, or unpacked. */
export async function placePulledChart(opts: {
  staged: string;
  destination: string;
  fileName: string;
  withProv: boolean;
  untar?: boolean;
  untarDir?: string;
}): Promise<PlacedChart> {
  const { staged, destination, withProv } = opts;
  if (opts.untar) {
    const into = opts.untarDir ? (isAbsolute(opts.untarDir) ? opts.untarDir : join(destination, opts.untarDir)) : destination;
    return { untarredTo: await extractChartArchive(staged, into) };
  }
  const target = join(destination, opts.fileName);
  await targets.run(target, async () => {
    await movePairIn(
      withProv
        ? [
            [staged, target],
            [`${staged}.prov`, `${target}.prov`],
          ]
        : [[staged, target]],
    );
    // A .prov left from an earlier pull would now sit beside a chart it is not about.
    if (!withProv) await rm(`${target}.prov`, { force: true });
  });
  return { chartPath: target, ...(withProv ? { provPath: `${target}.prov` } : {}) };
}
