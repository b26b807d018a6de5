// OCI benchmarks: chartprov against real Helm 4 on one local docker-registry
// (distribution 2.8, plain HTTP on loopback), and a large blob through the
// library against `sha256sum` on the same file. Targets of the OCI issue are
// printed beside the figures as PASS/MISS; a miss never fails the process.
// The issue's charts target, as it states it: "push then pull 100 signed charts
// with chartprov (one process: `chartprov push a.tgz b.tgz … oci://…`, and its
// pull counterpart) ≥ 5× faster than a shell loop of helm push + helm pull";
// the pull counterpart is `chartprov pull oci://…/name:1.0.0 … oci://…/name:1.0.99`.
//
//   npm run bench                 (the CLI benchmarks, then these)
//   node dist/bench/oci.js        (these alone, after `node scripts/build.mjs`)
//
// Knobs: BENCH_OCI_CHARTS (100), BENCH_OCI_ROUNDS (2), BENCH_OCI_BLOB_MIB (1024),
// BENCH_OCI_ONLY (charts | blob).
import { spawnSync } from 'node:child_process';
import { existsSync, closeSync, openSync, writeSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createSigner, packageAndSignChart } from '../src/index.js';
import { helloWorldSource } from '../test/peers/charts.js';
import { helmBinary } from '../test/peers/helm.js';
import { keyFile, keysDir, repoRoot } from '../test/peers/paths.js';
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

const onPath = (cmd: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));

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

/**
 * Like run(), under /usr/bin/time -v when present (a fork and exec more, ~1 ms)
 * for the peak RSS of the command itself.
 */
function runTimed(bin: string, args: string[], env: NodeJS.ProcessEnv, what: string): Run & { maxRssKiB?: number } {
  if (!existsSync(timeBin)) return run(bin, args, env, what);
  const r = run(timeBin, ['-v', bin, ...args], env, what);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { ...r, maxRssKiB: m ? Number(m[1]) : undefined };
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
  /** One `chartprov pull ref:v1 … ref:vN` process. */
  cpPullOne: number;
  cpPullOneRssKiB?: number;
  /** The same with --verify --keyring all-pubring.gpg. */
  cpPullOneVerify: number;
  cpPullOneVerifyRssKiB?: number;
  cpPullLoop: number;
  cpPullLib: WorkerRun;
  helmPush: number;
  helmPull: number;
  helmPullVerify: number;
}

async function chartsBench(dir: string, registry: DockerRegistry, helm: string): Promise<void> {
  const count = Number(process.env.BENCH_OCI_CHARTS ?? 100);
  const rounds = Number(process.env.BENCH_OCI_ROUNDS ?? 2);
  const host = registry.host;
  const xdgCache = join(dir, 'xdg-cache');
  const keyring = join(keysDir, 'all-pubring.gpg');

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
  // The compile cache is one per command, written by its first run: the pull
  // warm-up is a verified pull of two references, so that the cache holds the
  // code of every pull row (several references, verification), as it would for
  // a user who verifies.
  const refEnv = await isolatedEnv(join(dir, 'home-ref'), xdgCache);
  const warm = join(dir, 'warm');
  const warmCharts = charts.slice(0, 2);
  run(
    launcherPath,
    ['push', ...warmCharts.map((c) => c.path), `oci://${host}/warm/chartprov`, '--plain-http'],
    refEnv,
    'chartprov push (warm-up)',
  );
  run(
    launcherPath,
    [
      'pull',
      ...warmCharts.map((c) => `oci://${host}/warm/chartprov/hello-world:${c.version}`),
      '-d',
      warm,
      '--plain-http',
      '--verify',
      '--keyring',
      keyring,
    ],
    refEnv,
    'chartprov pull (warm-up)',
  );
  await mkdir(join(warm, 'helm-verify'), { recursive: true }); // helm pull --verify does not make its -d folder
  run(helm, ['push', charts[0]!.path, `oci://${host}/warm/helm`, '--plain-http'], refEnv, 'helm push (warm-up)');
  run(helm, ['pull', `oci://${host}/warm/helm/hello-world`, '--version', charts[0]!.version, '--prov', '-d', warm, '--plain-http'], refEnv);
  const helmVerified = run(
    helm,
    [
      'pull',
      `oci://${host}/warm/helm/hello-world`,
      '--version',
      charts[0]!.version,
      '--verify',
      '--keyring',
      keyring,
      '-d',
      join(warm, 'helm-verify'),
      '--plain-http',
    ],
    refEnv,
    'helm pull --verify (warm-up)',
  );
  if (!/^Signed by: John The Signer/m.test(helmVerified.stdout))
    throw new Error(`helm pull --verify printed no signer: ${helmVerified.stdout}`);
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
    for (const n of ['cp-one', 'cp-one-verify', 'cp-loop', 'cp-lib', 'helm', 'helm-verify']) await mkdir(out(n), { recursive: true });

    const doChartprov = async () => {
      const cpPush = run(
        launcherPath,
        ['push', ...charts.map((c) => c.path), `oci://${host}/${cpBase}`, '--plain-http'],
        env,
        'chartprov push',
      ).ms;
      // The issue's pull counterpart first, as helm's first pull loop is the
      // first read of its repository: one process, every version by its tag.
      const refs = charts.map((c) => `oci://${host}/${cpBase}/hello-world:${c.version.replace(/\+/g, '_')}`);
      const one = runTimed(launcherPath, ['pull', ...refs, '-d', out('cp-one'), '--plain-http'], env, 'chartprov pull (1 process)');
      const oneVerify = runTimed(
        launcherPath,
        ['pull', ...refs, '-d', out('cp-one-verify'), '--plain-http', '--verify', '--keyring', keyring],
        env,
        'chartprov pull --verify (1 process)',
      );
      const verifiedLines = oneVerify.stdout.split('\n').filter((l) => /^ok .*verified, signed by John The Signer/.test(l)).length;
      if (verifiedLines !== count)
        throw new Error(
          `chartprov pull --verify: ${verifiedLines} of ${count} charts reported verified:\n${oneVerify.stdout.slice(-2000)}`,
        );
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
      return {
        cpPush,
        cpPullOne: one.ms,
        cpPullOneRssKiB: one.maxRssKiB,
        cpPullOneVerify: oneVerify.ms,
        cpPullOneVerifyRssKiB: oneVerify.maxRssKiB,
        cpPullLoop,
        cpPullLib,
      };
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
      const helmPullVerify = await shellLoop(
        dir,
        `helm-pull-verify-${r}`,
        // --verify: helm fetches the .prov, verifies, and keeps both.
        charts.map(
          (c) =>
            `${q(helm)} pull oci://${host}/${helmBase}/hello-world --version ${c.version} --verify --keyring ${q(keyring)} -d ${q(out('helm-verify'))} --plain-http >/dev/null 2>&1`,
        ),
        env,
      );
      return { helmPush, helmPull, helmPullVerify };
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
    await checkPulled(out('cp-one'), charts, 'chartprov pull (1 process)');
    await checkPulled(out('cp-one-verify'), charts, 'chartprov pull --verify (1 process)');
    await checkPulled(out('cp-loop'), charts, 'chartprov pull loop');
    await checkPulled(out('cp-lib'), charts, 'library pullChart');
    await checkPulled(out('helm'), charts, 'helm pull loop');
    await checkPulled(out('helm-verify'), charts, 'helm pull --verify loop');
    results.push({ ...cp, ...hm });
    console.log(
      `   round ${r} (${r % 2 === 1 ? 'chartprov first' : 'helm first'}): chartprov push ${fmtMs(cp.cpPush)}, pull ${fmtMs(cp.cpPullOne)}, pull --verify ${fmtMs(cp.cpPullOneVerify)}, pull loop ${fmtMs(cp.cpPullLoop)}, library pull ${fmtMs(cp.cpPullLib.wallMs)} | helm push loop ${fmtMs(hm.helmPush)}, pull loop ${fmtMs(hm.helmPull)}, pull --verify loop ${fmtMs(hm.helmPullVerify)}`,
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
  const cpOne = (x: Round) => x.cpPullOne;
  const cpOneV = (x: Round) => x.cpPullOneVerify;
  const cpLoop = (x: Round) => x.cpPullLoop;
  const cpLib = (x: Round) => x.cpPullLib.wallMs;
  const hPush = (x: Round) => x.helmPush;
  const hPull = (x: Round) => x.helmPull;
  const hPullV = (x: Round) => x.helmPullVerify;
  const hBoth = (x: Round) => x.helmPush + x.helmPull;
  const hBothV = (x: Round) => x.helmPush + x.helmPullVerify;

  const W = 54;
  console.log(
    `\n${'benchmark (mean of rounds)'.padEnd(W)} ${'chartprov'.padStart(11)} ${'helm'.padStart(11)} ${'ratio'.padStart(7)} ${'faster'.padStart(7)}  target`,
  );
  const row = (name: string, a: (x: Round) => number, b: (x: Round) => number, target?: number) => {
    const rt = mean(a) / mean(b);
    const faster = 1 / rt;
    const t = target ? `≥ ${target}× faster: ${mark(faster >= target)}` : '(info)';
    console.log(
      `${name.padEnd(W)} ${fmtMs(mean(a)).padStart(11)} ${fmtMs(mean(b)).padStart(11)} ${`${rt.toFixed(2)}×`.padStart(7)} ${`${faster.toFixed(1)}×`.padStart(7)}  ${t}`,
    );
  };
  row(`push ${count}: 1 chartprov process vs helm loop`, cpPush, hPush);
  row(`pull ${count}: 1 chartprov process vs helm loop`, cpOne, hPull);
  row(`pull ${count} --verify: 1 chartprov process vs helm loop`, cpOneV, hPullV);
  row(`pull ${count}: chartprov loop vs helm loop`, cpLoop, hPull);
  row(`pull ${count}: library, 1 process, parallel vs loop`, cpLib, hPull);
  // The issue's target: push then pull, one chartprov process each, against helm's loop.
  row(`push+pull ${count}, both 1 chartprov process each`, (x) => cpPush(x) + cpOne(x), hBoth, 5);
  row(`push+pull ${count} --verify, 1 chartprov process each`, (x) => cpPush(x) + cpOneV(x), hBothV);
  row(`push+pull ${count}, pull = chartprov loop`, (x) => cpPush(x) + cpLoop(x), hBoth);
  row(`push+pull ${count}, pull = library in 1 process`, (x) => cpPush(x) + cpLib(x), hBoth);

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
  const one = mean(cpOne);
  const oneV = mean(cpOneV);
  const rssMiB = (f: (x: Round) => number | undefined) => {
    const xs = results.map(f).filter((v): v is number => v !== undefined);
    return xs.length ? `${(xs.reduce((p, v) => p + v, 0) / xs.length / 1024).toFixed(0)} MiB` : 'n/a';
  };
  console.log(
    `  chartprov pull, ${count} references in 1 process (-j 8): ${fmtMs(one)} wall, ${fmtMs(one - s.cp)} beyond --version's start-up (${fmtMs((one - s.cp) / count)} a chart); peak RSS ${rssMiB((x) => x.cpPullOneRssKiB)}`,
  );
  console.log(
    `  --verify in that process: ${fmtMs(oneV)} wall, ${fmtMs(oneV - one)} more (${fmtMs((oneV - one) / count)} a chart), peak RSS ${rssMiB((x) => x.cpPullOneVerifyRssKiB)}; helm pull --verify ${fmtMs(mean(hPullV) / count)} a process, ${fmtMs((mean(hPullV) - mean(hPull)) / count)} more than --prov`,
  );
  console.log(
    `  target row: push is ${((100 * mean(cpPush)) / (mean(cpPush) + one)).toFixed(0)} % of chartprov's ${fmtMs(mean(cpPush) + one)}; helm's push loop is ${((100 * mean(hPush)) / mean(hBoth)).toFixed(0)} % of its ${fmtMs(mean(hBoth))}`,
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

    const syncDisk = () => spawnSync('sync'); // each step starts with no dirty pages of the one before
    syncDisk();
    const sums: Run[] = [run('sha256sum', [file], baseEnv), run('sha256sum', [file], baseEnv)];
    const sum = sums.reduce((a, b) => (a.ms <= b.ms ? a : b));
    const digest = `sha256:${sum.stdout.split(/\s/)[0]}`;
    const mbps = (ms: number) => size / 1e6 / (ms / 1000);
    const shaMbps = mbps(sum.ms);
    const openssl = onPath('openssl') ? run('openssl', ['dgst', '-sha256', file], baseEnv) : undefined;
    const nodeRef = worker0();

    const env = await isolatedEnv(join(dir, 'home-blob'), join(dir, 'xdg-cache'));
    const floor = worker(['import-only', registry.host, 'none'], env);
    const steps: { name: string; w: WorkerRun; target: boolean }[] = [];
    const step = (name: string, args: string[], target: boolean) => {
      syncDisk();
      const w = worker(args, env);
      steps.push({ name, w, target });
      return w;
    };
    // Each push goes to a registry of its own (fresh storage, same filesystem):
    // into one that already stores the same 1 GiB, a later push runs ~15-30 %
    // slower whatever its mode, which would pass for a difference between modes.
    const fresh: DockerRegistry[] = [];
    const freshRegistry = async () => {
      const r = await startDockerRegistry();
      fresh.push(r);
      return r;
    };
    let curlMs: number | undefined;
    try {
      const r1 = await freshRegistry();
      const unknown = step('push, digest unknown (hashed on the fly)', ['push-blob', r1.host, 'blob/push-digest-unknown', file], true);
      if (unknown.json.digest !== digest) throw new Error(`pushed digest ${String(unknown.json.digest)} is not sha256sum's ${digest}`);
      await r1.stop();
      const r2 = await freshRegistry();
      step('push, digest known', ['push-blob', r2.host, 'blob/push-digest-known', file, digest], true);
      step('pull → file (fetchBlobToFile)', ['pull-blob', r2.host, 'blob/push-digest-known', digest, String(size), pulled], true);
      if ((await stat(pulled)).size !== size) throw new Error('pulled file has the wrong size');
      await rm(pulled, { force: true });
      step('pull → discard (openBlob, verified)', ['pull-blob', r2.host, 'blob/push-digest-known', digest, String(size), '-'], false);
      await r2.stop();

      // What the registry itself takes in: curl, one monolithic PUT of the file, nothing hashed client-side.
      if (onPath('curl')) {
        const r3 = await freshRegistry();
        const res = await fetch(`${r3.url}/v2/blob/curl-reference/blobs/uploads/`, { method: 'POST' });
        await res.arrayBuffer();
        const url = new URL(res.headers.get('location') ?? '', r3.url);
        url.searchParams.set('digest', digest);
        syncDisk();
        curlMs = run(
          'curl',
          ['-sS', '-f', '-X', 'PUT', '-T', file, '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:', url.href],
          baseEnv,
          'curl PUT',
        ).ms;
      }
    } finally {
      for (const r of fresh) await r.stop();
    }

    console.log(
      `   push: a fresh registry (so a fresh repository: the blob is really sent, no HEAD skip) for each push; ${size > 32 * MiB ? 'chunked PATCH (64 MiB) + PUT' : 'one PUT'}; \`sync\` before each step`,
    );
    const line = (name: string, op: string, proc: string, rate: string, pct: string, rss: string, t = '') =>
      console.log(
        `${name.padEnd(44)} ${op.padStart(10)} ${proc.padStart(10)} ${rate.padStart(7)} ${pct.padStart(12)} ${rss.padStart(9)}  ${t}`,
      );
    const mb = (kib: number) => `${((kib * 1024) / 1e6).toFixed(0)} MB`;
    console.log('');
    line('operation', 'op wall', 'process', 'MB/s', 'vs sha256sum', 'peak RSS', 'targets');
    line('sha256sum (reference, file in page cache)', fmtMs(sum.ms), '', shaMbps.toFixed(0), '100 %', '');
    for (const { name, w, target } of steps) {
      const rate = mbps(w.workMs);
      const pct = (100 * rate) / shaMbps;
      const rssMb = (w.maxRssKiB * 1024) / 1e6;
      const t = target ? `RSS < 150 MB: ${mark(rssMb < 150)}; ≥ 70 % of sha256sum: ${mark(pct >= 70)}` : '(info)';
      line(name, fmtMs(w.workMs), fmtMs(w.wallMs), rate.toFixed(0), `${pct.toFixed(1)} %`, mb(w.maxRssKiB), t);
    }
    if (openssl)
      line(
        '(reference) openssl dgst -sha256',
        '',
        fmtMs(openssl.ms),
        mbps(openssl.ms).toFixed(0),
        `${((100 * mbps(openssl.ms)) / shaMbps).toFixed(0)} %`,
        '',
      );
    if (curlMs !== undefined)
      line(
        '(reference) curl PUT, one request',
        '',
        fmtMs(curlMs),
        mbps(curlMs).toFixed(0),
        `${((100 * mbps(curlMs)) / shaMbps).toFixed(0)} %`,
        '',
      );
    line('(reference) worker, client imported, no I/O', '', fmtMs(floor.wallMs), '', '', mb(floor.maxRssKiB));
    line('(reference) node -e 0', '', fmtMs(nodeRef.ms), '', '', mb(nodeRef.rssKiB));
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
    const only = process.env.BENCH_OCI_ONLY;
    if (only !== 'blob') await chartsBench(dir, registry, helm);
    if (only !== 'charts') await blobBench(dir, registry);
    console.log(`\nOCI benchmarks took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await registry?.stop();
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runOciBench();
