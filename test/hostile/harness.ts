/**
 * What every hostile-input test checks, in one place: the CLI runs in a
 * sandbox whose every file is listed before and after (a file created or
 * changed anywhere but the target is "lost"), its peak RSS is measured, and a
 * refusal must be a non-zero exit with a stable `error[CODE]` line, the same
 * code in `-o json`, and no stack trace.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { recordFigure } from '../peers/figures.js';
import { runCli, type CliOptions } from '../peers/cli.js';
import type { RunResult } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';

/**
 * A safety bound, not a speed figure: every input here is refused or read in
 * bounded memory, and a CLI process at rest is ~60 MiB. A regression that
 * buffers a bomb blows far past this.
 */
export const RSS_BOUND_MIB = 300;

export interface Sandbox {
  /** Everything the CLI may touch lives under here; all of it is scanned. */
  root: string;
  /** A folder beside the target with a decoy file; hostile paths aim here. */
  outside: string;
  /** Where the command is told to write (`-d`, `--untardir`). */
  target: string;
  /** Where inputs are put (archives, provs, chart folders). */
  inputs: string;
  cleanup: () => Promise<void>;
}

/** root/{outside/decoy.txt, a/b/target, inputs}: `../../..` from the target still lands inside root. */
export async function makeSandbox(): Promise<Sandbox> {
  const t = await tempDir('chartprov-hostile-');
  const outside = join(t.dir, 'outside');
  const target = join(t.dir, 'a', 'b', 'target');
  const inputs = join(t.dir, 'inputs');
  await Promise.all([mkdir(outside), mkdir(target, { recursive: true }), mkdir(inputs)]);
  await writeFile(join(outside, 'decoy.txt'), 'must not change\n');
  return { root: t.dir, outside, target, inputs, cleanup: t.cleanup };
}

export type Listing = Map<string, string>;

/** Every entry under `dir` (not following links): path → kind, size and the start of its content. */
export async function listTree(dir: string): Promise<Listing> {
  const out: Listing = new Map();
  // Names as bytes: a hostile name need not be UTF-8, and its lossy string would not open it.
  const walk = async (abs: Buffer): Promise<void> => {
    for (const name of await readdir(abs, { encoding: 'buffer' })) {
      const p = Buffer.concat([abs, Buffer.from(sep), name]);
      const st = await lstat(p);
      const rel = relative(dir, p.toString('utf8'));
      if (st.isDirectory()) {
        out.set(rel, 'dir');
        await walk(p);
      } else if (st.isSymbolicLink()) {
        out.set(rel, `link -> ${await readlink(p)}`);
      } else if (st.isFile()) {
        out.set(rel, `file ${st.size} ${st.size <= 1 << 20 ? (await readFile(p)).toString('base64').slice(0, 64) : st.mtimeMs}`);
      } else {
        out.set(rel, 'special');
      }
    }
  };
  await walk(Buffer.from(dir));
  return out;
}

/** Entries created, changed or removed between two listings, outside `keep` (a path relative to the root). */
export function changedOutside(before: Listing, after: Listing, keep: string): string[] {
  const inKeep = (p: string) => p === keep || p.startsWith(`${keep}${sep}`);
  const changed: string[] = [];
  for (const [p, v] of after) if (!inKeep(p) && before.get(p) !== v) changed.push(p);
  for (const p of before.keys()) if (!inKeep(p) && !after.has(p)) changed.push(`${p} (removed)`);
  return changed;
}

// ---- peak RSS of the CLI process

let probe: string | undefined;

/**
 * A module preloaded into the CLI (NODE_OPTIONS=--require) that writes the
 * process's peak RSS (getrusage ru_maxrss) to a file on exit. It works
 * wherever node does: no /usr/bin/time, no polling /proc of a process that
 * may be gone before it is read.
 */
function rssProbe(): string {
  if (!probe) {
    const dir = mkdtempSync(join(tmpdir(), 'chartprov-rss-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    probe = join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      "process.on('exit', () => { try { require('node:fs').writeFileSync(process.env.CHARTPROV_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)); } catch {} });\n",
    );
    mkdirSync(join(dir, 'out'));
  }
  return probe;
}

let runs = 0;

export interface MeasuredRun extends RunResult {
  /** Peak resident set of the CLI process, MiB. */
  peakRssMiB: number;
}

/** runCli with the RSS probe preloaded. */
export async function runMeasured(args: string[], opts: CliOptions = {}): Promise<MeasuredRun> {
  const p = rssProbe();
  const rssFile = join(p, '..', 'out', `${process.pid}-${++runs}`);
  const nodeOptions = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(p)}`].filter(Boolean).join(' ');
  const r = await runCli(args, { ...opts, env: { ...opts.env, NODE_OPTIONS: nodeOptions, CHARTPROV_TEST_RSS_FILE: rssFile } });
  const kib = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN'));
  await rm(rssFile, { force: true });
  assert.ok(Number.isFinite(kib) && kib > 0, `the RSS probe reported nothing (exit ${r.code}): ${r.stderr}`);
  return { ...r, peakRssMiB: Math.round(kib / 1024) };
}

// ---- the assertions every item makes

/** No "    at f (file:line)" frames and no raw Node error codes: every failure is a ChartprovError. */
export function assertNoStack(r: RunResult): void {
  assert.doesNotMatch(r.stderr, /^\s+at (?:.+ \()?\S+:\d+:\d+\)?$/m, `stack trace on stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /error\[INTERNAL\]/, `an internal error, not a refusal:\n${r.stderr}`);
}

/** The code in `-o json` output: `{ error }`, or the one failed result of a batch (`verify`). */
export function jsonCode(stdout: string): string | undefined {
  const doc = JSON.parse(stdout) as { error?: { code: string }; results?: Array<{ ok: boolean; error?: { code: string } }> };
  return doc.error?.code ?? doc.results?.find((x) => !x.ok)?.error?.code;
}

export function assertRefused(r: RunResult, code: string): void {
  assertNoStack(r);
  assert.notEqual(r.code, 0, `expected a refusal with ${code}, got exit 0:\n${r.stdout}\n${r.stderr}`);
  assert.ok(r.code === 1, `exit status ${r.code}, not 1:\n${r.stderr}`);
  assert.equal(jsonCode(r.stdout), code, `-o json names another code:\n${r.stdout}\n${r.stderr}`);
  // Text output names the same code (verify -o json reports per chart, on stdout only).
  for (const m of r.stderr.matchAll(/error\[([A-Z_]+)\]/g)) assert.equal(m[1], code, r.stderr);
}

export interface Outcome {
  /** The figure's item, e.g. 'tar entry "../x" → pull --untar'. */
  item: string;
  run: MeasuredRun;
  /** Code expected, or 'ok'. */
  code: string;
  lost: string[];
}

/** Asserts the three safety properties and records the figure. */
export function judge(o: Outcome): void {
  const outcome = o.run.code === 0 ? 'accepted' : `refused ${jsonCode(o.run.stdout) ?? `exit ${o.run.code}`}`;
  recordFigure({ area: 'inputs', item: o.item, tried: 1, outcome, lost: o.lost.length, measures: { peakRssMiB: o.run.peakRssMiB } });
  assert.deepEqual(o.lost, [], `${o.item}: written outside the target`);
  assert.ok(o.run.peakRssMiB < RSS_BOUND_MIB, `${o.item}: peak RSS ${o.run.peakRssMiB} MiB ≥ ${RSS_BOUND_MIB} MiB`);
  if (o.code === 'ok') {
    assertNoStack(o.run);
    assert.equal(o.run.code, 0, `${o.item}: expected success:\n${o.run.stderr}`);
  } else {
    assertRefused(o.run, o.code);
  }
}

/** Runs one CLI command in the sandbox, with the before/after scan. */
export async function inSandbox(sb: Sandbox, args: string[], opts: CliOptions = {}): Promise<{ run: MeasuredRun; lost: string[] }> {
  const before = await listTree(sb.root);
  const run = await runMeasured(args, { cwd: sb.target, ...opts });
  const after = await listTree(sb.root);
  return { run, lost: changedOutside(before, after, relative(sb.root, sb.target)) };
}

/** Empties the target between items (what one item leaves must not hide the next one's writes). */
export async function resetTarget(sb: Sandbox): Promise<void> {
  await rm(sb.target, { recursive: true, force: true });
  await mkdir(sb.target, { recursive: true });
}
