// 200 concurrent clients against `chartprov serve` (its own process, auth on,
// as users run it) on loopback for CHARTPROV_LOAD_SECONDS (default 60): each
// client has its own keep-alive connection, bearer token and repository, and
// half of them share each of 8 repositories, some of whose tags they all
// race to move. They push (monolithic, POST+PUT and chunked uploads; some
// layers identical across clients) and pull back what was acknowledged,
// checking every byte. Afterwards, with the server stopped, the storage check
// finds no problem, and what is stored is exactly what was acknowledged:
// every tag, manifest and blob, and nothing else.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { Accounts } from '../../src/registry/auth/accounts.js';
import { checkRegistryStorage } from '../../src/registry/storage/check.js';
import { createFilesystemStorage } from '../../src/registry/storage/index.js';
import { recordFigure } from '../peers/figures.js';
import { cliPath } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const CLIENTS = 200;
const SHARED_REPOS = 8;
/** Tags in each shared repository that every client of it keeps moving. */
const CONTESTED_TAGS = 3;
const SECONDS = Number(process.env.CHARTPROV_LOAD_SECONDS || 60);
assert.ok(SECONDS > 0, `CHARTPROV_LOAD_SECONDS must be a positive number of seconds, not ${process.env.CHARTPROV_LOAD_SECONDS}`);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const ADMIN_PASSWORD = 'Admin-Passw0rd-For-Load';
const USERS = ['ann', 'bob', 'cyd', 'dan'];
const password = (user: string) => `Pw-${user}-Load9`;
const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

let work: string;
let cleanup: () => Promise<void>;
let server: ReturnType<typeof spawn> | undefined;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-load-'));
});
after(async () => {
  server?.kill('SIGKILL');
  await cleanup?.();
});

/** `chartprov serve` on a free port; its request log goes to a file, as an operator would redirect it. */
async function startServe(dataDir: string, logFile: string): Promise<{ url: string; exited: Promise<unknown[]> }> {
  const log = openSync(logFile, 'a');
  const env = { ...process.env, HOME: work, XDG_DATA_HOME: join(work, 'xdg'), CHARTPROV_ADMIN_PASSWORD: ADMIN_PASSWORD };
  server = spawn(process.execPath, [cliPath, 'serve', '--addr', '127.0.0.1:0', '--data', dataDir], { env, stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  const exited = once(server, 'exit');
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s: ${out}`)), 20_000);
    server!.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^ready: (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`chartprov serve exited before it was ready: ${out}`)));
  });
  return { url, exited };
}

// ---- what the clients were told: the acknowledged state

interface Pushed {
  repo: string;
  tag: string;
  digest: string;
  layer: string;
  layerSize: number;
}

class Ledger {
  /** repo → tag → digests acknowledged for it (one unless the tag is contested). */
  readonly tags = new Map<string, Map<string, Set<string>>>();
  /** repo → tag → digests sent to it, answered or not yet: what a concurrent read may see. */
  readonly sent = new Map<string, Map<string, Set<string>>>();
  /** repo → manifest digests acknowledged. */
  readonly manifests = new Map<string, Set<string>>();
  readonly blobs = new Set<string>();
  /** repo → pushes a client may pull back. */
  readonly pullable = new Map<string, Pushed[]>();

  private static add(map: Map<string, Map<string, Set<string>>>, repo: string, tag: string, digest: string): void {
    let byTag = map.get(repo);
    if (!byTag) map.set(repo, (byTag = new Map()));
    let set = byTag.get(tag);
    if (!set) byTag.set(tag, (set = new Set()));
    set.add(digest);
  }

  sending(repo: string, tag: string, digest: string): void {
    Ledger.add(this.sent, repo, tag, digest);
  }

  acknowledged(p: Pushed, blobs: string[]): void {
    Ledger.add(this.tags, p.repo, p.tag, p.digest);
    let set = this.manifests.get(p.repo);
    if (!set) this.manifests.set(p.repo, (set = new Set()));
    set.add(p.digest);
    for (const b of blobs) this.blobs.add(b);
    let list = this.pullable.get(p.repo);
    if (!list) this.pullable.set(p.repo, (list = []));
    list.push(p);
  }
}

// ---- one client: its own connection, token and repository

interface Stats {
  latencies: number[];
  /** Requests answered in each 10 s of the run, to see whether throughput holds up as the store grows. */
  perTenSeconds: number[];
  start: number;
  errors: string[];
  errorCount: number;
  rateLimited: number;
  pushes: number;
  pulls: number;
  bytesUp: number;
  bytesDown: number;
}

class LoadClient {
  private readonly agent = new Agent({ connections: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 });
  private token = '';
  private n = 0;

  constructor(
    private readonly origin: string,
    private readonly index: number,
    private readonly ledger: Ledger,
    private readonly stats: Stats,
    /** Layers several clients push byte for byte: the same blob committed concurrently. */
    private readonly common: Buffer[],
  ) {}

  get own(): string {
    return `load/c${this.index}`;
  }

  get shared(): string {
    return `load/shared-${this.index % SHARED_REPOS}`;
  }

  async login(): Promise<void> {
    const user = USERS[this.index % USERS.length]!;
    const q = new URLSearchParams({ service: 'chartprov-registry' });
    q.append('scope', `repository:${this.own}:pull,push`);
    q.append('scope', `repository:${this.shared}:pull,push`);
    const res = await this.call('GET', `/service/token?${q}`, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password(user)}`).toString('base64')}` },
      expect: 200,
    });
    this.token = (JSON.parse(res.body.toString()) as { token: string }).token;
  }

  async run(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      try {
        if (Math.random() < 0.65 || !this.ledger.pullable.has(this.own)) await this.push(Math.random() < 0.6 ? this.own : this.shared);
        else await this.pull(Math.random() < 0.5 ? this.own : this.shared);
      } catch (err) {
        this.stats.errorCount++;
        if (this.stats.errors.length < 10) this.stats.errors.push(`client ${this.index}: ${(err as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async push(repo: string): Promise<void> {
    const i = this.n++;
    const layer = repo === this.shared && i % 4 === 0 ? this.common[(this.index + i) % this.common.length]! : randomLayer();
    const layerDigest = await this.upload(repo, layer, i % 3);
    const config = Buffer.from(JSON.stringify({ name: repo, client: this.index, i, seed: randomBytes(8).toString('hex') }));
    const configDigest = await this.upload(repo, config, 0);
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: CONFIG, digest: configDigest, size: config.length },
        layers: [{ mediaType: LAYER, digest: layerDigest, size: layer.length }],
      }),
    );
    const digest = sha256(bytes);
    const contested = repo === this.shared && i % 3 === 1;
    const tag = contested ? `hot-${i % CONTESTED_TAGS}` : repo === this.own ? `v${i}` : `c${this.index}-${i}`;
    this.ledger.sending(repo, tag, digest);
    const res = await this.call('PUT', `/v2/${repo}/manifests/${tag}`, {
      body: bytes,
      headers: { 'content-type': OCI_MANIFEST },
      expect: 201,
    });
    assert.equal(res.headers['docker-content-digest'], digest, 'manifest PUT answers with its digest');
    this.ledger.acknowledged({ repo, tag, digest, layer: layerDigest, layerSize: layer.length }, [digest, configDigest, layerDigest]);
    this.stats.pushes++;
  }

  /** Style 0: POST ?digest= with the body; 1: POST, then PUT ?digest= with the body; 2: POST, PATCH, PUT. */
  private async upload(repo: string, data: Buffer, style: number): Promise<string> {
    const digest = sha256(data);
    const headers = { 'content-type': 'application/octet-stream' };
    if (style === 0) {
      await this.call('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: data, headers, expect: 201 });
      return digest;
    }
    const start = await this.call('POST', `/v2/${repo}/blobs/uploads/`, { expect: 202 });
    let location = String(start.headers.location);
    if (style === 2) {
      const patched = await this.call('PATCH', location, {
        body: data,
        headers: { ...headers, 'content-range': `0-${data.length - 1}` },
        expect: 202,
      });
      location = String(patched.headers.location);
    }
    const sep = location.includes('?') ? '&' : '?';
    await this.call('PUT', `${location}${sep}digest=${digest}`, { ...(style === 1 ? { body: data, headers } : {}), expect: 201 });
    return digest;
  }

  private async pull(repo: string): Promise<void> {
    const list = this.ledger.pullable.get(repo);
    if (!list || list.length === 0) return;
    const p = list[Math.floor(Math.random() * list.length)]!;
    const m = await this.call('GET', `/v2/${repo}/manifests/${p.tag}`, { headers: { accept: OCI_MANIFEST }, expect: 200 });
    const digest = sha256(m.body);
    assert.equal(m.headers['docker-content-digest'], digest, `${repo}:${p.tag}: bytes and Docker-Content-Digest agree`);
    const allowed = this.ledger.sent.get(repo)!.get(p.tag)!;
    assert.ok(allowed.has(digest), `${repo}:${p.tag} names ${digest}, which nobody pushed to it`);
    const b = await this.call('GET', `/v2/${repo}/blobs/${p.layer}`, { expect: 200 });
    assert.equal(b.body.length, p.layerSize);
    assert.equal(sha256(b.body), p.layer, `${repo} layer ${p.layer} reads back intact`);
    this.stats.pulls++;
  }

  private async call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    opts: { body?: Buffer; headers?: Record<string, string>; expect: number },
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const headers: Record<string, string> = { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...opts.headers };
    const t0 = performance.now();
    const res = await this.agent.request({ origin: this.origin, path, method, headers, ...(opts.body ? { body: opts.body } : {}) });
    const body = Buffer.from(await res.body.arrayBuffer());
    this.stats.latencies.push(performance.now() - t0);
    const bucket = Math.floor((Date.now() - this.stats.start) / 10_000);
    if (bucket >= 0) this.stats.perTenSeconds[bucket] = (this.stats.perTenSeconds[bucket] ?? 0) + 1;
    this.stats.bytesUp += opts.body?.length ?? 0;
    this.stats.bytesDown += body.length;
    if (res.statusCode === 429) this.stats.rateLimited++;
    if (res.statusCode !== opts.expect)
      throw new Error(`${method} ${path.split('?')[0]}: ${res.statusCode} ${body.toString().slice(0, 200)}`);
    return { status: res.statusCode, headers: res.headers, body };
  }
}

/** Mostly small layers (a chart is a few KiB), one in 40 between 256 KiB and 1 MiB. */
function randomLayer(): Buffer {
  const size = Math.random() < 0.025 ? 256 * 1024 + Math.floor(Math.random() * 768 * 1024) : 1024 + Math.floor(Math.random() * 15 * 1024);
  return randomBytes(size);
}

/** User + system CPU time of a process so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('load', () => {
  it(`${CLIENTS} clients pushing and pulling for ${SECONDS} s: no errors, and the store holds exactly what was acknowledged`, async (t) => {
    const dataDir = join(work, 'data');
    const logFile = join(work, 'serve.log');
    const serve = await startServe(dataDir, logFile);
    // The accounts file is shared with other processes while the server runs, as `chartprov serve user add` does.
    const accounts = await Accounts.open(dataDir);
    await accounts.createProject({ name: 'load', public: false });
    for (const user of USERS) {
      await accounts.addUser({ name: user, password: password(user) });
      await accounts.setMember('load', user, 'developer');
    }

    const ledger = new Ledger();
    const stats: Stats = {
      latencies: [],
      perTenSeconds: [],
      start: Number.POSITIVE_INFINITY,
      errors: [],
      errorCount: 0,
      rateLimited: 0,
      pushes: 0,
      pulls: 0,
      bytesUp: 0,
      bytesDown: 0,
    };
    const common = Array.from({ length: 16 }, () => randomLayer());
    const clients = Array.from({ length: CLIENTS }, (_, i) => new LoadClient(serve.url, i, ledger, stats, common));
    await Promise.all(clients.map((c) => c.login()));
    stats.latencies.length = 0; // the logins are setup, not load
    const serverCpu0 = cpuSeconds(server!.pid!);
    const clientCpu0 = process.cpuUsage();
    const t0 = Date.now();
    stats.start = t0;
    await Promise.all(clients.map((c) => c.run(t0 + SECONDS * 1000)));
    const seconds = (Date.now() - t0) / 1000;
    const serverCpu = cpuSeconds(server!.pid!) - serverCpu0;
    const clientUsage = process.cpuUsage(clientCpu0);
    const clientCpu = (clientUsage.user + clientUsage.system) / 1e6;
    await Promise.all(clients.map((c) => c.close()));

    server!.kill('SIGTERM');
    const [code] = await serve.exited;
    assert.equal(code, 0, 'chartprov serve stops cleanly on SIGTERM');
    const sorted = Float64Array.from(stats.latencies).sort();
    const p50 = percentile(Array.from(sorted), 50);
    const p99 = percentile(Array.from(sorted), 99);
    const requests = stats.latencies.length;
    t.diagnostic(
      `${requests} requests in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(0)}/s): ${stats.pushes} pushes, ${stats.pulls} pulls, ` +
        `${(stats.bytesUp / 1048576).toFixed(0)} MiB up, ${(stats.bytesDown / 1048576).toFixed(0)} MiB down; ` +
        `latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted[sorted.length - 1]?.toFixed(0)} ms; ` +
        `${stats.errorCount} errors, ${stats.rateLimited} 429s; requests per 10 s: ${stats.perTenSeconds.join(' ')}; ` +
        `CPU seconds: server ${serverCpu.toFixed(1)}, clients ${clientCpu.toFixed(1)}`,
    );

    // What is stored is exactly what was acknowledged.
    const t1 = Date.now();
    const report = await checkRegistryStorage({ dataDir });
    const checkSeconds = (Date.now() - t1) / 1000;
    const storage = await createFilesystemStorage(dataDir);
    let lost = 0;
    const missing: string[] = [];
    const miss = (what: string) => {
      lost++;
      if (missing.length < 10) missing.push(what);
    };
    let tags = 0;
    let manifests = 0;
    for (const [repo, byTag] of ledger.tags) {
      const stored = new Set(await storage.listTags(repo));
      tags += byTag.size;
      for (const [tag, digests] of byTag) {
        const m = await storage.getManifest(repo, tag);
        if (!m || !digests.has(m.digest)) miss(`${repo}:${tag} resolves to ${m?.digest ?? 'nothing'}`);
        stored.delete(tag);
      }
      for (const tag of stored) miss(`${repo}:${tag} is stored but was never acknowledged`);
      const held = new Set(await storage.listManifests(repo));
      const acked = ledger.manifests.get(repo)!;
      manifests += acked.size;
      for (const d of acked) if (!held.has(d)) miss(`${repo}@${d} is gone`);
      assert.equal(held.size, acked.size, `${repo}: manifests stored = acknowledged`);
    }
    for (const d of ledger.blobs) if ((await storage.statBlob(d)) === undefined) miss(`blob ${d} is gone`);
    t.diagnostic(
      `check: ${report.blobs} blobs (${(report.blobBytes / 1048576).toFixed(0)} MiB) re-hashed, ${report.manifests} manifests, ${report.tags} tags ` +
        `in ${report.repositories} repositories in ${checkSeconds.toFixed(1)} s; acknowledged: ${ledger.blobs.size} blobs, ${manifests} manifests, ${tags} tags`,
    );
    recordFigure({
      area: 'load',
      item: `${CLIENTS} clients (own connection and token each) pushing and pulling on loopback against chartprov serve with auth`,
      tried: requests,
      outcome: `${stats.errorCount} errors; check: ${report.problems.length} problems; stored = acknowledged (${manifests} manifests, ${tags} tags)`,
      lost,
      measures: {
        requests,
        errors: stats.errorCount,
        rateLimited: stats.rateLimited,
        p50Ms: Number(p50.toFixed(1)),
        p99Ms: Number(p99.toFixed(1)),
        seconds: Number(seconds.toFixed(1)),
        clients: CLIENTS,
        pushes: stats.pushes,
        pulls: stats.pulls,
        requestsPerSecond: Number((requests / seconds).toFixed(0)),
        serverCpuSeconds: Number(serverCpu.toFixed(1)),
        clientCpuSeconds: Number(clientCpu.toFixed(1)),
      },
    });

    assert.deepEqual(stats.errors, [], `${stats.errorCount} errors during the load`);
    assert.equal(stats.rateLimited, 0, 'no 429: the registry rate-limits failed logins only');
    assert.ok(stats.pushes > CLIENTS && stats.pulls > CLIENTS, `every client got to work: ${stats.pushes} pushes, ${stats.pulls} pulls`);
    assert.deepEqual(report.problems, [], 'the storage check finds no problem');
    assert.deepEqual(report.leftovers, [], 'nothing left by interrupted writes');
    assert.equal(report.uploads, 0, 'every upload was committed');
    assert.deepEqual(missing, [], `${lost} acknowledged objects missing or wrong`);
    assert.equal(report.tags, tags, 'tags stored = acknowledged');
    assert.equal(report.manifests, manifests, 'manifests stored = acknowledged');
    assert.equal(report.blobs, ledger.blobs.size, 'blobs stored = acknowledged (manifests included)');
    // The request log saw every request (one line each), and the server logged no internal error.
    const logged = await readFile(logFile, 'utf8');
    assert.doesNotMatch(logged, / failed: /, 'no request failed inside the server');
  });
});
