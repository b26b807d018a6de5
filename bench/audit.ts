// `chartprov audit` on a project of N signed chart versions (issue 9: 500
// versions in under 10 s on a local registry): R repositories of hello-world
// under other names, every version signed by John; one version in five
// pushed without its provenance layer and the .prov attached as a referrer
// (referrers API on the embedded registry, fallback tag on distribution).
// Timed: the built CLI, `chartprov audit oci://HOST/bench --keyring … -o json`,
// against docker-registry 2.8 (catalog listing) and the embedded registry
// (Harbor API listing, as a project member), median of a few runs.
//
//   node dist/bench/audit.js      (after `npm run build`)
//   knobs: BENCH_AUDIT_CHARTS (500), BENCH_AUDIT_REPOS (20), BENCH_AUDIT_RUNS (3),
//          BENCH_AUDIT_JOBS (16), BENCH_AUDIT_ON (both | distribution | embedded)
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { attachProvenance } from '../src/flows/attach-provenance.js';
import type { AuditReport } from '../src/flows/audit.js';
import { runPool } from '../src/flows/pool.js';
import type { RegistryOptions } from '../src/flows/registry-client.js';
import { buildProvenanceMessage, createSigner, packageChartToBuffer, pushCharts, RegistryClient } from '../src/index.js';
import { OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG } from '../src/oci/helm-media.js';
import { helloWorldSource } from '../test/peers/charts.js';
import { startEmbedded, type Creds } from '../test/peers/embedded.js';
import { keyFile, launcherPath } from '../test/peers/paths.js';
import { startDockerRegistry } from '../test/peers/registry.js';
import { tempDir } from '../test/peers/tmp.js';

const TARGET_MS = 10_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Made {
  repo: string;
  version: string;
  chart: string;
  /** Set for the versions whose prov goes in as a referrer. */
  referrer?: string;
}

/** Packages and signs `count` versions spread over `repos` repositories (one chart source per repository). */
export async function makeCharts(dir: string, count: number, repos: number): Promise<Made[]> {
  const signer = await createSigner({ keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] });
  const sources: string[] = [];
  for (let r = 0; r < repos; r++) {
    const name = `chart-${String(r).padStart(2, '0')}`;
    const d = join(dir, 'src', name);
    await mkdir(d, { recursive: true });
    const src = await helloWorldSource(d);
    const yaml = (await readFile(join(src, 'Chart.yaml'), 'utf8')).replace(/^name: .*$/m, `name: ${name}`);
    await writeFile(join(src, 'Chart.yaml'), yaml);
    await rename(src, join(d, name));
    sources.push(join(d, name));
  }
  const signed = join(dir, 'signed');
  const bare = join(dir, 'bare');
  await mkdir(signed, { recursive: true });
  await mkdir(bare, { recursive: true });
  // In memory and written without fsync (the library's own writes are durable, a bench needs no durability).
  return runPool(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      const r = i % repos;
      const version = `1.${Math.floor(i / repos)}.0`;
      const packed = await packageChartToBuffer({ chartDir: sources[r]!, version });
      const prov = await signer.sign(buildProvenanceMessage(packed.metadata, packed.fileName, packed.sha256));
      const repo = `chart-${String(r).padStart(2, '0')}`;
      // One in five pushed from a folder without its .prov (no provenance layer): the prov goes in as a referrer.
      const referred = i % 5 === 4;
      const chart = join(referred ? bare : signed, packed.fileName);
      await writeFile(chart, packed.data);
      await writeFile(join(signed, `${packed.fileName}.prov`), prov);
      return referred ? { repo, version, chart, referrer: join(signed, `${packed.fileName}.prov`) } : { repo, version, chart };
    },
  );
}

export async function populate(host: string, made: Made[], connection: RegistryOptions): Promise<void> {
  const pushed = await pushCharts({ charts: made.map((m) => m.chart), destination: `oci://${host}/bench`, jobs: 32, ...connection });
  if (pushed.failed) throw new Error(`push failed: ${JSON.stringify(pushed.results.find((r) => !r.ok))}`);
  const credential = connection.clientOptions?.credential;
  const client = await RegistryClient.create({ plainHttp: true, connections: 32, ...(credential ? { credential } : {}) });
  try {
    const withReferrer = made.filter((m) => m.referrer);
    // The empty config once per repository: parallel uploads of one blob can make distribution answer 500.
    for (const repo of new Set(withReferrer.map((m) => m.repo)))
      await client.repository(host, `bench/${repo}`).pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
    await runPool(withReferrer, 16, (m) =>
      attachProvenance({ reference: `oci://${host}/bench/${m.repo}:${m.version}`, provPath: m.referrer!, client, attach: { settleMs: 1 } }),
    );
  } finally {
    await client.close();
  }
}

/** The CLI as a child process, without blocking this event loop (the embedded registry serves from it). */
function audit(host: string, jobs: number, env: NodeJS.ProcessEnv): Promise<{ ms: number; report: AuditReport }> {
  const args = ['audit', `oci://${host}/bench`, '--keyring', keyFile('john-pubring.gpg'), '--plain-http', '-o', 'json', '-j', String(jobs)];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(launcherPath, args, { env, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      // Exit 1 means violations: the report says which; anything else is a failure of the run.
      if (err && err.code !== 1) return reject(new Error(`chartprov audit failed: ${String(stderr).slice(-2000) || err.message}`));
      try {
        resolve({ ms, report: JSON.parse(String(stdout)) as AuditReport });
      } catch {
        reject(new Error(`chartprov audit printed no JSON: ${String(stderr).slice(-2000)}`));
      }
    });
  });
}

async function measure(label: string, host: string, made: Made[], env: NodeJS.ProcessEnv, runs: number, jobs: number): Promise<void> {
  const times: number[] = [];
  let report: AuditReport | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await audit(host, jobs, env);
    times.push(r.ms);
    report = r.report;
  }
  const s = report!.summary;
  const referrers = report!.versions.filter((v) => v.signatures.some((g) => g.source !== 'layer')).length;
  const right = s.total === made.length && s.valid === made.length && referrers === made.filter((m) => m.referrer).length;
  const ms = median(times);
  console.log(
    `${`audit ${made.length} versions, ${label}`.padEnd(52)} ${(ms / 1000).toFixed(2).padStart(7)} s   target < ${TARGET_MS / 1000} s ${ms < TARGET_MS ? 'met' : 'MISSED'}` +
      `   (${s.repositories} repositories via ${report!.listing}, ${referrers} with referrers${right ? '' : `; UNEXPECTED report: ${JSON.stringify(s)}`})`,
  );
}

export async function runAuditBench(): Promise<void> {
  const count = Number(process.env.BENCH_AUDIT_CHARTS ?? 500);
  const repos = Math.max(1, Math.min(count, Number(process.env.BENCH_AUDIT_REPOS ?? 20)));
  const runs = Number(process.env.BENCH_AUDIT_RUNS ?? 3);
  const jobs = Number(process.env.BENCH_AUDIT_JOBS ?? 16);
  const on = process.env.BENCH_AUDIT_ON ?? 'both';
  const { dir, cleanup } = await tempDir('chartprov-bench-audit-');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, NO_COLOR: '1' };
  delete env.NODE_EXTRA_CA_CERTS;
  try {
    const t0 = performance.now();
    const made = await makeCharts(dir, count, repos);
    console.log(
      `\nchartprov audit — ${count} signed versions in ${repos} repositories (packaged and signed in ${((performance.now() - t0) / 1000).toFixed(1)} s), median of ${runs}`,
    );
    if (on === 'both' || on === 'distribution') {
      const dr = await startDockerRegistry();
      try {
        const p0 = performance.now();
        await populate(dr.host, made, { plainHttp: true });
        console.log(`  (docker-registry populated in ${((performance.now() - p0) / 1000).toFixed(1)} s)`);
        await measure('docker-registry 2.8 (catalog, fallback tag)', dr.host, made, env, runs, jobs);
      } finally {
        await dr.stop();
      }
    }
    if (on === 'both' || on === 'embedded') {
      const emb = await startEmbedded({ projects: ['bench'] });
      try {
        const p0 = performance.now();
        await populate(emb.host, made, { plainHttp: true, clientOptions: { credential: emb.admin } });
        console.log(`  (embedded registry populated in ${((performance.now() - p0) / 1000).toFixed(1)} s)`);
        const member: Creds = await emb.addUser('auditor', { roles: { bench: 'guest' } });
        const memberEnv = {
          ...env,
          CHARTPROV_USERNAME: member.username,
          CHARTPROV_PASSWORD: member.password,
          CHARTPROV_REGISTRY: emb.host,
        };
        await measure('embedded registry (Harbor API, referrers API)', emb.host, made, memberEnv, runs, jobs);
      } finally {
        await emb.stop();
      }
    }
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runAuditBench();
