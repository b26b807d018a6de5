// `chartprov copy --all-versions` against what a user does by hand, in the
// same run (issue 7, Performance): a repository of N signed chart versions on
// one docker-registry 2.8 (distribution, plain HTTP on loopback), each chart
// pushed without a provenance layer and its .prov attached as a referrer
// (distribution has no referrers API: the prov artifact is listed in the
// fallback index at tag `sha256-<chart digest hex>`), copied to a second
// registry:
//
//   chartprov: one process, `chartprov copy oci://SRC/bench/hello-world oci://DST/cp --all-versions`
//              (charts, prov artifacts, fallback indexes rebuilt at the destination).
//   baseline:  one shell script doing by hand what that takes, per version:
//                skopeo copy --preserve-digests docker://SRC/…:V docker://DST/…:V            (the chart)
//                skopeo copy --preserve-digests docker://SRC/…@<prov> docker://DST/…@<prov>  (the prov artifact)
//                curl GET SRC/v2/…/manifests/sha256-<hex> | curl PUT DST/…                 (the fallback index,
//                  byte for byte; only for a destination without the referrers API)
//              skopeo (1.9) is not referrer-aware, and `skopeo copy --all` of the fallback
//              index fails with --preserve-digests ("Manifest list must be converted") and,
//              without it, rewrites the index without the entries' artifactType (a prov
//              looked up by type is then lost), hence curl for the index. The script is
//              handed every chart and prov digest, so it does not pay for the `skopeo
//              inspect` / index reads a user would need to find them: the comparison
//              favours the baseline.
//
// Destinations: a second docker-registry 2.8 (the target row) and the embedded
// registry (referrers API). Each round uses fresh destination repositories;
// chartprov/baseline order alternates between rounds. A miss never fails the process.
//
//   node dist/bench/copy.js      (after `npm run build`)
//   knobs: BENCH_COPY_VERSIONS (100), BENCH_COPY_ROUNDS (1), BENCH_COPY_JOBS (4),
//          BENCH_COPY_TO (both | distribution | embedded)
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { attachProvenance } from '../src/flows/attach-provenance.js';
import { runPool } from '../src/flows/pool.js';
import { createSigner, packageAndSignChart, pushCharts, RegistryClient } from '../src/index.js';
import { OCI_EMPTY_BYTES, OCI_EMPTY_CONFIG } from '../src/oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../src/oci/provenance-artifact.js';
import { skopeoEnv } from '../test/peers/skopeo.js';
import { fallbackTag, listReferrers } from '../src/oci/referrers.js';
import { helloWorldSource } from '../test/peers/charts.js';
import { startEmbedded, type EmbeddedRegistry } from '../test/peers/embedded.js';
import { keyFile, repoRoot } from '../test/peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../test/peers/registry.js';
import { tempDir } from '../test/peers/tmp.js';

const baseEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete baseEnv.NODE_EXTRA_CA_CERTS;
delete baseEnv.CHARTPROV_PASSPHRASE;
delete baseEnv.CHARTPROV_SIGNING_KEY;

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command without blocking the event loop (the embedded registry serves from this process). */
function run(bin: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      if (err) reject(new Error(`${what} failed: ${String(stderr).slice(-2000) || err.message}`));
      else resolve({ ms, stdout: String(stdout) });
    });
  });
}

/** bin/ and the CLI bundle copied aside: a build started meanwhile (it wipes dist/) cannot pull them away. */
async function snapshotCli(dir: string): Promise<string> {
  const root = join(dir, 'build');
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(join(root, 'dist'), { recursive: true });
      await cp(join(repoRoot, 'bin'), join(root, 'bin'), { recursive: true });
      await cp(join(repoRoot, 'dist', 'cli-bundle'), join(root, 'dist', 'cli-bundle'), { recursive: true });
      await stat(join(root, 'dist', 'cli-bundle', 'chartprov.cjs'));
      await symlink(join(repoRoot, 'node_modules'), join(root, 'node_modules')).catch(() => undefined);
      return join(root, 'bin', 'chartprov');
    } catch (err) {
      if (attempt >= 8) throw new Error(`no complete build in ${repoRoot}/dist: ${String(err)}`);
      await sleep(15_000);
    }
  }
}

interface Source {
  host: string;
  repo: string;
  /** Each version's chart digest and the digest of its provenance artifact (the referrer). */
  versions: { version: string; digest: string; prov: string }[];
}

/** N signed versions of hello-world on `reg`: charts without prov layer, each .prov attached as a referrer. */
async function makeSource(dir: string, reg: DockerRegistry, count: number): Promise<Source> {
  const src = await helloWorldSource(dir);
  const signer = await createSigner({ keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] });
  const versions = Array.from({ length: count }, (_, i) => `1.0.${i}`);
  const signed = join(dir, 'signed');
  const bare = join(dir, 'bare');
  await mkdir(bare, { recursive: true });
  const made = await runPool(versions, 4, async (version) => {
    const r = await packageAndSignChart({ chartDir: src, destination: signed, version, sign: signer });
    // Pushed from a folder without the .prov: no provenance layer.
    await copyFile(r.path, join(bare, r.fileName));
    return { version, path: join(bare, r.fileName), prov: `${r.path}.prov` };
  });
  const pushed = await pushCharts({ charts: made.map((m) => m.path), destination: `oci://${reg.host}/bench`, plainHttp: true, jobs: 8 });
  if (pushed.failed) throw new Error(`push failed: ${JSON.stringify(pushed.results.find((r) => !r.ok))}`);
  const client = await RegistryClient.create({ plainHttp: true });
  let attached;
  try {
    // Every prov artifact has the same empty config: push it once, as parallel uploads of one
    // blob can make distribution 2.8 answer 500 (seen here with 8 attaches at once).
    await client
      .repository(reg.host, 'bench/hello-world')
      .pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) }, { digest: OCI_EMPTY_CONFIG.digest });
    attached = await runPool(made, 8, (m) =>
      attachProvenance({
        reference: `oci://${reg.host}/bench/hello-world:${m.version}`,
        provPath: m.prov,
        client,
        attach: { settleMs: 1 }, // nobody else writes here
      }),
    );
  } finally {
    await client.close();
  }
  const digests = new Map(pushed.results.map((r) => (r.ok ? [r.version, r.digest] : ['', ''])));
  return {
    host: reg.host,
    repo: 'bench/hello-world',
    versions: versions.map((version, i) => ({ version, digest: digests.get(version)!, prov: attached[i]!.referrer })),
  };
}

interface Destination {
  name: string;
  host: string;
  /** Has the referrers API: no fallback index to copy. */
  api: boolean;
  /** Extra `chartprov` environment (credentials). */
  env: NodeJS.ProcessEnv;
  skopeoCreds: string[];
  client(): Promise<RegistryClient>;
}

async function chartprovCopy(launcher: string, source: Source, dest: Destination, path: string, jobs: number): Promise<number> {
  const env = { ...baseEnv, ...dest.env };
  const r = await run(
    launcher,
    [
      'copy',
      `oci://${source.host}/${source.repo}`,
      `oci://${dest.host}/${path}`,
      '--all-versions',
      '--plain-http',
      '-j',
      String(jobs),
      '-o',
      'json',
    ],
    env,
    'chartprov copy',
  );
  const result = JSON.parse(r.stdout) as { copied: number; failed: number; referrersCopied: number };
  const n = source.versions.length;
  if (result.copied !== n || result.failed !== 0 || result.referrersCopied !== n)
    throw new Error(`chartprov copy: ${result.copied} copied, ${result.failed} failed, ${result.referrersCopied} referrers, expected ${n}`);
  return r.ms;
}

async function skopeoCopy(dir: string, env: NodeJS.ProcessEnv, source: Source, dest: Destination, path: string): Promise<number> {
  const flags = [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--preserve-digests',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    ...dest.skopeoCreds,
  ]
    .map(q)
    .join(' ');
  const from = (ref: string) => q(`docker://${source.host}/${source.repo}${ref}`);
  const to = (ref: string) => q(`docker://${dest.host}/${path}/hello-world${ref}`);
  const index = 'application/vnd.oci.image.index.v1+json';
  const lines = source.versions.flatMap((v) => {
    const tag = fallbackTag(v.digest);
    return [
      `skopeo ${flags} ${from(`:${v.version}`)} ${to(`:${v.version}`)}`,
      `skopeo ${flags} ${from(`@${v.prov}`)} ${to(`@${v.prov}`)}`,
      ...(dest.api
        ? []
        : [
            `curl -sSf -H ${q(`Accept: ${index}`)} ${q(`http://${source.host}/v2/${source.repo}/manifests/${tag}`)} | ` +
              `curl -sSf -o /dev/null -X PUT -H ${q(`Content-Type: ${index}`)} --data-binary @- ${q(`http://${dest.host}/v2/${path}/hello-world/manifests/${tag}`)}`,
          ]),
    ];
  });
  const script = join(dir, `skopeo-${dest.name.replace(/\W+/g, '-')}-${path.replaceAll('/', '_')}.sh`);
  await writeFile(script, `set -e\n${lines.join('\n')}\n`);
  return (await run('sh', [script], env, 'skopeo loop')).ms;
}

/** Both copies hold every chart under its own digest with its prov findable (first, middle, last checked in full). */
async function check(source: Source, dest: Destination, path: string): Promise<void> {
  const client = await dest.client();
  try {
    const repo = client.repository(dest.host, `${path}/hello-world`);
    const tags = new Set(await repo.listTags());
    const picks = [0, Math.floor(source.versions.length / 2), source.versions.length - 1];
    for (const [i, v] of source.versions.entries()) {
      if (!tags.has(v.version)) throw new Error(`${dest.name}/${path}: ${v.version} missing`);
      if (!picks.includes(i)) continue;
      const m = await repo.fetchManifest(v.version);
      if (m.digest !== v.digest) throw new Error(`${dest.name}/${path}: ${v.version} is ${m.digest}, not ${v.digest}`);
      const refs = await listReferrers(repo, v.digest, { artifactType: PROVENANCE_ARTIFACT_TYPE });
      if (refs.referrers.length !== 1 || refs.referrers[0]!.digest !== v.prov)
        throw new Error(`${dest.name}/${path}: ${v.version}'s provenance referrers are ${JSON.stringify(refs.referrers)}, not [${v.prov}]`);
    }
  } finally {
    await client.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runCopyBench(): Promise<void> {
  const started = performance.now();
  const count = Number(process.env.BENCH_COPY_VERSIONS ?? 100);
  const rounds = Number(process.env.BENCH_COPY_ROUNDS ?? 1);
  const jobs = Number(process.env.BENCH_COPY_JOBS ?? 4);
  const to = process.env.BENCH_COPY_TO ?? 'both';
  const { dir, cleanup } = await tempDir('chartprov-bench-copy-');
  const regs: DockerRegistry[] = [];
  let emb: EmbeddedRegistry | undefined;
  try {
    const launcher = await snapshotCli(dir);
    const [srcReg, dstReg] = await Promise.all([startDockerRegistry(), startDockerRegistry()]);
    regs.push(srcReg, dstReg);
    const t0 = performance.now();
    const source = await makeSource(dir, srcReg, count);
    const skEnv = skopeoEnv();
    const sk = await run('skopeo', ['--version'], skEnv, 'skopeo --version');

    const dests: Destination[] = [];
    if (to !== 'embedded')
      dests.push({
        name: 'docker-registry 2.8',
        host: dstReg.host,
        api: false,
        env: {},
        skopeoCreds: [],
        client: () => RegistryClient.create({ plainHttp: true }),
      });
    if (to !== 'distribution') {
      emb = await startEmbedded({ projects: Array.from({ length: rounds }, (_, r) => `r${r + 1}`) });
      const e = emb;
      dests.push({
        name: 'chartprov serve',
        host: e.host,
        api: true,
        env: { CHARTPROV_USERNAME: e.admin.username, CHARTPROV_PASSWORD: e.admin.password, CHARTPROV_REGISTRY: e.host },
        skopeoCreds: ['--dest-creds', `${e.admin.username}:${e.admin.password}`],
        client: () => e.client(e.admin),
      });
    }

    console.log(
      `\n== copy: ${count} signed chart versions (prov attached as a referrer: fallback tag) from docker-registry 2.8 ${srcReg.host}, plain HTTP, ${process.version}, ${sk.stdout.trim()}`,
    );
    console.log(`   source made in ${fmt(performance.now() - t0)}; ${rounds} round(s), order alternating; chartprov -j ${jobs}`);
    console.log(
      '   baseline, one sh script, per version: skopeo copy --preserve-digests of the tag, of the prov artifact by digest, and (destination without referrers API) curl GET|PUT of the sha256-<hex> fallback index; digests handed to the script',
    );
    console.log(
      `${'destination'.padEnd(22)} ${'chartprov copy'.padStart(15)} ${'skopeo loop'.padStart(13)} ${'per version'.padStart(17)} ${'speed-up'.padStart(9)}   target ≥ 3×`,
    );
    for (const dest of dests) {
      const cps: number[] = [];
      const sks: number[] = [];
      for (let r = 1; r <= rounds; r++) {
        // The embedded registry has a project per round (r1, r2, …); distribution takes any path.
        const base = `r${r}`;
        const doCp = async () => cps.push(await chartprovCopy(launcher, source, dest, `${base}/chartprov`, jobs));
        const doSk = async () => sks.push(await skopeoCopy(dir, skEnv, source, dest, `${base}/skopeo`));
        if (r % 2 === 1) {
          await doCp();
          await doSk();
        } else {
          await doSk();
          await doCp();
        }
        await check(source, dest, `${base}/chartprov`);
        await check(source, dest, `${base}/skopeo`);
      }
      const a = median(cps);
      const b = median(sks);
      const ratio = b / a;
      const perVersion = `${(a / count).toFixed(0)} / ${(b / count).toFixed(0)} ms`;
      console.log(
        `${dest.name.padEnd(22)} ${fmt(a).padStart(15)} ${fmt(b).padStart(13)} ${perVersion.padStart(17)} ${`${ratio.toFixed(1)}×`.padStart(9)}   ${ratio >= 3 ? 'PASS' : 'MISS'}`,
      );
    }
    console.log(
      '   both copies checked after each round: every tag there; digest and the prov referrer of the first, middle and last version',
    );
    console.log(`copy benchmark took ${fmt(performance.now() - started)}`);
  } finally {
    await emb?.stop();
    await Promise.all(regs.map((r) => r.stop()));
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCopyBench();
