// `chartprov mirror` between two registries (issue 9, item 1): N signed
// chart versions (each pushed with its .prov as the provenance layer, as
// `helm push` stores it) on one registry, mirrored OCI → OCI to a second one
// of the same kind — two docker-registry 2.8, then two embedded registries
// (`chartprov serve`'s server, each its own process, no auth) —, against
// what a user does by hand with Helm 4 in the same run:
//
//   chartprov: `chartprov mirror oci://SRC/bench/hello-world oci://DST/cp --jobs 8 --keyring …`
//              (every version's signature checked, then copied byte for byte), run once
//              before and once after the helm loop (each run into a fresh registry), the mean compared.
//   helm loop: one sh script, per version:
//                helm pull oci://SRC/bench/hello-world --version V --prov -d DIR   (chart + .prov)
//                helm push DIR/hello-world-V.tgz oci://DST/helm                    (carries the .prov beside it)
//              which checks no signature at all: the comparison favours Helm.
//
// The source's and the destination's CPU time is read from /proc during each run: the requests a
// mirror needs cost the registries the same whichever client sends them, and
// on a 2-core machine that CPU alone is a floor no client can go under.
//
// Afterwards every destination is checked: every tag there, each with its
// provenance layer; chartprov's copies keep the source's manifest digests.
//
//   node dist/bench/mirror.js      (after `npm run build`)
//   knobs: BENCH_MIRROR_CHARTS (500), BENCH_MIRROR_JOBS (8), BENCH_MIRROR_ON (both | distribution | embedded)
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createSigner, packageAndSignChart, pushCharts, RegistryClient } from '../src/index.js';
import { parseHelmManifest } from '../src/oci/helm-artifact.js';
import { runPool } from '../src/flows/pool.js';
import { helloWorldSource } from '../test/peers/charts.js';
import { helmBinary } from '../test/peers/helm.js';
import { keyFile, launcherPath } from '../test/peers/paths.js';
import { cpuMs, snapshotServer, startChartprovServer, startDistribution } from './registry-procs.js';
import { tempDir } from '../test/peers/tmp.js';

const TARGET = 10;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      // mirror exits 1 when a version is invalid: the JSON says which; checked below.
      if (err && !String(stdout).trim().startsWith('{')) reject(new Error(`${what} failed: ${String(stderr).slice(-2000) || err.message}`));
      else resolve({ ms, stdout: String(stdout) });
    });
  });
}

/** N signed versions of hello-world on `reg`, each with its provenance layer. */
async function makeSource(dir: string, reg: { host: string }, count: number): Promise<Map<string, string>> {
  const src = await helloWorldSource(dir);
  const signer = await createSigner({ keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] });
  const versions = Array.from({ length: count }, (_, i) => `1.0.${i}`);
  const made = await runPool(versions, 4, (version) =>
    packageAndSignChart({ chartDir: src, destination: join(dir, 'signed'), version, sign: signer }),
  );
  const pushed = await pushCharts({ charts: made.map((m) => m.path), destination: `oci://${reg.host}/bench`, plainHttp: true, jobs: 8 });
  if (pushed.failed) throw new Error(`push failed: ${JSON.stringify(pushed.results.find((r) => !r.ok))}`);
  return new Map(pushed.results.map((r) => (r.ok ? [r.version, r.digest] : ['', ''])));
}

/** Every version at `repo`, each with a provenance layer; with `digests`, the same manifest digests. */
async function check(reg: { host: string }, repo: string, versions: string[], digests?: Map<string, string>): Promise<void> {
  const client = await RegistryClient.create({ plainHttp: true });
  try {
    const r = client.repository(reg.host, repo);
    const tags = new Set(await r.listTags());
    const missing = versions.filter((v) => !tags.has(v));
    if (missing.length) throw new Error(`${repo}: ${missing.length} version(s) missing, e.g. ${missing[0]}`);
    await runPool(versions, 16, async (v) => {
      const m = await r.fetchManifest(v);
      if (!parseHelmManifest(m.bytes).prov) throw new Error(`${repo}:${v} has no provenance layer`);
      if (digests && digests.get(v) !== m.digest) throw new Error(`${repo}:${v} is ${m.digest}, not ${digests.get(v)}`);
    });
  } finally {
    await client.close();
  }
}

/**
 * Every contestant starts with nothing left to write back: making the source (or the run
 * before) leaves thousands of dirty inodes whose flush would otherwise land in the next run.
 */
function settle(): Promise<void> {
  return new Promise((resolve, reject) => execFile('sync', (err) => (err ? reject(err) : resolve())));
}

interface Registry {
  host: string;
  pid: number;
  stop(): Promise<void>;
}

/** CPU time both registries spent while `fn` ran: work any client makes them do, whatever its own speed. */
async function withRegistryCpu<T>(regs: Registry[], fn: () => Promise<T>): Promise<{ value: T; registryCpuMs: number }> {
  const cpu = async () => (await Promise.all(regs.map((r) => cpuMs(r.pid)))).reduce((a, b) => a + b, 0);
  const before = await cpu();
  const value = await fn();
  return { value, registryCpuMs: (await cpu()) - before };
}

/**
 * `n` registries of one kind: docker-registry 2.8, or the embedded one (separate processes, no
 * auth, as distribution runs here). The first is the source; each timed run writes into a fresh
 * one of its own, so none finds blobs another run stored (a registry stores a blob once).
 */
async function startRegistries(kind: 'distribution' | 'embedded', dir: string, n: number): Promise<Registry[]> {
  const names = Array.from({ length: n }, (_, i) => `data-${i}`);
  if (kind === 'distribution') {
    const servers = await Promise.all(names.map(() => startDistribution()));
    return servers.map((s) => ({ host: new URL(s.url).host, pid: s.pid, stop: () => s.stop() }));
  }
  await snapshotServer(join(dir, 'server'));
  const before = process.env.BENCH_REGISTRY_AUTH;
  process.env.BENCH_REGISTRY_AUTH = '0';
  try {
    const servers = await Promise.all(names.map((name) => startChartprovServer(join(dir, name))));
    return servers.map((s) => ({ host: new URL(s.url).host, pid: s.pid, stop: () => s.stop() }));
  } finally {
    if (before === undefined) delete process.env.BENCH_REGISTRY_AUTH;
    else process.env.BENCH_REGISTRY_AUTH = before;
  }
}

const LABEL = { distribution: 'docker-registry 2.8', embedded: 'chartprov serve' } as const;

export async function runMirrorBench(): Promise<void> {
  const started = performance.now();
  const count = Number(process.env.BENCH_MIRROR_CHARTS ?? 500);
  const jobs = Number(process.env.BENCH_MIRROR_JOBS ?? 8);
  const on = process.env.BENCH_MIRROR_ON ?? 'both';
  const kinds = (['distribution', 'embedded'] as const).filter((k) => on === 'both' || on === k);
  const rows: string[] = [];
  for (const kind of kinds) rows.push(await benchPair(kind, count, jobs));
  console.log(`
${'registries'.padEnd(22)} ${'charts'.padEnd(7)} ${'chartprov mirror*'.padStart(17)} ${'helm loop'.padStart(11)} ${'speed-up'.padStart(9)}   target ≥ ${TARGET}×`);
  for (const row of rows) console.log(row);
  console.log('* mean of two runs, one before and one after the helm loop');
  console.log(`mirror benchmark took ${fmt(performance.now() - started)}`);
}

async function benchPair(kind: 'distribution' | 'embedded', count: number, jobs: number): Promise<string> {
  const { dir, cleanup } = await tempDir('chartprov-bench-mirror-');
  const regs: Registry[] = [];
  try {
    // The source, then the destinations of the first mirror run, the helm loop and the second mirror run.
    regs.push(...(await startRegistries(kind, dir, 4)));
    const [srcReg, firstReg, helmReg, secondReg] = regs as [Registry, Registry, Registry, Registry];
    const t0 = performance.now();
    const digests = await makeSource(dir, srcReg, count);
    const versions = [...digests.keys()];
    const helm = await helmBinary(4);
    const home = join(dir, 'home');
    await mkdir(home);
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.CHARTPROV_USERNAME;
    delete env.CHARTPROV_PASSWORD;
    const helmEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      HELM_CACHE_HOME: join(home, 'helm-cache'),
      HELM_CONFIG_HOME: join(home, 'helm-config'),
      HELM_DATA_HOME: join(home, 'helm-data'),
    };
    console.log(
      `\n== mirror: ${count} signed chart versions (prov layer) ${LABEL[kind]} → ${LABEL[kind]}, plain HTTP, ${process.version}; source made in ${fmt(performance.now() - t0)}`,
    );
    console.log(
      '   chartprov mirror oci://SRC/bench/hello-world oci://DST/cp --jobs ' +
        jobs +
        ' --keyring john-pubring.gpg (every signature checked)',
    );
    console.log(
      '   helm loop, one sh script, per version: helm pull --version V --prov, helm push (the .prov beside it) — no signature checked',
    );

    // The mirror runs twice, before and after the helm loop, each into a fresh registry: this
    // machine's speed drifts over minutes, and one 10 s sample against a 90 s loop would
    // carry all of that drift. The mean of the two is compared.
    const mirrorRun = async (dstReg: Registry) => {
      await settle();
      const { value, registryCpuMs } = await withRegistryCpu([srcReg, dstReg], () =>
        run(
          launcherPath,
          [
            'mirror',
            `oci://${srcReg.host}/bench/hello-world`,
            `oci://${dstReg.host}/cp`,
            '--jobs',
            String(jobs),
            '--keyring',
            keyFile('john-pubring.gpg'),
            '--plain-http',
            '-o',
            'json',
          ],
          env,
          'chartprov mirror',
        ),
      );
      const result = JSON.parse(value.stdout) as { totals: { copied: number; total: number } };
      if (result.totals.copied !== count) throw new Error(`chartprov mirror: ${JSON.stringify(result.totals)}, expected ${count} copied`);
      console.log(
        `   chartprov mirror: ${fmt(value.ms)} (${(value.ms / count).toFixed(0)} ms a version); the registries' own CPU meanwhile ${fmt(registryCpuMs)}`,
      );
      return { ms: value.ms, registryCpuMs };
    };
    const first = await mirrorRun(firstReg);

    const out = join(dir, 'helm-out');
    await mkdir(out);
    const lines = versions.map(
      (v) =>
        `${q(helm)} pull ${q(`oci://${srcReg.host}/bench/hello-world`)} --version ${v} --prov -d ${q(out)} --plain-http >/dev/null 2>&1 && ` +
        `${q(helm)} push ${q(join(out, `hello-world-${v}.tgz`))} ${q(`oci://${helmReg.host}/helm`)} --plain-http >/dev/null 2>&1`,
    );
    const script = join(dir, 'helm-loop.sh');
    await writeFile(script, `set -e\n${lines.join('\n')}\n`);
    await settle();
    const { value: hl, registryCpuMs: hlRegistryMs } = await withRegistryCpu([srcReg, helmReg], () => run('sh', [script], helmEnv, 'helm loop'));
    console.log(`   helm loop done: ${fmt(hl.ms)}; the registries' own CPU meanwhile ${fmt(hlRegistryMs)}`);
    const second = await mirrorRun(secondReg);
    const cp = { ms: (first.ms + second.ms) / 2, registryCpuMs: (first.registryCpuMs + second.registryCpuMs) / 2 };
    // On 2 cores, the registries' CPU alone bounds any client from below: the best ratio this pair allows.
    const cores = availableParallelism();
    console.log(
      `   chartprov mirror, mean of the two runs: ${fmt(cp.ms)}. With ${cores} cores, a client costing nothing could not beat ` +
        `${fmt(cp.registryCpuMs / cores)} (the registries' CPU during a run): at best ${(hl.ms / (cp.registryCpuMs / cores)).toFixed(1)}× the helm loop`,
    );

    await check(firstReg, 'cp/hello-world', versions, digests);
    await check(secondReg, 'cp/hello-world', versions, digests);
    await check(helmReg, 'helm/hello-world', versions);
    console.log('   all three destinations checked: every version there with its provenance layer; chartprov kept every manifest digest');
    const ratio = hl.ms / cp.ms;
    return `${LABEL[kind].padEnd(22)} ${String(count).padEnd(7)} ${fmt(cp.ms).padStart(17)} ${fmt(hl.ms).padStart(11)} ${`${ratio.toFixed(1)}×`.padStart(9)}   ${ratio >= TARGET ? 'PASS' : 'MISS'}`;
  } finally {
    await Promise.all(regs.map((r) => r.stop()));
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runMirrorBench();
