// `chartprov demo` end to end (issue 8, item 1): the built CLI as a user runs
// it, a few times, median wall time against the 10 s target. Helm 4 is on
// PATH, so the `helm pull --verify` step runs too (the slower case).
//
//   node dist/bench/demo.js      (after `npm run build`)
//   knobs: BENCH_DEMO_RUNS (5)
import { spawnSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { helmBinary } from '../test/peers/helm.js';
import { launcherPath } from '../test/peers/paths.js';
import { tempDir } from '../test/peers/tmp.js';

const TARGET_MS = 10_000;

export async function runDemoBench(): Promise<void> {
  const { dir, cleanup } = await tempDir('chartprov-bench-demo-');
  try {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await symlink(await helmBinary(4), join(bin, 'helm'));
    const home = join(dir, 'home');
    await mkdir(home);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    // As in bench/run.ts: Node would parse a machine-wide CA bundle first; the launcher moves it aside anyway.
    delete env.NODE_EXTRA_CA_CERTS;
    const runs = Math.max(1, Number(process.env.BENCH_DEMO_RUNS ?? 5));
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(launcherPath, ['demo'], { env, encoding: 'utf8' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`chartprov demo failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
      if (!/helm pull --verify hello-world 0\.1\.0 \.+/.test(r.stdout)) throw new Error(`the helm step did not run:\n${r.stdout}`);
      times.push(ms);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log();
    console.log(`chartprov demo (built CLI, helm 4 on PATH) — ${runs} runs, ${process.version}`);
    console.log(
      `${'demo, end to end'.padEnd(44)} ${`${(median / 1000).toFixed(2)} s`.padStart(9)} median  (min ${(sorted[0]! / 1000).toFixed(2)} s, max ${(sorted.at(-1)! / 1000).toFixed(2)} s)   target < ${TARGET_MS / 1000} s: ${median < TARGET_MS ? 'PASS' : 'MISS'}`,
    );
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runDemoBench();
