// chartprov mirror, interrupted and resumed: the CLI is SIGKILLed half-way
// through an --attach mirror of the chart farm (behind Basic auth) into
// docker-registry 2.8, and a re-run completes it with every tag and every
// prov exactly once. Also: charts a migration pushed without their .prov
// (Harbor 2.8's script) get it attached, digest unchanged; and the
// repository's credentials, right, wrong and missing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fallbackTag, mirrorCharts, pushCharts, RegistryClient, type MirrorResult } from '../../src/index.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import { buildChartFarm, type ChartFarm, type FarmVersion } from '../peers/chart-farm.js';
import { runCli } from '../peers/cli.js';
import { cliPath } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';

const AUTH = { username: 'jane', password: 'Farm-s3cret-Pass' };
const NAMES = ['alpha', 'beta', 'gamma', 'delta'];

let farm: ChartFarm;
let dr: DockerRegistry;
let work: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-mirror-resume-'));
  [farm, dr] = await Promise.all([buildChartFarm({ auth: AUTH }), startDockerRegistry()]);
});

after(async () => {
  await Promise.all([farm?.close(), dr?.stop()]);
  await cleanup?.();
});

const keyringFlags = () => farm.pubrings.flatMap((k) => ['--keyring', k]);
const pushedVersions = () => farm.versions.filter((v) => v.prov === 'good' || v.prov === 'none');

/** Pushes farm versions without their .prov, as `helm push` from a folder without them would. */
async function pushBare(versions: FarmVersion[], base: string): Promise<Map<string, string>> {
  const bare = await mkdtemp(join(work, 'bare-'));
  for (const v of versions) await copyFile(join(farm.dir, v.file), join(bare, v.file));
  const pushed = await pushCharts({
    charts: versions.map((v) => join(bare, v.file)),
    destination: `oci://${dr.host}/${base}`,
    plainHttp: true,
  });
  const digests = new Map<string, string>();
  for (const r of pushed.results) {
    assert.ok(r.ok, JSON.stringify(r));
    digests.set(`${r.name} ${r.version}`, r.digest);
  }
  return digests;
}

/** Version tags per chart (fallback `sha256-…` tags left out); none for a repository not there. */
async function versionTags(client: RegistryClient, base: string): Promise<string[]> {
  const all: string[] = [];
  for (const name of NAMES) {
    const tags = await client
      .repository(dr.host, `${base}/${name}`)
      .listTags()
      .catch(() => []);
    all.push(...tags.filter((t) => !t.startsWith('sha256-')).map((t) => `${name} ${t}`));
  }
  return all;
}

describe('chartprov mirror: interrupted, resumed, credentials', () => {
  test('SIGKILL half-way through --attach, then a re-run: every tag and every prov exactly once', async () => {
    const base = 'resume';
    // Two charts a migration already pushed without their .prov.
    const early = farm.versions.filter((v) => v.prov === 'good').slice(0, 2);
    const bareDigests = await pushBare(early, base);
    const home = await mkdtemp(join(tmpdir(), 'chartprov-home-'));
    const args = [
      'mirror',
      farm.url,
      `oci://${dr.host}/${base}`,
      '--attach',
      ...keyringFlags(),
      '--plain-http',
      '-j',
      '2',
      '--username',
      AUTH.username,
      '--password-stdin',
      '-o',
      'json',
    ];
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(`${AUTH.password}\n`);
    const exited = new Promise<string | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      let seen = 0;
      const half = Math.floor(pushedVersions().length / 2);
      for (let i = 0; i < 2000 && child.exitCode === null; i++) {
        seen = (await versionTags(client, base)).length;
        if (seen >= half) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL', 'the mirror was killed before it finished');
      assert.ok(seen < pushedVersions().length, `killed with ${seen} versions pushed`);

      const r = await runCli(args, { input: `${AUTH.password}\n` });
      assert.equal(r.code, 1, 'the invalid versions fail the run');
      const out = JSON.parse(r.stdout) as MirrorResult;
      assert.equal(out.totals.failed, 0, JSON.stringify(out.results.filter((x) => x.status === 'failed')));
      assert.equal(out.totals.invalid, farm.expected.checked.invalid);
      assert.equal(out.totals.copied + out.totals.skipped + out.totals.unsigned, pushedVersions().length);
      assert.ok(out.totals.skipped > 0, 'what the killed run pushed is skipped');

      const tags = (await versionTags(client, base)).sort();
      assert.deepEqual(
        tags,
        pushedVersions()
          .map((v) => `${v.name} ${v.version}`)
          .sort(),
        'every tag once, none of the invalid ones',
      );
      for (const v of pushedVersions()) {
        const repo = client.repository(dr.host, `${base}/${v.name}`);
        const digest = (await repo.fetchManifest(v.version)).digest;
        const early = bareDigests.get(`${v.name} ${v.version}`);
        if (early) assert.equal(digest, early, 'a chart that was there keeps its digest');
        const index = await repo.headManifest(fallbackTag(digest));
        if (v.prov === 'none') {
          assert.equal(index, undefined, `${v.name} ${v.version}: unsigned, no referrers`);
          continue;
        }
        const body = JSON.parse((await repo.fetchManifest(fallbackTag(digest))).bytes.toString('utf8')) as {
          manifests: { artifactType?: string }[];
        };
        const provs = body.manifests.filter((m) => m.artifactType === PROVENANCE_ARTIFACT_TYPE);
        assert.equal(provs.length, 1, `${v.name} ${v.version}: one prov referrer, listed once`);
      }
    } finally {
      await client.close();
    }
  });

  test('a chart pushed without its .prov (Harbor 2.8 migration): the .prov is attached, its digest unchanged', async () => {
    const victim = farm.versions.find((v) => v.prov === 'good' && v.name === 'gamma')!;
    const digests = await pushBare([victim], 'harbor');
    const out = await mirrorCharts({
      source: farm.url,
      destination: `oci://${dr.host}/harbor`,
      plainHttp: true,
      keyrings: farm.pubrings,
      username: AUTH.username,
      password: AUTH.password,
      settleMs: 1,
    });
    const r = out.results.find((x) => x.name === victim.name && x.version === victim.version)!;
    assert.equal(r.status, 'copied');
    assert.equal(r.provenance, 'referrer');
    assert.equal(r.digest, digests.get(`${victim.name} ${victim.version}`));
    assert.match((r.warnings ?? []).join('\n'), /without its \.prov/);
    const others = out.results.filter((x) => x !== r && x.status === 'copied');
    assert.ok(others.every((x) => x.provenance === 'layer'));
  });

  test('repository credentials: right ones read it, wrong and missing ones fail before anything is pushed', async () => {
    const dst = `oci://${dr.host}/auth`;
    const right = await runCli(
      ['mirror', farm.url, dst, ...keyringFlags(), '--plain-http', '--username', AUTH.username, '--password-stdin', '--dry-run'],
      {
        input: AUTH.password,
      },
    );
    assert.equal(right.code, 1, right.stderr);
    assert.match(right.stdout, new RegExp(`${farm.expected.checked.copied} copied`));
    const wrong = await runCli(['mirror', farm.url, dst, '--plain-http', '--username', AUTH.username, '--password-stdin', '-o', 'json'], {
      input: 'nope',
    });
    assert.equal(wrong.code, 1);
    assert.equal((JSON.parse(wrong.stdout) as { error: { code: string } }).error.code, 'REGISTRY_CREDENTIALS_REJECTED');
    const none = await runCli(['mirror', farm.url, dst, '--plain-http', '-o', 'json']);
    assert.equal((JSON.parse(none.stdout) as { error: { code: string } }).error.code, 'REGISTRY_LOGIN_REQUIRED');
    // CHARTPROV_USERNAME/PASSWORD log in to the destination registry: never sent to the source, even when they would fit.
    const login = { CHARTPROV_USERNAME: AUTH.username, CHARTPROV_PASSWORD: AUTH.password, CHARTPROV_REGISTRY: '' };
    const before = farm.requests.length;
    const envOnly = await runCli(['mirror', farm.url, dst, '--plain-http', '-o', 'json'], { env: login });
    assert.equal((JSON.parse(envOnly.stdout) as { error: { code: string } }).error.code, 'REGISTRY_LOGIN_REQUIRED');
    assert.ok(farm.requests.length > before, 'the source was asked');
    assert.ok(
      farm.requests.slice(before).every((q) => q.authorization === undefined),
      'no Authorization header reaches the source',
    );
    // --username without --password-stdin does not take the destination's CHARTPROV_PASSWORD for the source either.
    const userOnly = await runCli(['mirror', farm.url, dst, '--plain-http', '--username', AUTH.username, '-o', 'json'], { env: login });
    assert.equal(userOnly.code, 2, userOnly.stderr);
    assert.equal((JSON.parse(userOnly.stdout) as { error: { code: string } }).error.code, 'USAGE');
    for (const r of [right, wrong, none, envOnly, userOnly])
      assert.ok(!(r.stdout + r.stderr).includes(AUTH.password), 'the password is never printed');
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      assert.deepEqual(await versionTags(client, 'auth'), []);
    } finally {
      await client.close();
    }
  });
});
