// `npm run bench`: chartprov against real Helm 4, side by side in one run.
// Commands alternate (A B A B …) so machine drift hits both; medians and
// ratios are printed, and the targets of issue #4 beside them.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { helloWorldSource, goldens } from '../test/peers/charts.js';
import { helmBinary } from '../test/peers/helm.js';
import { keyFile, launcherPath } from '../test/peers/paths.js';
import { tempDir } from '../test/peers/tmp.js';
import { runOciBench } from './oci.js';
import { runRegistryBench } from './registry.js';
import { runCopyBench } from './copy.js';
import { runDemoBench } from './demo.js';
import { runMirrorBench } from './mirror.js';
import { runAuditBench } from './audit.js';

interface Cmd {
  bin: string;
  args: string[];
}

// NODE_EXTRA_CA_CERTS makes every Node process parse a CA bundle before any
// user code runs (~50-90 ms here, where it is set machine-wide); Helm ignores
// it. The main rows run without it; one row repeats the single verify with it,
// where the `chartprov` launcher moves it out of Node's way.
// chartprov runs as users run it: the bin/chartprov launcher.
const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;

function timeOnce(cmd: Cmd, env: NodeJS.ProcessEnv = cleanEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd.bin, cmd.args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, HOME: process.env.BENCH_HOME } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd.bin} ${cmd.args.slice(0, 3).join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function pair(a: () => number, b: () => number, runs: number): { a: number; b: number; ratio: number } {
  a();
  b(); // warm-up: page cache, binary load
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const x = a();
    const y = b();
    as.push(x);
    bs.push(y);
    ratios.push(x / y);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios) };
}

const row = (name: string, r: { a: number; b: number; ratio: number }, target: string) =>
  console.log(
    `${name.padEnd(44)} ${r.a.toFixed(1).padStart(9)} ms ${r.b.toFixed(1).padStart(9)} ms ${`${r.ratio.toFixed(2)}×`.padStart(8)}   ${target}`,
  );

async function main(): Promise<void> {
  const { dir, cleanup } = await tempDir('chartprov-bench-');
  process.env.BENCH_HOME = dir;
  try {
    const helm = await helmBinary(4);
    const node = process.execPath;
    const pub = keyFile('john-pubring.gpg');
    const sec = keyFile('john-secring.gpg');
    const runs = Number(process.env.BENCH_RUNS ?? 10);

    console.log(`chartprov vs Helm 4.1 — median of ${runs} alternating runs, ${process.version}, without NODE_EXTRA_CA_CERTS`);
    console.log(`${'benchmark'.padEnd(44)} ${'chartprov'.padStart(12)} ${'helm'.padStart(12)} ${'ratio'.padStart(8)}   target`);

    const one = pair(
      () => timeOnce({ bin: launcherPath, args: ['verify', goldens.helm4.chart, '--keyring', pub] }),
      () => timeOnce({ bin: helm, args: ['verify', '--keyring', pub, goldens.helm4.chart] }),
      runs,
    );
    row('verify 1 chart', one, '≤ 2.00×');
    if (process.env.NODE_EXTRA_CA_CERTS) {
      const withCa = pair(
        () => timeOnce({ bin: launcherPath, args: ['verify', goldens.helm4.chart, '--keyring', pub] }, process.env),
        () => timeOnce({ bin: helm, args: ['verify', '--keyring', pub, goldens.helm4.chart] }, process.env),
        runs,
      );
      row('verify 1 chart, NODE_EXTRA_CA_CERTS set', withCa, '≤ 2.00× (environment as-is)');
    }

    const count = 200;
    const charts: string[] = [];
    for (let i = 0; i < count; i++) {
      const d = join(dir, 'many', String(i));
      await mkdir(d, { recursive: true });
      const c = join(d, 'hello-world-0.1.0.tgz');
      await copyFile(goldens.helm4.chart, c);
      await copyFile(goldens.helm4.prov, `${c}.prov`);
      charts.push(c);
    }
    const batchRuns = Math.max(3, Math.floor(runs / 3));
    const batch = pair(
      () => timeOnce({ bin: launcherPath, args: ['verify', ...charts, '--keyring', pub] }),
      () => charts.reduce((ms, c) => ms + timeOnce({ bin: helm, args: ['verify', '--keyring', pub, c] }), 0),
      batchRuns,
    );
    row(`verify ${count} charts (one call vs helm loop)`, batch, `≥ 10× faster (ratio ≤ 0.10×) → ${(1 / batch.ratio).toFixed(1)}× faster`);

    const src = await helloWorldSource(dir);
    const outA = join(dir, 'out-chartprov');
    const outB = join(dir, 'out-helm');
    await mkdir(outA);
    await mkdir(outB);
    const pkg = pair(
      () => timeOnce({ bin: launcherPath, args: ['package', src, '-d', outA, '--sign', '--key', 'John The Signer', '--keyring', sec] }),
      () => timeOnce({ bin: helm, args: ['package', src, '-d', outB, '--sign', '--key', 'John The Signer', '--keyring', sec] }),
      runs,
    );
    row('package --sign', pkg, '≤ 2.00×');

    const startup = pair(
      () => timeOnce({ bin: node, args: ['-e', '0'] }),
      () => timeOnce({ bin: helm, args: ['version', '--short'] }),
      runs,
    );
    row('(reference) node -e 0 vs helm version', startup, '');
  } finally {
    await cleanup();
  }
}

await main();
await runOciBench(); // bench/oci.ts; alone: node dist/bench/oci.js
await runRegistryBench(); // bench/registry.ts; alone: node dist/bench/registry.js
await runCopyBench(); // bench/copy.ts; alone: node dist/bench/copy.js
await runDemoBench(); // bench/demo.ts; alone: node dist/bench/demo.js
await runAuditBench(); // bench/audit.ts; alone: node dist/bench/audit.js
await runMirrorBench(); // bench/mirror.ts; alone: node dist/bench/mirror.js
