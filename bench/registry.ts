// The embedded registry (src/registry) against docker-registry 2.8
// (distribution) on the same machine, with the same client load: blob push
// and pull throughput, manifest GET req/s under autocannon, and the server's
// peak RSS while a 1 GiB blob goes through. Runs alternate (A B, then B A) so
// machine drift hits both; medians and ratios ours/distribution are printed
// with the targets beside them. A miss never fails the process.
//
// The embedded server runs in a Node process of its own (bench/registry-server.ts)
// and the client load comes from this process, as it does for docker-registry.
//
//   npm run bench                    (the other benchmarks, then these)
//   node dist/bench/registry.js      (these alone, after `node scripts/build.mjs`)
//
// Knobs: BENCH_REGISTRY_ONLY (blob | manifest | rss), BENCH_REGISTRY_BLOB_MIB (256),
// BENCH_REGISTRY_CHUNK_MIB (16), BENCH_REGISTRY_ROUNDS (3), BENCH_REGISTRY_SECONDS (10),
// BENCH_REGISTRY_CONNECTIONS (64), BENCH_REGISTRY_RSS_MIB (1024),
// BENCH_REGISTRY_CPU_PROF=DIR (the embedded server runs under node --cpu-prof, profiles
// into DIR; summarise one with `node dist/bench/registry-profile.js FILE.cpuprofile`).
import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg as osLoadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../test/peers/tmp.js';
import {
  BlobSource,
  authorizationFor,
  closeAgents,
  OCI_MANIFEST,
  pullBlob,
  pushChunked,
  pushMonolithic,
  pushSmallManifest,
  send,
  type BlobVariant,
} from './registry-client.js';
import { cpuMs, memKiB, sampleRss, snapshotServer, startChartprovServer, startDistribution, type BenchServer } from './registry-procs.js';

const num = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const mb = (kib: number) => `${((kib * 1024) / 1e6).toFixed(0)} MB`;
const loadavg = () =>
  `load average ${osLoadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
const sync = () => spawnSync('sync'); // no dirty pages of one step left to slow the next

/** Servers started by a part; all stopped at its end, also on failure. */
class Servers {
  private readonly all: BenchServer[] = [];
  constructor(private readonly dir: string) {}
  async ours(): Promise<BenchServer> {
    const data = join(this.dir, `data-${this.all.length}`);
    const s = await startChartprovServer(data);
    const stop = s.stop;
    s.stop = async () => {
      await stop();
      await rm(data, { recursive: true, force: true });
    };
    this.all.push(s);
    return s;
  }
  async distribution(): Promise<BenchServer> {
    const s = await startDistribution();
    this.all.push(s);
    return s;
  }
  async stopAll(): Promise<void> {
    await closeAgents();
    for (const s of this.all.splice(0)) await s.stop().catch(() => undefined);
  }
}

/** One timed operation: wall time, and the CPU the server and this client spent in it. */
interface Measured {
  ms: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

async function measure(server: BenchServer, fn: () => Promise<unknown>): Promise<Measured> {
  const s0 = await cpuMs(server.pid);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, serverCpuMs: (await cpuMs(server.pid)) - s0, clientCpuMs: (c.user + c.system) / 1000 };
}

const W = 46;
function header(first: string): void {
  console.log(`${first.padEnd(W)} ${'chartprov'.padStart(12)} ${'distribution'.padStart(13)} ${'ratio'.padStart(7)}   target`);
}
function row(name: string, a: string, b: string, ratio: number, target: string): void {
  console.log(`${name.padEnd(W)} ${a.padStart(12)} ${b.padStart(13)} ${`${ratio.toFixed(2)}×`.padStart(7)}   ${target}`);
}

/**
 * A pull by curl, the fastest consumer at hand: what the server can serve
 * when the client is not the bottleneck (the undici pull above shares the
 * two CPUs with its own byte comparison).
 */
async function curlPull(base: string, repo: string, blob: BlobVariant): Promise<void> {
  const auth = authorizationFor(base).Authorization;
  const args = ['-sS', '-f', '-o', '/dev/null', ...(auth ? ['-H', `Authorization: ${auth}`] : []), `${base}/v2/${repo}/blobs/${blob.digest}`];
  await new Promise<void>((resolve, reject) =>
    execFile('curl', args, (err, _out, stderr) => (err ? reject(new Error(`curl pull: ${stderr || err.message}`)) : resolve())),
  );
}

// ---------------------------------------------------------------------------
// 1. Blob push (monolithic, chunked) and pull: MB/s.

type BlobOp = 'push monolithic' | 'push chunked' | 'pull' | 'pull (curl)';

async function blobBench(dir: string): Promise<void> {
  const mibs = num('BENCH_REGISTRY_BLOB_MIB', 256);
  const chunk = num('BENCH_REGISTRY_CHUNK_MIB', 16);
  const rounds = num('BENCH_REGISTRY_ROUNDS', 3);
  const servers = new Servers(join(dir, 'blob'));
  try {
    const pair = [await servers.ours(), await servers.distribution()] as const;
    const source = new BlobSource(mibs);
    const size = source.size;
    console.log(
      `\n== blobs: ${mibs} MiB (${size} bytes), median of ${rounds} rounds, order alternating each round; undici keep-alive client; pulls compare every byte with what was pushed (and once a round, untimed, its sha256); \`sync\` before each step`,
    );
    // Warm-up: connections, code paths, the repository folders.
    const warm = new BlobSource(4);
    for (const s of pair) {
      const v = warm.variant();
      await pushMonolithic(s.url, 'bench/warm', v);
      await pushChunked(s.url, 'bench/warm', warm.variant(), 1);
      await pullBlob(s.url, 'bench/warm', v);
    }
    const ops: BlobOp[] = ['push monolithic', 'push chunked', 'pull', 'pull (curl)'];
    const res = new Map<string, Measured[]>();
    const key = (s: BenchServer, op: BlobOp) => `${s.who} ${op}`;
    for (let r = 1; r <= rounds; r++) {
      const order = r % 2 === 1 ? pair : ([pair[1], pair[0]] as const);
      const pushed = new Map<BenchServer, BlobVariant>();
      const line: string[] = [];
      for (const op of ops) {
        for (const s of order) {
          const repo = `bench/blob-${r}`;
          const v = op.startsWith('pull') ? pushed.get(s)! : source.variant();
          sync();
          const m = await measure(s, () =>
            op === 'push monolithic'
              ? pushMonolithic(s.url, repo, v)
              : op === 'push chunked'
                ? pushChunked(s.url, repo, v, chunk)
                : op === 'pull'
                  ? pullBlob(s.url, repo, v)
                  : curlPull(s.url, repo, v),
          );
          if (op === 'push monolithic') pushed.set(s, v);
          res.set(key(s, op), [...(res.get(key(s, op)) ?? []), m]);
          line.push(`${s.who} ${op} ${rate(size, m.ms)}`);
        }
      }
      console.log(`   round ${r} (${order[0].who} first): ${line.join(', ')}`);
      // Timed pulls compare bytes (memcmp); once a round, untimed, the sha256 of a whole pull as well.
      for (const s of pair) await pullBlob(s.url, `bench/blob-${r}`, pushed.get(s)!, { sha256: true });
    }
    console.log('');
    header('operation (MB/s, higher is better)');
    for (const op of ops) {
      const a = res.get(key(pair[0], op))!;
      const b = res.get(key(pair[1], op))!;
      const ra = median(a.map((m) => mbps(size, m.ms)));
      const rb = median(b.map((m) => mbps(size, m.ms)));
      const ratio = median(a.map((m, i) => mbps(size, m.ms) / mbps(size, b[i]!.ms)));
      const name =
        op === 'push chunked'
          ? `push chunked (${Math.ceil(mibs / chunk)} × ${chunk} MiB PATCH + PUT)`
          : op === 'push monolithic'
            ? 'push monolithic (POST + one PUT)'
            : op === 'pull'
              ? 'pull (GET, bytes compared)'
              : 'pull with curl to /dev/null';
      row(name, `${ra.toFixed(0)} MB/s`, `${rb.toFixed(0)} MB/s`, ratio, `≥ 1.00×: ${mark(ratio >= 1)}`);
    }
    console.log('   CPU per operation, median ms (server / this client):');
    for (const op of ops) {
      const cpu = (s: BenchServer) => {
        const ms = res.get(key(s, op))!;
        return `${median(ms.map((m) => m.serverCpuMs)).toFixed(0)} / ${median(ms.map((m) => m.clientCpuMs)).toFixed(0)}`;
      };
      console.log(`     ${op.padEnd(16)} chartprov ${cpu(pair[0]).padStart(11)}   distribution ${cpu(pair[1]).padStart(11)}`);
    }
    console.log("   MB = 10^6 bytes; a push is timed from the POST to the 201 of its PUT (which includes the server's fsync)");
  } finally {
    await servers.stopAll();
  }
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const rate = (bytes: number, ms: number) => `${mbps(bytes, ms).toFixed(0)} MB/s`;

// ---------------------------------------------------------------------------
// 2. Manifest GET by digest and by tag under autocannon: req/s.

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
}) => PromiseLike<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Load extends Measured {
  rps: number;
  p50: number;
  p99: number;
}

async function load(server: BenchServer, path: string, seconds: number, connections: number): Promise<Load> {
  let r: AutocannonResult | undefined;
  const m = await measure(server, async () => {
    r = await autocannon({
      url: `${server.url}${path}`,
      connections,
      duration: seconds,
      headers: { Accept: OCI_MANIFEST, ...authorizationFor(server.url) },
    });
  });
  const res = r!;
  if (res.non2xx || res.errors || res.timeouts)
    throw new Error(`${server.who} GET ${path}: ${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts`);
  return { ...m, rps: res.requests.total / res.duration, p50: res.latency.p50, p99: res.latency.p99 };
}

const kinds = ['digest', 'tag', 'base'] as const;
type Kind = (typeof kinds)[number];

async function manifestBench(dir: string): Promise<void> {
  const seconds = num('BENCH_REGISTRY_SECONDS', 10);
  const rounds = num('BENCH_REGISTRY_ROUNDS', 3);
  const connections = num('BENCH_REGISTRY_CONNECTIONS', 64);
  const servers = new Servers(join(dir, 'manifest'));
  try {
    const pair = [await servers.ours(), await servers.distribution()] as const;
    const repo = 'bench/chart';
    const tag = '1.0.0';
    const paths = new Map<BenchServer, Record<Kind, string>>();
    for (const s of pair) {
      const { digest, bytes } = await pushSmallManifest(s.url, repo, tag);
      for (const ref of [digest, tag]) {
        const got = await send('GET', new URL(`/v2/${repo}/manifests/${ref}`, s.url), { Accept: OCI_MANIFEST });
        if (got.status !== 200 || !got.body.equals(bytes) || got.headers['docker-content-digest'] !== digest)
          throw new Error(`${s.who}: GET manifest ${ref} answered ${got.status}, not the manifest pushed`);
      }
      paths.set(s, { digest: `/v2/${repo}/manifests/${digest}`, tag: `/v2/${repo}/manifests/${tag}`, base: '/v2/' });
      if (s === pair[0])
        console.log(
          `\n== manifests: GET of one ${bytes.length}-byte OCI manifest (config + 1 layer), autocannon ${connections} connections × ${seconds} s per run, ${rounds} rounds alternating; Accept: ${OCI_MANIFEST}`,
        );
    }
    await closeAgents();
    for (const s of pair) await load(s, paths.get(s)!.digest, Math.min(2, seconds), connections); // warm-up (JIT, page cache)
    const res = new Map<string, Load[]>();
    for (let r = 1; r <= rounds; r++) {
      const order = r % 2 === 1 ? pair : ([pair[1], pair[0]] as const);
      const line: string[] = [];
      for (const kind of kinds) {
        for (const s of order) {
          const l = await load(s, paths.get(s)![kind], seconds, connections);
          res.set(`${s.who} ${kind}`, [...(res.get(`${s.who} ${kind}`) ?? []), l]);
          line.push(`${s.who} ${kind === 'base' ? '/v2/' : `by ${kind}`} ${l.rps.toFixed(0)}/s`);
        }
      }
      console.log(`   round ${r} (${order[0].who} first): ${line.join(', ')}`);
    }
    console.log('');
    header('manifest GET (req/s, higher is better)');
    for (const kind of kinds) {
      const a = res.get(`chartprov ${kind}`)!;
      const b = res.get(`distribution ${kind}`)!;
      const ratio = median(a.map((x, i) => x.rps / b[i]!.rps));
      const name = kind === 'base' ? 'GET /v2/ (reference: HTTP stack, no storage)' : `GET manifest by ${kind}`;
      const target = kind === 'base' ? '(info)' : `≥ 1.00×: ${mark(ratio >= 1)}`;
      row(name, `${median(a.map((x) => x.rps)).toFixed(0)}/s`, `${median(b.map((x) => x.rps)).toFixed(0)}/s`, ratio, target);
    }
    console.log('   latency p50 / p99 ms, server CPU %, client (autocannon) CPU % of one core, medians:');
    for (const kind of kinds) {
      for (const who of ['chartprov', 'distribution']) {
        const xs = res.get(`${who} ${kind}`)!;
        const pct = (f: (x: Load) => number) => `${median(xs.map((x) => (100 * f(x)) / x.ms)).toFixed(0)} %`;
        console.log(
          `     ${(kind === 'base' ? '/v2/' : `by ${kind}`).padEnd(9)} ${who.padEnd(12)} ${median(xs.map((x) => x.p50))} / ${median(xs.map((x) => x.p99))} ms, server ${pct((x) => x.serverCpuMs)}, client ${pct((x) => x.clientCpuMs)}`,
        );
      }
    }
    console.log(`   ${cpus().length} CPUs for server and load generator together: req/s is bounded by both; ${loadavg()}`);
  } finally {
    await servers.stopAll();
  }
}

// ---------------------------------------------------------------------------
// 3. Peak RSS of the server while a large blob goes through.

async function rssBench(dir: string): Promise<void> {
  const mibs = num('BENCH_REGISTRY_RSS_MIB', 1024);
  const chunk = num('BENCH_REGISTRY_CHUNK_MIB', 16);
  const servers = new Servers(join(dir, 'rss'));
  try {
    const source = new BlobSource(mibs);
    console.log(
      `\n== server RSS: ${mibs} MiB blob pushed (monolithic, then chunked ${chunk} MiB) and pulled, through a fresh server each; VmRSS sampled every 100 ms, VmHWM at the end`,
    );
    const widths = [8, 16, 13, 8, 8];
    const cols = (...c: string[]) => c.map((x, i) => x.padStart(widths[i] ?? 8)).join(' ');
    console.log(`${'server'.padEnd(13)} ${cols('idle', 'push monolithic', 'push chunked', 'pull', 'VmHWM')}   target`);
    const peaks: Record<string, number> = {};
    const rates: string[] = [];
    for (const start of [() => servers.ours(), () => servers.distribution()]) {
      const s = await start();
      const idle = (await memKiB(s.pid)).rss;
      const sampler = sampleRss(s.pid, 100);
      const steps: { kib: number; m: Measured }[] = [];
      const step = async (fn: () => Promise<unknown>) => {
        sync();
        await sampler.phase();
        const m = await measure(s, fn);
        steps.push({ m, kib: await sampler.phase() });
      };
      const v = source.variant();
      await step(() => pushMonolithic(s.url, 'bench/big', v));
      await step(() => pushChunked(s.url, 'bench/big', source.variant(), chunk));
      await step(() => pullBlob(s.url, 'bench/big', v, { sha256: true }));
      const { hwmKiB } = await sampler.stop();
      peaks[s.who] = hwmKiB;
      const peakMb = (hwmKiB * 1024) / 1e6;
      const target = s.who === 'chartprov' ? `peak < 150 MB: ${mark(peakMb < 150)}` : '(comparison)';
      console.log(`${s.who.padEnd(13)} ${cols(mb(idle), ...steps.map((x) => mb(x.kib)), mb(hwmKiB))}   ${target}`);
      rates.push(`${s.who} ${steps.map((x) => rate(source.size, x.m.ms)).join(' / ')}`);
      await s.stop();
    }
    console.log("   (columns: highest VmRSS sample during each step; VmHWM = the kernel's peak over the server's life)");
    console.log(`   MB/s push monolithic / push chunked / pull (sha256 checked): ${rates.join(', ')} (info)`);
    console.log(`   peak RSS chartprov / distribution: ${(peaks.chartprov! / peaks.distribution!).toFixed(2)}×; MB = 10^6 bytes`);
  } finally {
    await servers.stopAll();
  }
}

function distributionVersion(): string {
  const r = spawnSync('docker-registry', ['--version'], { encoding: 'utf8' });
  return r.stdout.trim().split(' ').slice(-1)[0] ?? '?';
}

export async function runRegistryBench(): Promise<void> {
  const started = performance.now();
  const { dir, cleanup } = await tempDir('chartprov-bench-registry-');
  try {
    await snapshotServer(dir);
    const cpu = cpus();
    console.log(
      `\nembedded registry (chartprov) vs docker-registry ${distributionVersion()} (distribution), ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), loopback HTTP, filesystem storage for both`,
    );
    console.log(`   ${loadavg()} at start`);
    console.log(
      '   chartprov = bench/registry-server.js in its own Node process (dist/ copied aside at start); client load (undici, autocannon) from this process',
    );
    console.log(
      process.env.BENCH_REGISTRY_AUTH === '0'
        ? '   chartprov without auth (BENCH_REGISTRY_AUTH=0), like distribution'
        : '   chartprov with its Harbor-style auth: private project, every request carries a bearer token (distribution runs without auth); BENCH_REGISTRY_AUTH=0 to compare without',
    );
    const only = process.env.BENCH_REGISTRY_ONLY;
    if (only && !['blob', 'manifest', 'rss'].includes(only)) throw new Error(`BENCH_REGISTRY_ONLY is blob, manifest or rss, not ${only}`);
    if (!only || only === 'blob') await blobBench(dir);
    if (!only || only === 'manifest') await manifestBench(dir);
    if (!only || only === 'rss') await rssBench(dir);
    console.log(`\nregistry benchmarks took ${((performance.now() - started) / 1000).toFixed(0)} s; ${loadavg()}`);
  } finally {
    await closeAgents();
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runRegistryBench();
