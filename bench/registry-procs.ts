// The two servers of bench/registry.ts as processes: the embedded registry in
// a child Node process (bench/registry-server.ts), docker-registry through
// test/peers/registry.ts; for both, the pid and what /proc says about it
// (CPU time, current and peak RSS).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../test/peers/paths.js';
import { startDockerRegistry } from '../test/peers/registry.js';
import { setAuthorization } from './registry-client.js';

export interface BenchServer {
  /** 'chartprov' or 'distribution'. */
  who: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const onPath = (cmd: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));

// As in bench/oci.ts: NODE_EXTRA_CA_CERTS (set machine-wide here) only slows a Node start.
const serverEnv: NodeJS.ProcessEnv = { ...process.env };
delete serverEnv.NODE_EXTRA_CA_CERTS;

// ---------------------------------------------------------------------------
// The embedded server runs from a private copy of dist/src and the entry:
// a build started meanwhile in the work tree wipes dist/.

let serverEntry = '';

export async function snapshotServer(dir: string): Promise<void> {
  const root = join(dir, 'build');
  const entry = fileURLToPath(new URL('./registry-server.js', import.meta.url));
  for (let attempt = 1; ; attempt++) {
    try {
      await rm(root, { recursive: true, force: true });
      await mkdir(join(root, 'dist', 'bench'), { recursive: true });
      await cp(join(repoRoot, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
      await cp(entry, join(root, 'dist', 'bench', 'registry-server.js'));
      await symlink(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
      await stat(join(root, 'dist', 'src', 'registry', 'server.js'));
      serverEntry = join(root, 'dist', 'bench', 'registry-server.js');
      // A copy taken half-way through a build fails to start: try it once here.
      const probe = await startChartprovServer(join(dir, 'probe-data'));
      await probe.stop();
      await rm(join(dir, 'probe-data'), { recursive: true, force: true });
      return;
    } catch (err) {
      if (attempt >= 6) throw new Error(`no complete build of the registry in ${repoRoot}/dist: ${String(err)}`);
      await sleep(15_000);
    }
  }
}

const live = new Set<ChildProcess>();
let exitHook = false;

/** `node registry-server.js DATA_DIR`, with --cpu-prof into BENCH_REGISTRY_CPU_PROF when set. */
export async function startChartprovServer(dataDir: string): Promise<BenchServer> {
  if (!serverEntry) throw new Error('snapshotServer() first');
  await mkdir(dataDir, { recursive: true });
  const profDir = process.env.BENCH_REGISTRY_CPU_PROF;
  // With auth by default, as `chartprov serve` runs; BENCH_REGISTRY_AUTH=0 for none.
  const auth = process.env.BENCH_REGISTRY_AUTH === '0' ? 'none' : 'harbor';
  const nodeArgs = [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), serverEntry, dataDir, auth];
  // setpriv: the server dies with the benchmark even when that is SIGKILLed. It execs, so the pid is node's.
  const child = onPath('setpriv')
    ? spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...nodeArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: serverEnv,
      })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', (l) => {
        rl.close();
        resolve(l);
      });
      child.once('exit', (code, signal) => reject(new Error(`registry-server exited (${code ?? signal}): ${stderr}`)));
      child.once('error', reject);
      setTimeout(() => reject(new Error(`registry-server did not start in 15 s: ${stderr}`)), 15_000).unref();
    });
    const { url, authorization } = JSON.parse(line) as { url: string; pid: number; authorization?: string };
    if (authorization) setAuthorization(url, authorization);
    child.stdout!.resume();
    return { who: 'chartprov', url, pid: child.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** docker-registry (distribution 2.8) with fresh storage; its pid found by its config file on /proc. */
export async function startDistribution(): Promise<BenchServer> {
  const reg = await startDockerRegistry();
  try {
    const pid = await pidByArg(reg.configFile);
    return { who: 'distribution', url: reg.url, pid, stop: () => reg.stop() };
  } catch (err) {
    await reg.stop();
    throw err;
  }
}

async function pidByArg(arg: string): Promise<number> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const argv = cmd.split('\0');
    if (argv.includes(arg) && argv.some((a) => a.endsWith('docker-registry')) && !argv[0]!.endsWith('setpriv')) return Number(name);
  }
  throw new Error(`no docker-registry process with ${arg} on /proc`);
}

// ---------------------------------------------------------------------------
// /proc

const CLK_TCK = 100; // Linux USER_HZ on every mainstream architecture

/** User + system CPU time of a process so far, in ms. */
export async function cpuMs(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime: fields 14 and 15
}

/** VmRSS and VmHWM (peak) of a process, in KiB. */
export async function memKiB(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/**
 * Samples VmRSS every `everyMs`. phase() gives the highest sample since the
 * last phase() (and starts a new phase); stop() the highest overall and the
 * kernel's VmHWM, which catches peaks between samples.
 */
export function sampleRss(
  pid: number,
  everyMs = 100,
): { phase(): Promise<number>; stop(): Promise<{ maxSampleKiB: number; hwmKiB: number; samples: number }> } {
  let max = 0;
  let phaseMax = 0;
  let samples = 0;
  const tick = async () => {
    const m = await memKiB(pid).catch(() => undefined);
    if (m) {
      max = Math.max(max, m.rss);
      phaseMax = Math.max(phaseMax, m.rss);
      samples++;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), everyMs);
  return {
    async phase() {
      await tick();
      const p = phaseMax;
      phaseMax = 0;
      return p;
    },
    async stop() {
      clearInterval(timer);
      await tick();
      const { hwm } = await memKiB(pid);
      return { maxSampleKiB: max, hwmKiB: hwm, samples };
    },
  };
}
