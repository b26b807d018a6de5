// Classic Helm chart repositories as a pull source: index.yaml made by the
// real `helm repo index`, served by a small static HTTP server on loopback,
// with the golden signed charts; real Helm pulls from the same repository to
// show it agrees.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  packageAndSignChart,
  parseRepoIndex,
  pickIndexVersion,
  pullRepoChart,
  resolveReferenceUrl,
  type RepoPullResult,
} from '../../src/index.js';
import { goldens, helloWorldSource } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { serveFolder, type FolderServer } from '../peers/folder-server.js';
import { runHelm, type HelmMajor } from '../peers/helm.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';

const pubring = keyFile('all-pubring.gpg');

async function helmIndex(dir: string, url?: string): Promise<void> {
  const r = await runHelm(4, ['repo', 'index', dir, ...(url ? ['--url', url] : [])]);
  assert.equal(r.code, 0, r.stderr);
}

describe('pull from a classic chart repository', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let site: FolderServer;
  let locked: FolderServer;
  const signed: Record<string, string> = {};
  let n = 0;
  const folder = async () => {
    const dir = join(work, `out-${++n}`);
    await mkdir(dir);
    return dir;
  };
  const repo = (name: string) => `${site.url}/${name}`;
  const json = (stdout: string) => JSON.parse(stdout) as RepoPullResult & { error?: { code: string; message: string } };

  before(async () => {
    ({ dir: work, cleanup } = await tempDir());
    const root = join(work, 'site');
    const chartDir = await helloWorldSource(work);
    const john = { keyName: 'john@example.com', keyrings: [keyFile('john-secring.gpg')] };
    for (const version of ['0.2.0', '1.0.0', '1.1.0-rc.1']) {
      signed[version] = (await packageAndSignChart({ chartDir, destination: join(work, 'signed'), version, sign: john })).path;
    }
    // The same name and version as the golden, other content, unsigned: what an attacker would serve.
    await writeFile(join(chartDir, 'values.yaml'), 'image: {repository: evil}\n', { flag: 'a' });
    const evil = (await packageAndSignChart({ chartDir, destination: join(work, 'evil'), version: '0.1.0' })).path;

    const put = async (dir: string, files: Record<string, string>) => {
      await mkdir(join(root, dir), { recursive: true });
      for (const [name, from] of Object.entries(files)) await copyFile(from, join(root, dir, name));
    };
    const golden = { 'hello-world-0.1.0.tgz': goldens.helm4.chart, 'hello-world-0.1.0.tgz.prov': goldens.helm4.prov };
    const versions: Record<string, string> = {};
    for (const [v, path] of Object.entries(signed))
      Object.assign(versions, { [`hello-world-${v}.tgz`]: path, [`hello-world-${v}.tgz.prov`]: `${path}.prov` });
    await put('good', { ...golden, ...versions });
    await put('tampered', { 'hello-world-0.1.0.tgz': evil, 'hello-world-0.1.0.tgz.prov': goldens.helm4.prov });
    await put('wrongprov', { 'hello-world-0.1.0.tgz': goldens.helm4.chart, 'hello-world-0.1.0.tgz.prov': `${signed['0.2.0']}.prov` });
    await put('noprov', { 'hello-world-0.1.0.tgz': goldens.helm4.chart });
    await put('stale', { 'hello-world-0.1.0.tgz': goldens.helm4.chart, 'hello-world-0.1.0.tgz.prov': goldens.helm4.prov });
    await put('html', {});
    await writeFile(join(root, 'html', 'index.yaml'), '<html><body>Sign in</body></html>\n');

    site = await serveFolder(root);
    for (const dir of ['good', 'tampered', 'wrongprov', 'noprov', 'stale']) await helmIndex(join(root, dir), `${site.url}/${dir}`);
    // Replaced after indexing: the index's digest no longer matches.
    await copyFile(evil, join(root, 'stale', 'hello-world-0.1.0.tgz'));

    // A repository behind Basic auth: its own charts, and an index pointing at another host.
    const lockedRoot = join(work, 'locked');
    await mkdir(join(lockedRoot, 'private'), { recursive: true });
    await mkdir(join(lockedRoot, 'mirror'), { recursive: true });
    for (const [name, from] of Object.entries(golden)) await copyFile(from, join(lockedRoot, 'private', name));
    await copyFile(goldens.helm4.chart, join(lockedRoot, 'mirror', 'hello-world-0.1.0.tgz'));
    locked = await serveFolder(lockedRoot, { username: 'jane', password: 's3cret' });
    await helmIndex(join(lockedRoot, 'private'), `${locked.url}/private`);
    await helmIndex(join(lockedRoot, 'mirror'), `${site.url}/good`);
  });
  after(async () => {
    await site?.close();
    await locked?.close();
    await cleanup?.();
  });

  it('pull NAME --repo URL --version V --verify: the golden chart and prov, Option 1 (<chart-url>.prov)', async () => {
    const dest = await folder();
    const r = await runCli([
      'pull',
      'hello-world',
      '--repo',
      repo('good'),
      '--version',
      '0.1.0',
      '--verify',
      '--keyring',
      pubring,
      '-d',
      dest,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Signed by: John The Signer/);
    assert.match(r.stdout, new RegExp(`Provenance From: chart-url ${repo('good')}/hello-world-0\\.1\\.0\\.tgz\\.prov`));
    assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
    assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz')), await readFile(goldens.helm4.chart));
    assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz.prov')), await readFile(goldens.helm4.prov));
  });

  it("reads helm repo index's own output the same whole or one chart at a time", async () => {
    const text = await readFile(join(work, 'site', 'good', 'index.yaml'), 'utf8');
    const whole = parseRepoIndex(text, 'good');
    assert.deepEqual(parseRepoIndex(text, 'good', ['hello-world']).entries, whole.entries);
    assert.deepEqual(
      whole.entries.get('hello-world')!.map((e) => e.version),
      ['1.1.0-rc.1', '1.0.0', '0.2.0', '0.1.0'],
    );
  });

  it("picks versions by Helm's rules: highest release, ranges, prereleases only when asked", async () => {
    const pick = async (version?: string) =>
      (
        await pullRepoChart({
          chart: 'hello-world',
          repoUrl: repo('good'),
          version,
          verify: true,
          keyrings: [pubring],
          destination: await folder(),
        })
      ).version;
    assert.equal(await pick(), '1.0.0');
    assert.equal(await pick('^0.1'), '0.1.0');
    assert.equal(await pick('~0.2'), '0.2.0');
    assert.equal(await pick('<1.0.0'), '0.2.0');
    assert.equal(await pick('>=1.1.0-0'), '1.1.0-rc.1');
    const r = await runCli(['pull', 'hello-world', '--repo', repo('good'), '--version', '^2', '-o', 'json', '-d', await folder()]);
    assert.equal(r.code, 1);
    const { error } = json(r.stdout);
    assert.equal(error!.code, 'VERSION_NOT_FOUND');
    assert.match(error!.message, /available: 1\.1\.0-rc\.1, 1\.0\.0, 0\.2\.0, 0\.1\.0/);
  });

  it('pull https://…/chart.tgz --verify: a chart by its URL, prov from beside it', async () => {
    const dest = await folder();
    const r = await runCli(['pull', `${repo('good')}/hello-world-0.2.0.tgz`, '--verify', '--keyring', pubring, '-d', dest, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = json(r.stdout);
    assert.equal(out.version, '0.2.0');
    assert.equal(out.verified?.source, 'chart-url');
    assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.2.0.tgz', 'hello-world-0.2.0.tgz.prov']);
    const untarred = await pullRepoChart({
      chart: `${repo('good')}/hello-world-0.2.0.tgz`,
      verify: true,
      keyrings: [pubring],
      untar: true,
      destination: dest,
      untarDir: 'src',
    });
    assert.equal(untarred.untarredTo, join(dest, 'src', 'hello-world'));
    assert.match(await readFile(join(dest, 'src', 'hello-world', 'Chart.yaml'), 'utf8'), /version: 0\.2\.0/);
  });

  /** A failing pull: its code, and the destination exactly as it was (no file, no staging folder). */
  async function refused(args: string[], code: string, opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
    const dest = await folder();
    const r = await runCli([...args, '-d', dest, '-o', 'json'], opts);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const { error } = json(r.stdout);
    assert.equal(error!.code, code, error!.message);
    assert.deepEqual(await readdir(dest), [], 'nothing written');
    return error!.message;
  }
  const verified = ['--verify', '--keyring', pubring];

  it('a tampered archive (index re-made around it) is refused: CHART_TAMPERED, destination untouched', async () => {
    await refused(['pull', 'hello-world', '--repo', repo('tampered'), ...verified], 'CHART_TAMPERED');
  });

  it("an archive that differs from the index's digest is refused even without --verify", async () => {
    await refused(['pull', 'hello-world', '--repo', repo('stale')], 'DIGEST_MISMATCH');
  });

  it('a prov made for another chart is refused: PROV_MISMATCH', async () => {
    await refused(['pull', 'hello-world', '--repo', repo('wrongprov'), ...verified], 'PROV_MISMATCH');
    await refused(['pull', `${repo('wrongprov')}/hello-world-0.1.0.tgz`, ...verified], 'PROV_MISMATCH');
  });

  it('no <chart-url>.prov with --verify: PROV_MISSING naming where it looked; without --verify the chart alone', async () => {
    const message = await refused(['pull', 'hello-world', '--repo', repo('noprov'), ...verified], 'PROV_MISSING');
    assert.match(message, /hello-world-0\.1\.0\.tgz\.prov/);
    const dest = await folder();
    const r = await runCli(['pull', 'hello-world', '--repo', repo('noprov'), '-d', dest]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(no provenance\)/);
    assert.deepEqual(await readdir(dest), ['hello-world-0.1.0.tgz']);
  });

  it('--prov-url / --prov-file give the signature a repository lacks', async () => {
    const dest = await folder();
    const args = ['pull', 'hello-world', '--repo', repo('noprov'), ...verified, '-d', dest, '-o', 'json'];
    const r = await runCli([...args, '--prov-url', `${repo('good')}/hello-world-0.1.0.tgz.prov`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).verified?.source, 'prov-url');
    const f = await runCli([...args, '--prov-file', goldens.helm3.prov]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(json(f.stdout).verified?.source, 'prov-file');
    assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz.prov')), await readFile(goldens.helm3.prov));
  });

  it('errors: no index, an index that is not YAML, a chart the index does not hold', async () => {
    const none = await refused(['pull', 'hello-world', '--repo', repo('nothing-here')], 'CHART_NOT_FOUND');
    assert.match(none, /index\.yaml was not found/);
    const html = await refused(['pull', 'hello-world', '--repo', repo('html')], 'REPO_INDEX_INVALID');
    assert.match(html, /HTML/);
    const unknown = await refused(['pull', 'goodbye-world', '--repo', repo('good')], 'CHART_NOT_FOUND');
    assert.match(unknown, /it holds hello-world/);
    await refused(['pull', `${repo('good')}/missing-1.0.0.tgz`], 'CHART_NOT_FOUND');
    await refused(['pull', 'hello-world', '--repo', 'http://127.0.0.1:1/charts'], 'REGISTRY_UNREACHABLE');
  });

  it('Basic auth: credentials go to the repository host only, never to another host its index points at', async () => {
    const args = ['pull', 'hello-world', '--repo', `${locked.url}/private`, ...verified];
    await refused(args, 'REGISTRY_LOGIN_REQUIRED');
    await refused([...args, '--username', 'jane', '--password-stdin'], 'REGISTRY_CREDENTIALS_REJECTED', { input: 'wrong\n' });

    const dest = await folder();
    const ok = await runCli([...args, '--username', 'jane', '--password-stdin', '-d', dest], { input: 's3cret\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await readdir(dest)).sort(), ['hello-world-0.1.0.tgz', 'hello-world-0.1.0.tgz.prov']);
    const env = { CHARTPROV_USERNAME: 'jane', CHARTPROV_PASSWORD: 's3cret' };
    const viaEnv = await runCli([...args, '-d', await folder()], { env });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);

    // The mirror's index (behind auth) lists charts on the open site: they get no credentials.
    const before = site.requests.length;
    const mirrored = await runCli(['pull', 'hello-world', '--repo', `${locked.url}/mirror`, ...verified, '-d', await folder()], { env });
    assert.equal(mirrored.code, 0, mirrored.stderr);
    const toSite = site.requests.slice(before);
    assert.deepEqual(toSite.map((s) => s.path).sort(), ['/good/hello-world-0.1.0.tgz', '/good/hello-world-0.1.0.tgz.prov']);
    assert.ok(
      toSite.every((s) => s.authorization === undefined),
      'no credentials to another host',
    );
    assert.ok(locked.requests.some((s) => s.path === '/mirror/index.yaml' && s.authorization?.startsWith('Basic ')));
  });

  it('file: folders: through their index.yaml (relative URLs), or indexed from their archives', async () => {
    const withIndex = join(work, 'file-repo');
    await mkdir(join(withIndex, 'sub'), { recursive: true });
    await copyFile(goldens.helm4.chart, join(withIndex, 'sub', 'hello-world-0.1.0.tgz'));
    await copyFile(goldens.helm4.prov, join(withIndex, 'sub', 'hello-world-0.1.0.tgz.prov'));
    await copyFile(signed['1.0.0']!, join(withIndex, 'hello-world-1.0.0.tgz'));
    await copyFile(`${signed['1.0.0']}.prov`, join(withIndex, 'hello-world-1.0.0.tgz.prov'));
    const bare = join(work, 'bare-repo');
    await mkdir(bare);
    for (const f of await readdir(withIndex, { recursive: true })) {
      if (f.endsWith('.tgz') || f.endsWith('.prov')) await copyFile(join(withIndex, f), join(bare, f.replace(/^sub\//, '')));
    }
    await helmIndex(withIndex); // no --url: the index lists relative URLs, sub/hello-world-0.1.0.tgz
    assert.match(await readFile(join(withIndex, 'index.yaml'), 'utf8'), /- sub\/hello-world-0\.1\.0\.tgz/);
    for (const dir of [withIndex, bare]) {
      const url = pathToFileURL(dir).href;
      const low = await pullRepoChart({
        chart: 'hello-world',
        repoUrl: url,
        version: '0.1.x',
        verify: true,
        keyrings: [pubring],
        destination: await folder(),
      });
      assert.equal(low.version, '0.1.0');
      assert.equal(low.verified?.source, 'chart-url');
      const high = await pullRepoChart({
        chart: 'hello-world',
        repoUrl: url,
        verify: true,
        keyrings: [pubring],
        destination: await folder(),
      });
      assert.equal(high.version, '1.0.0');
    }
  });

  for (const major of [3, 4] as HelmMajor[]) {
    it(`helm ${major} pull --repo --verify agrees: accepts the good repository, refuses the wrong prov`, async () => {
      const dest = await folder();
      const pull = (name: string) =>
        runHelm(major, ['pull', 'hello-world', '--repo', repo(name), '--version', '0.1.0', '--verify', '--keyring', pubring, '-d', dest]);
      const good = await pull('good');
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /Chart Hash Verified/);
      await rm(join(dest, 'hello-world-0.1.0.tgz'), { force: true });
      await rm(join(dest, 'hello-world-0.1.0.tgz.prov'), { force: true });
      const bad = await pull('wrongprov');
      assert.notEqual(bad.code, 0, 'helm refuses a prov for another chart too');
    });
  }
});

describe('index.yaml as Helm reads it', () => {
  const index = parseRepoIndex(
    [
      'apiVersion: v1',
      'entries:',
      '  app:',
      '  - {name: app, version: 1.9.0, urls: [app-1.9.0.tgz]}',
      '  - {name: app, version: 1.10.0, urls: [app-1.10.0.tgz], digest: ' + 'a'.repeat(64) + '}',
      '  - {name: app, version: 2.0.0-beta.1, urls: [app-2.0.0-beta.1.tgz]}',
      '  - {name: app, version: not-semver, urls: [x.tgz]}',
      '  - {name: app, version: v1.2, urls: [app-v1.2.tgz]}',
      'generated: "2026-01-01T00:00:00Z"',
    ].join('\n'),
    'test index',
  );
  const versions = () => index.entries.get('app')!.map((e) => e.version);

  it('sorts highest first, skips what Helm skips, reads versions as strings', () => {
    assert.deepEqual(versions(), ['2.0.0-beta.1', '1.10.0', '1.9.0', 'v1.2']);
    assert.equal(index.skipped.length, 1);
    assert.equal(index.entries.get('app')![1]!.digest, 'a'.repeat(64));
  });

  it('matches an exact version first, then the constraint; no version means the highest release', () => {
    const pick = (v?: string) => pickIndexVersion(index, 'app', v, { repository: 'r' }).version;
    assert.equal(pick(), '1.10.0');
    assert.equal(pick('v1.2'), 'v1.2');
    assert.equal(pick('1.2'), 'v1.2');
    assert.equal(pick('~1.9'), '1.9.0');
    assert.equal(pick('>=2.0.0-0'), '2.0.0-beta.1');
    assert.throws(() => pick('>=3'), { code: 'VERSION_NOT_FOUND' });
    assert.throws(() => pick('not a range'), { code: 'VERSION_NOT_FOUND' });
    assert.throws(() => pickIndexVersion(index, 'other', undefined, { repository: 'r' }), { code: 'CHART_NOT_FOUND' });
  });

  it('refuses what is not an index', () => {
    for (const text of ['', 'just text', 'entries: {}', 'a: [', '<html></html>']) {
      assert.throws(() => parseRepoIndex(text, 'x'), { code: 'REPO_INDEX_INVALID' }, text);
    }
    assert.equal(
      parseRepoIndex('{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","urls":["a.tgz"]}]}}', 'j').entries.size,
      1,
    );
  });

  it('reading one chart out of a large index gives what the whole parse gives', () => {
    const text = [
      '# made by hand',
      'apiVersion: v1',
      'entries:',
      '  "quoted":',
      '  - name: quoted',
      '    version: 0.1.0',
      '    urls: [q.tgz]',
      '  app:',
      '  # a comment inside',
      '  - name: app',
      '    version: 1.0.0',
      '    description: |',
      '      a literal block',
      '      other:',
      '    urls:',
      '    - app-1.0.0.tgz',
      '  - name: app',
      '    version: 1.1.0',
      '    urls: [app-1.1.0.tgz]',
      '  zeta:',
      '  - {name: zeta, version: 2.0.0, urls: [z.tgz]}',
      'generated: "2026-01-01T00:00:00Z"',
      'serverInfo:',
      '  contextPath: /x',
    ].join('\r\n');
    const whole = parseRepoIndex(text, 't');
    for (const name of ['app', 'quoted', 'zeta']) {
      const part = parseRepoIndex(text, 't', [name]);
      assert.deepEqual([...part.entries.keys()], [name]);
      assert.deepEqual(part.entries.get(name), whole.entries.get(name));
      assert.deepEqual(part.names, ['quoted', 'app', 'zeta']);
    }
    assert.deepEqual(parseRepoIndex(text, 't', ['nope']).entries.size, 0);
    // Layouts the cut does not read are parsed whole: the same answer, just slower.
    const flow = 'apiVersion: v1\nentries: {app: [{name: app, version: 1.0.0, urls: [a.tgz]}]}\n';
    assert.equal(parseRepoIndex(flow, 'f', ['app']).entries.get('app')![0]!.version, '1.0.0');
    const indented = 'apiVersion: v1\nentries:\n    app:\n      - name: app\n        version: 1.0.0\n';
    assert.equal(parseRepoIndex(indented, 'i', ['app']).entries.get('app')![0]!.version, '1.0.0');
  });

  it("resolves chart URLs as Helm's ResolveReferenceURL", () => {
    const r = (base: string, ref: string) => resolveReferenceUrl(base, ref).href;
    assert.equal(r('https://h/charts', 'a-1.0.0.tgz'), 'https://h/charts/a-1.0.0.tgz');
    assert.equal(r('https://h/charts/', 'a-1.0.0.tgz'), 'https://h/charts/a-1.0.0.tgz');
    assert.equal(r('https://h/charts?token=t', 'sub/a.tgz'), 'https://h/charts/sub/a.tgz?token=t');
    assert.equal(r('https://h/charts', '../other/a.tgz'), 'https://h/other/a.tgz');
    assert.equal(r('https://h/charts', 'https://cdn/a.tgz'), 'https://cdn/a.tgz');
    assert.equal(r('https://h/charts', '/abs/a.tgz'), 'https://h/abs/a.tgz');
    assert.throws(
      () => resolveReferenceUrl('https://h/charts', 'file:///etc/passwd'),
      { code: 'REPO_INDEX_INVALID' },
      'a remote index cannot name local files',
    );
    assert.equal(resolveReferenceUrl('file:///srv/charts', 'file:///srv/charts/a.tgz').href, 'file:///srv/charts/a.tgz');
  });

  it('credentials from the environment go only over https or to this machine', async () => {
    const { credentialsFor } = await import('../../src/flows/repo-fetch.js');
    const env = { CHARTPROV_USERNAME: 'ci', CHARTPROV_PASSWORD: 'pw' };
    assert.deepEqual(credentialsFor({ env }, ['http://charts.example.com']), {});
    assert.deepEqual(credentialsFor({ env }, ['https://charts.example.com']).credentialOrigins, ['https://charts.example.com']);
    assert.deepEqual(credentialsFor({ env }, ['http://127.0.0.1:8080']).credentialOrigins, ['http://127.0.0.1:8080']);
    assert.equal(
      credentialsFor({ username: 'u', password: 'p' }, ['http://charts.example.com']).credential?.username,
      'u',
      "an explicit login is the user's choice",
    );
  });
});
