/**
 * Figures for docs/reliability.md (issue 10). Reliability tests record what
 * they tried and what came of it; `node scripts/reliability.mjs` runs those
 * tests with CHARTPROV_FIGURES naming a JSON-lines file and renders the table.
 * Without CHARTPROV_FIGURES (a plain `npm test`) recording does nothing, so
 * the tests assert the same things either way: figures are reported, never
 * asserted on timing.
 */
import { appendFileSync } from 'node:fs';

export type FigureArea = 'inputs' | 'faults' | 'load' | 'secrets' | 'client';

export interface Figure {
  area: FigureArea;
  /** What was tried, one line: "tar entry ../../etc/passwd fed to pull --untar". */
  item: string;
  /** How many inputs, faults or requests it covers. */
  tried: number;
  /** Outcome in a few words: "refused CHART_ARCHIVE_INVALID", "all 201, fsck clean". */
  outcome: string;
  /** Objects acknowledged but missing or corrupt afterwards, files written outside the target… must be 0. */
  lost: number;
  /** Optional measurements: peak RSS in MiB, p99 latency in ms, error counts. */
  measures?: Record<string, number | string>;
}

/** Appends one figure when CHARTPROV_FIGURES is set; a no-op otherwise. */
export function recordFigure(figure: Figure): void {
  const file = process.env.CHARTPROV_FIGURES;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ ...figure, file: process.argv[1] ?? '' })}\n`);
}
