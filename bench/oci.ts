// OCI benchmarks: chartprov against real Helm 4 on one local docker-registry
// (distribution 2.8, plain HTTP on loopback), and a large blob through the
// library against `sha256sum` on the same file. Targets of the OCI issue are
// printed beside the figures as PASS/MISS; a miss never fails the process.
//
//   npm run bench                 (the CLI benchmarks, then these)
//   node dist/bench/oci.js        (these alone, after `node scripts/build.mjs`)
//
// Knobs: BENCH_OCI_CHARTS (100), BENCH_OCI_ROUNDS (2), BENCH_OCI_BLOB_MIB (1024).
import { spawnSync } from 'node:child_process';
import { existsSync, closeSync, openSync, writeSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createSigner, packageAndSignChart } from '../src/index.js';
import { helloWorldSource } from '../test/peers/charts.js';
import { helmBinary } from '../test/peers/helm.js';
import { keyFile, repoRoot } from '../test/peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../test/peers/registry.js';
import { tempDir } from '../test/peers/tmp.js';

const timeBin = '/usr/bin/time';
const MiB = 1024 * 1024;

// As in run.ts: NODE_EXTRA_CA_CERTS (set machine-wide here) costs every plain
// `node` process 50-90 ms before any code runs; the chartprov launcher moves it
// aside anyway, and the library worker is a plain `node`, so it goes for all.
const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete baseEnv.NODE_EXTRA_CA_CERTS;
delete baseEnv.CHARTPROV_PASSPHRASE;
delete baseEnv.CHARTPROV_SIGNING_KEY;

/**
 * An isolated HOME with Helm's folders in it: no credentials, no Helm content
 * cache carried between rounds. XDG_CACHE_HOME (chartprov's V8 compile cache,
 * which a user has after the first run) is shared and warmed up first.
 */
async function isolatedEnv(home: string, xdgCache: string): Promise<NodeJS.ProcessEnv> {
  await mkdir(join(home, '.gnupg'), { recursive: true, mode: 0o700 });
  return {
    ...baseEnv,
    HOME: home,
    GNUPGHOME: join(home, '.gnupg'),
    XDG_CACHE_HOME: xdgCache,
    XDG_CONFIG_HOME: join(home, '.config'),
    HELM_CACHE_HOME: join(home, 'helm-cache'),
    HELM_CONFIG_HOME: join(home, 'helm-config'),
    HELM_DATA_HOME: join(home, 'helm-data'),
    HELM_REGISTRY_CONFIG: join(home, 'helm-config', 'registry', 'config.json'),
  };
}

interface Run {
  ms: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, what = `${bin} ${args.slice(0, 2).join(' ')}`): Run {
  const t0 = performance.now();
  const r = spawnSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env, encoding: 'utf8', maxBuffer: 64 * MiB });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A shell loop, as a user would write it: one process per chart, stop at the first failure. */
async function shellLoop(dir: string, name: string, lines: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const script = join(dir, `${name}.sh`);
  await writeFile(script, `set -e\n${lines.join('\n')}\n`);
  return run('sh', [script], env, name).ms;
}

interface WorkerRun {
  wallMs: number;
  importMs: number;
  workMs: number;
  /** Peak RSS in KiB: from /usr/bin/time -v when present, else the child's own resourceUsage(). */
  maxRssKiB: number;
  rssFrom: 'time -v' | 'resourceUsage';
  json: Record<string, unknown>;
}

function worker(args: string[], env: NodeJS.ProcessEnv): WorkerRun {
  const useTime = existsSync(timeBin);
  const r = useTime
    ? run(timeBin, ['-v', process.execPath, workerPath, ...args], env, `oci-worker ${args[0]}`)
    : run(process.execPath, [workerPath, ...args], env, `oci-worker ${args[0]}`);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  const json = JSON.parse(line) as Record<string, unknown> & { importMs: number; workMs: number; maxRssKiB: number };
  const fromTime = useTime ? /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr) : null;
  return {
    wallMs: r.ms,
    importMs: json.importMs,
    workMs: json.workMs,
    maxRssKiB: fromTime ? Number(fromTime[1]) : json.maxRssKiB,
    rssFrom: fromTime ? 'time -v' : 'resourceUsage',
    json,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmtMs = (ms: number) => `${ms >= 10_000 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Checks a pull folder holds every chart, byte for byte, and its prov. */
async function checkPulled(dest: string, charts: { file: string; path: string }[], who: string): Promise<void> {
  const have = new Set(await readdir(dest));
  for (const c of charts) {
    if (!have.has(c.file) || !have.has(`${c.file}.prov`)) throw new Error(`${who}: ${c.file} or its .prov missing in ${dest}`);
    const [a, b] = await Promise.all([readFile(join(dest, c.file)), readFile(c.path)]);
    if (!a.equals(b)) throw new Error(`${who}: ${c.file} differs from what was pushed`);
  }
}

// The launcher and the worker run from a private copy of bin/ and dist/ (with
// node_modules linked): the benchmark takes minutes, and a build started
// meanwhile in the work tree (which wipes dist/) must not pull them away.
let launcherPath = '';
let workerPath = '';

async function snapshotBuild(dir: string): Promise<void> {
  const root = join(dir, 'build');
  const bundleId = join(repoRoot, 'dist', 'cli-bundle', 'chartprov.cjs.id');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let attempt = 1; ; attempt++) {
    try {
      // The .id is the build's last file: present and unchanged across the copy means one whole build was copied.
      const before = await stat(bundleId);
      await rm(root, { recursive: true, force: true });
      await mkdir(join(root, 'dist', 'bench'), { recursive: true });
      await cp(join(repoRoot, 'bin'), join(root, 'bin'), { recursive: true });
      await cp(join(repoRoot, 'dist', 'cli-bundle'), join(root, 'dist', 'cli-bundle'), { recursive: true });
      await cp(join(repoRoot, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
      await cp(fileURLToPath(new URL('./oci-worker.js', import.meta.url)), join(root, 'dist', 'bench', 'oci-worker.js'));
      await symlink(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
      const after = await stat(bundleId);
      const id = (await readFile(join(root, 'dist', 'cli-bundle', 'chartprov.cjs.id'), 'utf8')).trim();
      const bundle = await readFile(join(root, 'dist', 'cli-bundle', 'chartprov.cjs'));
      if (before.mtimeMs !== after.mtimeMs || createHash('sha256').update(bundle).digest('hex') !== id)
        throw new Error('rebuilt during the copy');
      launcherPath = join(root, 'bin', 'chartprov');
      workerPath = join(root, 'dist', 'bench', 'oci-worker.js');
      return;
    } catch (err) {
      if (attempt >= 8) throw new Error(`no complete build to benchmark in ${repoRoot}/dist: ${String(err)}`);
      await sleep(15_000);
    }
  }
}

// ---------------------------------------------------------------------------
// 1. 100 signed charts: push then pull, chartprov vs helm.

interface Round {
  cpPush: number;
  cpPullLoop: number;
  cpPullLib: WorkerRun;
  helmPush: number;
  helmPull: number;
}

async function chartsBench(dir: string, registry: DockerRegistry, helm: string): Promise<void> {
  const count = Number(process.env.BENCH_OCI_CHARTS ?? 100);
  const rounds = Number(process.env.BENCH_OCI_ROUNDS ?? 2);
  const host = registry.host;
  const xdgCache = join(dir, 'xdg-cache');

  const t0 = performance.now();
  const src = await helloWorldSource(dir);
  const chartsDir = join(dir, 'charts');
  const signer = await createSigner({ keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] });
  const versions = Array.from({ length: count }, (_, i) => `1.0.${i}`);
  const charts: { version: string; file: string; path: string }[] = [];
  await pool(versions, 4, async (version) => {
    const r = await packageAndSignChart({ chartDir: src, destination: chartsDir, version, sign: signer });
    if (!r.provenance) throw new Error(`${version}: no provenance`);
    charts.push({ version, file: r.fileName, path: r.path });
  });
  charts.sort((a, b) => versions.indexOf(a.version) - versions.indexOf(b.version));
  const chartSize = (await stat(charts[0]!.path)).size;
  const provSize = (await stat(`${charts[0]!.path}.prov`)).size;
  console.log(
    `\n== OCI: ${count} signed charts (hello-world ${versions[0]}…${versions.at(-1)}, ${chartSize} B + ${provSize} B .prov each): push, then pull, docker-registry ${host} (plain HTTP)`,
  );
  console.log(
    `   charts made with packageAndSignChart in ${fmtMs(performance.now() - t0)}; ${rounds} round(s), chartprov/helm order alternating, fresh repositories each round`,
  );

  // Warm-up (binaries' pages, chartprov's compile cache for push and pull) and start-up references.
  const refEnv = await isolatedEnv(join(dir, 'home-ref'), xdgCache);
  const warm = join(dir, 'warm');
  run(launcherPath, ['push', charts[0]!.path, `oci://${host}/warm/chartprov`, '--plain-http'], refEnv, 'chartprov push (warm-up)');
  run(
    launcherPath,
    ['pull', `oci://${host}/warm/chartprov/hello-world`, '--version', charts[0]!.version, '-d', warm, '--plain-http'],
    refEnv,
  );
  run(helm, ['push', charts[0]!.path, `oci://${host}/warm/helm`, '--plain-http'], refEnv, 'helm push (warm-up)');
  run(helm, ['pull', `oci://${host}/warm/helm/hello-world`, '--version', charts[0]!.version, '--prov', '-d', warm, '--plain-http'], refEnv);
  worker(['pull-charts', host, 'warm/chartprov/hello-world', join(warm, 'lib'), charts[0]!.version], refEnv);
  const startup = { node: [] as number[], cp: [] as number[], helm: [] as number[] };
  for (let i = 0; i < 7; i++) {
    startup.node.push(run(process.execPath, ['-e', '0'], refEnv).ms);
    startup.cp.push(run(launcherPath, ['--version'], refEnv).ms);
    startup.helm.push(run(helm, ['version', '--short'], refEnv).ms);
  }

  const results: Round[] = [];
  for (let r = 1; r <= rounds; r++) {
    const env = await isolatedEnv(join(dir, `home-${r}`), xdgCache);
    const cpBase = `r${r}/chartprov`;
    const helmBase = `r${r}/helm`;
    const out = (name: string) => join(dir, `out-${r}`, name);
    for (const n of ['cp-loop', 'cp-lib', 'helm']) await mkdir(out(n), { recursive: true });

    const doChartprov = async () => {
      const cpPush = run(
        launcherPath,
        ['push', ...charts.map((c) => c.path), `oci://${host}/${cpBase}`, '--plain-http'],
        env,
        'chartprov push',
      ).ms;
      const cpPullLoop = await shellLoop(
        dir,
        `cp-pull-${r}`,
        charts.map(
          (c) =>
            `${q(launcherPath)} pull oci://${host}/${cpBase}/hello-world --version ${c.version} -d ${q(out('cp-loop'))} --plain-http >/dev/null`,
        ),
        env,
      );
      const cpPullLib = worker(['pull-charts', host, `${cpBase}/hello-world`, out('cp-lib'), ...versions], env);
      return { cpPush, cpPullLoop, cpPullLib };
    };
    const doHelm = async () => {
      const helmPush = await shellLoop(
        dir,
        `helm-push-${r}`,
        charts.map((c) => `${q(helm)} push ${q(c.path)} oci://${host}/${helmBase} --plain-http >/dev/null 2>&1`),
        env,
      );
      const helmPull = await shellLoop(
        dir,
        `helm-pull-${r}`,
        // --prov: helm writes the .prov beside the chart, as chartprov pull does.
        charts.map(
          (c) =>
            `${q(helm)} pull oci://${host}/${helmBase}/hello-world --version ${c.version} --prov -d ${q(out('helm'))} --plain-http >/dev/null 2>&1`,
        ),
        env,
      );
      return { helmPush, helmPull };
    };
    let cp: Awaited<ReturnType<typeof doChartprov>>;
    let hm: Awaited<ReturnType<typeof doHelm>>;
    if (r % 2 === 1) {
      cp = await doChartprov();
      hm = await doHelm();
    } else {
      hm = await doHelm();
      cp = await doChartprov();
    }
    await checkPulled(out('cp-loop'), charts, 'chartprov pull loop');
    await checkPulled(out('cp-lib'), charts, 'library pullChart');
    await checkPulled(out('helm'), charts, 'helm pull loop');
    results.push({ ...cp, ...hm });
    console.log(
      `   round ${r} (${r % 2 === 1 ? 'chartprov first' : 'helm first'}): chartprov push ${fmtMs(cp.cpPush)}, pull loop ${fmtMs(cp.cpPullLoop)}, library pull ${fmtMs(cp.cpPullLib.wallMs)} | helm push loop ${fmtMs(hm.helmPush)}, pull loop ${fmtMs(hm.helmPull)}`,
    );
  }

  // One library push, for the start-up/work split of `chartprov push`.
  const libPush = worker(
    ['push-charts', host, 'lib-push', ...charts.map((c) => c.path)],
    await isolatedEnv(join(dir, 'home-lib'), xdgCache),
  );

  // Means over the rounds; ratios of the sums (each round alternates who goes first).
  const mean = (f: (x: Round) => number) => results.reduce((s, x) => s + f(x), 0) / results.length;
  const cpPush = (x: Round) => x.cpPush;
  const cpLoop = (x: Round) => x.cpPullLoop;
  const cpLib = (x: Round) => x.cpPullLib.wallMs;
  const hPush = (x: Round) => x.helmPush;
  const hPull = (x: Round) => x.helmPull;
  const hBoth = (x: Round) => x.helmPush + x.helmPull;

  console.log(
    `\n${'benchmark (mean of rounds)'.padEnd(50)} ${'chartprov'.padStart(11)} ${'helm'.padStart(11)} ${'ratio'.padStart(7)} ${'faster'.padStart(7)}  target`,
  );
  const row = (name: string, a: (x: Round) => number, b: (x: Round) => number, target?: number) => {
    const rt = mean(a) / mean(b);
    const faster = 1 / rt;
    const t = target ? `≥ ${target}× faster: ${mark(faster >= target)}` : '(info)';
    console.log(
      `${name.padEnd(50)} ${fmtMs(mean(a)).padStart(11)} ${fmtMs(mean(b)).padStart(11)} ${`${rt.toFixed(2)}×`.padStart(7)} ${`${faster.toFixed(1)}×`.padStart(7)}  ${t}`,
    );
  };
  row(`push ${count}: 1 chartprov process vs helm loop`, cpPush, hPush);
  row(`pull ${count}: chartprov loop vs helm loop`, cpLoop, hPull);
  row(`pull ${count}: library, 1 process, parallel vs loop`, cpLib, hPull);
  row(`push+pull ${count}, pull = chartprov loop`, (x) => cpPush(x) + cpLoop(x), hBoth, 5);
  row(`push+pull ${count}, pull = library in 1 process`, (x) => cpPush(x) + cpLib(x), hBoth, 5);

  const s = { node: median(startup.node), cp: median(startup.cp), helm: median(startup.helm) };
  const perCpPull = mean(cpLoop) / count;
  const perHelmPull = mean(hPull) / count;
  const perHelmPush = mean(hPush) / count;
  const lib = (f: (w: WorkerRun) => number) => mean((x) => f(x.cpPullLib));
  console.log('\nwhere the time goes');
  console.log(
    `  start-up (median of 7): node -e 0 ${fmtMs(s.node)}, chartprov --version ${fmtMs(s.cp)}, helm version --short ${fmtMs(s.helm)}`,
  );
  console.log(
    `  per pull process: chartprov ${fmtMs(perCpPull)} (${fmtMs(perCpPull - s.cp)} more than --version), helm ${fmtMs(perHelmPull)} (${fmtMs(perHelmPull - s.helm)} more than version)`,
  );
  console.log(
    `  per push: helm ${fmtMs(perHelmPush)} a process; chartprov ${fmtMs(mean(cpPush) / count)} a chart, all ${count} in one process`,
  );
  console.log(
    `  library pull, ${count} in 1 process: ${fmtMs(lib((w) => w.wallMs))} wall = ${fmtMs(lib((w) => w.importMs))} Node start-up + import of dist/src (unbundled tsc output), ${fmtMs(lib((w) => w.workMs))} pulling (${fmtMs(lib((w) => w.workMs) / count)} a chart); peak RSS ${(lib((w) => w.maxRssKiB) / 1024).toFixed(0)} MiB`,
  );
  console.log(
    `  library push, ${count} in 1 process (once): ${fmtMs(libPush.wallMs)} wall = ${fmtMs(libPush.importMs)} start-up + import, ${fmtMs(libPush.workMs)} pushing; the CLI push took ${fmtMs(mean(cpPush))}`,
  );
}

// ---------------------------------------------------------------------------
// 2. A large blob through the library, against sha256sum on the same file.

async function blobBench(dir: string, registry: DockerRegistry): Promise<void> {
  const wanted = Number(process.env.BENCH_OCI_BLOB_MIB ?? 1024);
  const [dirDev, storeDev] = await Promise.all([stat(dir), stat(registry.storageDir)]);
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  // Source, pulled copy, the registry's blob and an upload in flight, and 1 GiB to spare.
  let mib = wanted;
  while (mib > 64 && 4 * mib * MiB + 1024 * MiB > free) mib = Math.floor(mib / 2);
  const size = mib * MiB;
  const notes: string[] = [];
  if (mib !== wanted) notes.push(`SCALED DOWN from ${wanted} MiB: only ${(free / MiB).toFixed(0)} MiB free`);
  if (dirDev.dev !== storeDev.dev) notes.push('temp dir and registry storage are on different filesystems');
  console.log(
    `\n== OCI: ${mib} MiB blob (${size} bytes) through the library, each step in a child Node process; registry storage and temp file on the same filesystem (${dirDev.dev === storeDev.dev ? 'yes' : 'NO'}), ${(free / 1e9).toFixed(0)} GB free${notes.length ? `; ${notes.join('; ')}` : ''}`,
  );

  const file = join(dir, 'blob.bin');
  const pulled = join(dir, 'blob.pulled');
  try {
    // 1 MiB of random bytes, each 4 KiB block stamped with its MiB and block
    // number: no two blocks alike, nothing for compression or dedup to find.
    const t0 = performance.now();
    const base = randomBytes(MiB);
    const buf = Buffer.alloc(MiB);
    const fd = openSync(file, 'w');
    try {
      for (let i = 0; i < mib; i++) {
        base.copy(buf);
        for (let off = 0, j = 0; off < MiB; off += 4096, j++) {
          buf.writeUInt32LE(i, off);
          buf.writeUInt32LE(j, off + 4);
        }
        writeSync(fd, buf);
      }
    } finally {
      closeSync(fd);
    }
    console.log(`   generated in ${fmtMs(performance.now() - t0)}`);

    const sums: Run[] = [run('sha256sum', [file], baseEnv), run('sha256sum', [file], baseEnv)];
    const sum = sums.reduce((a, b) => (a.ms <= b.ms ? a : b));
    const digest = `sha256:${sum.stdout.split(/\s/)[0]}`;
    const mbps = (ms: number) => size / 1e6 / (ms / 1000);
    const shaMbps = mbps(sum.ms);
    const nodeRef = worker0();

    const env = await isolatedEnv(join(dir, 'home-blob'), join(dir, 'xdg-cache'));
    const host = registry.host;
    const steps: { name: string; w: WorkerRun; target: boolean }[] = [];
    const unknown = worker(['push-blob', host, 'blob/push-digest-unknown', file], env);
    if (unknown.json.digest !== digest) throw new Error(`pushed digest ${String(unknown.json.digest)} is not sha256sum's ${digest}`);
    steps.push({ name: 'push, digest unknown (hashed on the fly)', w: unknown, target: true });
    steps.push({ name: 'push, digest known', w: worker(['push-blob', host, 'blob/push-digest-known', file, digest], env), target: true });
    steps.push({
      name: 'pull → file (fetchBlobToFile)',
      w: worker(['pull-blob', host, 'blob/push-digest-known', digest, String(size), pulled], env),
      target: true,
    });
    if ((await stat(pulled)).size !== size) throw new Error('pulled file has the wrong size');
    await rm(pulled, { force: true });
    steps.push({
      name: 'pull → discard (openBlob, verified)',
      w: worker(['pull-blob', host, 'blob/push-digest-unknown', digest, String(size), '-'], env),
      target: false,
    });

    console.log(
      `   push: fresh repository each time, so the blob is really sent (no HEAD skip); ${size > 32 * MiB ? 'chunked PATCH (64 MiB) + PUT' : 'one PUT'}`,
    );
    console.log(
      `\n${'operation'.padEnd(44)} ${'op wall'.padStart(10)} ${'process'.padStart(10)} ${'MB/s'.padStart(7)} ${'vs sha256sum'.padStart(12)} ${'peak RSS'.padStart(9)}  targets`,
    );
    console.log(
      `${'sha256sum (reference, file in page cache)'.padEnd(44)} ${fmtMs(sum.ms).padStart(10)} ${''.padStart(10)} ${shaMbps.toFixed(0).padStart(7)} ${'100 %'.padStart(12)}`,
    );
    for (const { name, w, target } of steps) {
      const rate = mbps(w.workMs);
      const pct = (100 * rate) / shaMbps;
      const rssMb = (w.maxRssKiB * 1024) / 1e6;
      const t = target ? `RSS < 150 MB: ${mark(rssMb < 150)}; ≥ 70 % of sha256sum: ${mark(pct >= 70)}` : '(info)';
      console.log(
        `${name.padEnd(44)} ${fmtMs(w.workMs).padStart(10)} ${fmtMs(w.wallMs).padStart(10)} ${rate.toFixed(0).padStart(7)} ${`${pct.toFixed(0)} %`.padStart(12)} ${`${rssMb.toFixed(0)} MB`.padStart(9)}  ${t}`,
      );
    }
    console.log(
      `${'(reference) node -e 0'.padEnd(44)} ${''.padStart(10)} ${fmtMs(nodeRef.ms).padStart(10)} ${''.padStart(7)} ${''.padStart(12)} ${`${((nodeRef.rssKiB * 1024) / 1e6).toFixed(0)} MB`.padStart(9)}`,
    );
    console.log(`   MB = 10^6 bytes; peak RSS from ${steps[0]!.w.rssFrom}; MB/s over "op wall" (the operation, without Node start-up)`);
  } finally {
    await rm(file, { force: true });
    await rm(pulled, { force: true });
  }
}

/** Peak RSS of a bare `node -e 0`, the floor under every figure above. */
function worker0(): { ms: number; rssKiB: number } {
  if (existsSync(timeBin)) {
    const r = run(timeBin, ['-v', process.execPath, '-e', '0'], baseEnv);
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    return { ms: r.ms, rssKiB: Number(m?.[1] ?? 0) };
  }
  const r = run(process.execPath, ['-e', 'process.stdout.write(String(process.resourceUsage().maxRSS))'], baseEnv);
  return { ms: r.ms, rssKiB: Number(r.stdout) };
}

export async function runOciBench(): Promise<void> {
  const started = performance.now();
  const { dir, cleanup } = await tempDir('chartprov-bench-oci-');
  let registry: DockerRegistry | undefined;
  try {
    const helm = await helmBinary(4);
    await snapshotBuild(dir);
    registry = await startDockerRegistry();
    console.log(
      `\nchartprov OCI benchmarks vs Helm 4 (${helm.split('/').slice(-2).join('/')}), ${process.version}, without NODE_EXTRA_CA_CERTS; chartprov = bin/chartprov launcher + dist/ copied aside at start`,
    );
    await chartsBench(dir, registry, helm);
    await blobBench(dir, registry);
    console.log(`\nOCI benchmarks took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await registry?.stop();
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runOciBench();
