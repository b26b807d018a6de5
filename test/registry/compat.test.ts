// Real clients against the embedded registry WITH auth (Harbor's model: a
// project must exist, users hold roles, clients get bearer tokens from
// /service/token): Helm 3.17 and 4.1 log in, push signed charts and pull them
// back with --verify; skopeo copies an image and a chart artifact in and out
// byte for byte (also through a distribution 2.8 registry); the chartprov CLI
// does the same. Failures (missing project, a guest pushing, a wrong password)
// must be clear: what each client prints is logged with the test.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { goldens, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type Creds, type EmbeddedRegistry } from '../peers/embedded.js';
import { runHelm, type HelmMajor, type RunResult } from '../peers/helm.js';
import { sharedFixtures } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { runSkopeo } from '../peers/skopeo.js';
import { tempDir } from '../peers/tmp.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');
const CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const PROV_LAYER = 'application/vnd.cncf.helm.chart.provenance.v1.prov';

let e: EmbeddedRegistry;
let dr: DockerRegistry;
let work: string;
let cleanup: () => Promise<void>;
let dev: Creds;
let guest: Creds;
let n = 0;
const fresh = async (what: string) => {
  const dir = join(work, `${what}-${++n}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

/** What the peer said, for the report and for whoever reads a failure. */
function show(label: string, r: RunResult): void {
  console.log(`--- ${label} (exit ${r.code})\n${(r.stderr + r.stdout).trim()}`);
}

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-compat-'));
  e = await startEmbedded({ projects: ['helm-charts', 'guests'] });
  dev = await e.addUser('dev', { roles: { 'helm-charts': 'developer' } });
  guest = await e.addUser('guest', { roles: { 'helm-charts': 'guest', guests: 'guest' } });
  dr = await startDockerRegistry();
});

after(async () => {
  await e?.stop();
  await dr?.stop();
  await cleanup?.();
});

/** The manifest at `ref` in the embedded registry, read with `creds`: bytes, status, and the registry's digest header. */
async function manifestOf(repo: string, ref: string, creds: Creds): Promise<{ status: number; bytes: Buffer; digest: string | null }> {
  const token = await e.token(creds, `repository:${repo}:pull`);
  const res = await fetch(`${e.url}/v2/${repo}/manifests/${ref}`, { headers: { authorization: `Bearer ${token}`, accept: ACCEPT } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), digest: res.headers.get('docker-content-digest') };
}

/**
 * `helm registry login HOST -u USER --password-stdin`.
 * Helm 3 talks plain HTTP to a loopback registry on its own and its login has
 * no --plain-http (nor needs --insecure); Helm 4 needs --plain-http.
 */
async function helmLogin(major: HelmMajor, creds: Creds, config: string): Promise<RunResult> {
  const args = ['registry', 'login', e.host, '-u', creds.username, '--password-stdin', ...(major === 4 ? ['--plain-http'] : [])];
  return runHelm(major, [...args, '--registry-config', config], { input: creds.password });
}

const helmConfigs = new Map<string, string>();
/** A registry config file with `creds` logged in by that Helm (once per user and Helm). */
async function helmConfig(major: HelmMajor, creds: Creds): Promise<string> {
  const key = `${major}:${creds.username}`;
  let config = helmConfigs.get(key);
  if (!config) {
    config = join(work, `helm${major}-${creds.username}.json`);
    const login = await helmLogin(major, creds, config);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr + login.stdout, /Login Succeeded/);
    helmConfigs.set(key, config);
  }
  return config;
}

let guarded: Promise<void> | undefined;
/**
 * helm-charts/guarded/hello-world:0.1.0 holds Helm 4's golden, and the repository
 * also holds every blob of Helm 3's golden (pushed before by the developer with Helm 4).
 */
function guardedRepository(): Promise<void> {
  guarded ??= (async () => {
    const config = await helmConfig(4, dev);
    for (const chart of [goldens.helm3.chart, goldens.helm4.chart]) {
      const r = await runHelm(4, ['push', chart, `oci://${e.host}/helm-charts/guarded`, '--plain-http', '--registry-config', config]);
      assert.equal(r.code, 0, r.stderr);
    }
  })();
  return guarded;
}

describe('Helm 4.1 and 3.17 against the embedded registry with auth', () => {
  for (const major of [4, 3] as HelmMajor[]) {
    const golden = goldens[`helm${major}`];

    it(`helm ${major}: registry login --password-stdin, push a signed chart + .prov into helm-charts, pull --verify`, async () => {
      const config = await helmConfig(major, dev);
      const push = await runHelm(major, ['push', golden.chart, `oci://${e.host}/helm-charts`, '--plain-http', '--registry-config', config]);
      assert.equal(push.code, 0, push.stderr);
      const said = /Digest: (sha256:[a-f0-9]{64})/.exec(push.stderr + push.stdout)?.[1];
      assert.ok(said, push.stderr);

      // What the registry holds is what Helm pushed: config, chart and prov layers; bytes that hash to the digest.
      const m = await manifestOf('helm-charts/hello-world', '0.1.0', dev);
      assert.equal(m.status, 200);
      assert.equal(m.digest, said);
      assert.equal(sha256(m.bytes), said);
      const manifest = JSON.parse(m.bytes.toString('utf8')) as { layers: { mediaType: string; digest: string }[] };
      const layers = new Map(manifest.layers.map((l) => [l.mediaType, l.digest]));
      assert.equal(layers.get(CHART_LAYER), sha256(await readFile(golden.chart)));
      assert.equal(layers.get(PROV_LAYER), sha256(await readFile(golden.prov)));

      const dest = await fresh(`helm${major}-pull`);
      const pull = await runHelm(major, [
        ...verifiedPullArgs(`oci://${e.host}/helm-charts/hello-world`, dest, '--plain-http'),
        '--registry-config',
        config,
      ]);
      assert.equal(pull.code, 0, pull.stderr);
      assert.match(pull.stderr + pull.stdout, /Signed by: John The Signer/);
      assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz')), await readFile(golden.chart));
      assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz.prov')), await readFile(golden.prov));
    });

    it(`helm ${major}: a wrong password fails the login`, async () => {
      const r = await helmLogin(major, { username: dev.username, password: 'Wrong-Passw0rd' }, join(work, `helm${major}-wrong.json`));
      show(`helm ${major} login with a wrong password`, r);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /invalid username or password/);
    });

    it(`helm ${major}: push into a project that does not exist fails, naming the project`, async () => {
      const config = await helmConfig(major, dev);
      const r = await runHelm(major, [
        'push',
        golden.chart,
        `oci://${e.host}/no-such-project`,
        '--plain-http',
        '--registry-config',
        config,
      ]);
      show(`helm ${major} push into a missing project`, r);
      assert.notEqual(r.code, 0);
      // Helm 4 relays the registry's message; Helm 3 (containerd) prints only status and URL, which holds the name.
      assert.match(r.stderr, /no-such-project/);
      if (major === 4) assert.match(r.stderr, /project no-such-project not found/);
      else assert.match(r.stderr, /404/);
      assert.equal((await manifestOf('no-such-project/hello-world', '0.1.0', e.admin)).status, 404);
    });

    it(`helm ${major}: a guest cannot push, neither into an empty repository nor over an existing tag`, async () => {
      const config = await helmConfig(major, guest);
      // Nothing there yet: the blob upload is refused.
      const empty = await runHelm(major, ['push', golden.chart, `oci://${e.host}/guests`, '--plain-http', '--registry-config', config]);
      show(`helm ${major} guest push into an empty repository`, empty);
      assert.notEqual(empty.code, 0);
      if (major === 4)
        assert.match(empty.stderr, /401: unauthorized: unauthorized to access repository: guests\/hello-world, action: push/);
      else assert.match(empty.stderr, /push access denied.*insufficient_scope/);
      assert.equal((await manifestOf('guests/hello-world', '0.1.0', e.admin)).status, 404);

      // Every blob already there, another manifest in the tag: only the guest's manifest PUT can be refused.
      await guardedRepository();
      const before = await manifestOf('helm-charts/guarded/hello-world', '0.1.0', dev);
      const over = await runHelm(major, [
        'push',
        goldens.helm3.chart,
        `oci://${e.host}/helm-charts/guarded`,
        '--plain-http',
        '--registry-config',
        config,
      ]);
      show(`helm ${major} guest push over an existing tag (only the manifest PUT needed)`, over);
      assert.notEqual(over.code, 0);
      // Helm 3 (containerd) cannot resend the manifest body after the 401 and says "unexpected EOF";
      // it says the same against distribution 2.8.2 with token auth. Helm 4 relays the registry's message.
      if (major === 4) assert.match(over.stderr, /unauthorized to access repository: helm-charts\/guarded\/hello-world, action: push/);
      else assert.match(over.stderr, /failed to read expected number of bytes: unexpected EOF|insufficient_scope/);
      const afterwards = await manifestOf('helm-charts/guarded/hello-world', '0.1.0', dev);
      assert.equal(afterwards.digest, before.digest, 'the guest changed nothing');
    });
  }

  // containerd (Helm 3) asks /service/token for `scope=repository:R:pull
  // repository:R:pull,push`; the grant must merge them into one entry. Helm 3
  // cannot resend a manifest body after a 401, so a re-push whose blobs all
  // exist fails ("unexpected EOF") if the first token cannot push.
  it(
    'helm 3: a developer re-pushes a chart whose blobs all exist (only the manifest PUT is needed)',
    async () => {
      const config = await helmConfig(3, dev);
      for (const golden of [goldens.helm3, goldens.helm4, goldens.helm3]) {
        const r = await runHelm(3, [
          'push',
          golden.chart,
          `oci://${e.host}/helm-charts/repush`,
          '--plain-http',
          '--registry-config',
          config,
        ]);
        if (r.code !== 0) show('helm 3 re-push by a developer (every blob present)', r);
        assert.equal(r.code, 0, r.stderr);
      }
    },
  );

  it(
    'a token asked for `repository:R:pull` and `repository:R:pull,push` at once may push (as with distribution)',
    async () => {
      const token = await e.token(dev, 'repository:helm-charts/scopes:pull', 'repository:helm-charts/scopes:pull,push');
      const res = await fetch(`${e.url}/v2/helm-charts/scopes/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      await res.arrayBuffer();
      assert.equal(res.status, 202, `POST upload with the merged scopes answered ${res.status} ${res.headers.get('www-authenticate')}`);
    },
  );
});

// ---- skopeo

interface Layout {
  dir: string;
  manifest: Buffer;
  digest: string;
}

/** An OCI image layout holding one manifest (tagged `tag`) and its blobs. */
async function writeLayout(dir: string, blobs: Buffer[], manifest: Buffer, tag: string): Promise<Layout> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  for (const b of [...blobs, manifest]) await writeFile(join(blobDir, sha256(b).slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const desc = {
    mediaType: OCI_MANIFEST,
    digest: sha256(manifest),
    size: manifest.length,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [desc] }));
  return { dir, manifest, digest: sha256(manifest) };
}

/** A layout skopeo wrote: its manifest for `tag`, and every blob re-hashed to its file name. */
async function readLayout(dir: string, tag: string): Promise<{ manifest: Buffer; digest: string; blobs: string[] }> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(desc, `tag ${tag} in ${JSON.stringify(index)}`);
  const names = await readdir(join(dir, 'blobs', 'sha256'));
  for (const name of names) assert.equal(sha256(await readFile(join(dir, 'blobs', 'sha256', name))), `sha256:${name}`);
  const manifest = await readFile(join(dir, 'blobs', 'sha256', desc.digest.slice(7)));
  return { manifest, digest: desc.digest, blobs: names.map((x) => `sha256:${x}`) };
}

/** A small real image: one gzip layer holding one file, an image config naming its diff_id. */
async function imageLayout(dir: string): Promise<Layout> {
  const src = await fresh('image-src');
  await writeFile(join(src, 'hello.txt'), `hello from an OCI image layout ${Date.now()}\n`);
  const tarFile = join(src, '..', `layer-${n}.tar`);
  await createTar({ cwd: src, file: tarFile, portable: true }, ['hello.txt']);
  const tarBytes = await readFile(tarFile);
  const layer = gzipSync(tarBytes);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(tarBytes)] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  return writeLayout(dir, [config, layer], manifest, 'v1');
}

/** The chart artifact exactly as `helm push` (4.1) stores it: the fixture manifest, config, chart and prov. */
async function chartLayout(dir: string): Promise<Layout> {
  const manifest = await readFile(join(sharedFixtures, 'oci', 'helm4-manifest.json'));
  const config = await readFile(join(sharedFixtures, 'oci', 'helm4-config.json'));
  const chart = await readFile(goldens.helm4.chart);
  const prov = await readFile(goldens.helm4.prov);
  const parsed = JSON.parse(manifest.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  assert.deepEqual([parsed.config.digest, ...parsed.layers.map((l) => l.digest)], [sha256(config), sha256(chart), sha256(prov)]);
  return writeLayout(dir, [config, chart, prov], manifest, '0.1.0');
}

const credsArg = (c: Creds) => `${c.username}:${c.password}`;

async function skopeo(args: string[]): Promise<RunResult> {
  const r = await runSkopeo(args);
  assert.equal(r.code, 0, `skopeo ${args.filter((a) => !a.includes(':Pw-') && !a.includes('Passw0rd')).join(' ')}\n${r.stderr}`);
  return r;
}

/** `skopeo inspect --raw`: the manifest bytes as served. */
async function rawManifest(ref: string, creds?: Creds): Promise<Buffer> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', credsArg(creds)] : []), ref]);
  return Buffer.from(r.stdout, 'utf8');
}

describe('skopeo with credentials', () => {
  it('copies an OCI image layout in, out to distribution 2.8 and back, and out to a layout: digests identical', async () => {
    const layout = await imageLayout(await fresh('image-layout'));
    const inEmbedded = `docker://${e.host}/helm-charts/image:v1`;
    await skopeo([
      'copy',
      '--preserve-digests',
      '--dest-creds',
      credsArg(dev),
      '--dest-tls-verify=false',
      `oci:${layout.dir}:v1`,
      inEmbedded,
    ]);
    const served = await rawManifest(inEmbedded, dev);
    assert.equal(sha256(served), layout.digest);
    assert.deepEqual(served, layout.manifest);

    // Out to distribution 2.8 (no auth there), and from there into another repository of ours.
    const inDr = `docker://${dr.host}/mirror/image:v1`;
    await skopeo([
      'copy',
      '--preserve-digests',
      '--src-creds',
      credsArg(dev),
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      inEmbedded,
      inDr,
    ]);
    assert.equal(sha256(await rawManifest(inDr)), layout.digest);
    const back = `docker://${e.host}/helm-charts/image-back:v1`;
    await skopeo([
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      '--dest-creds',
      credsArg(dev),
      '--dest-tls-verify=false',
      inDr,
      back,
    ]);
    assert.equal(sha256(await rawManifest(back, dev)), layout.digest);

    // Out to a layout: the same manifest bytes, every blob intact.
    const out = await fresh('image-out');
    await skopeo(['copy', '--preserve-digests', '--src-creds', credsArg(dev), '--src-tls-verify=false', back, `oci:${out}:v1`]);
    const copied = await readLayout(out, 'v1');
    assert.equal(copied.digest, layout.digest);
    assert.deepEqual(copied.manifest, layout.manifest);
    assert.equal(copied.blobs.length, 3);

    const tags = await skopeo(['list-tags', '--tls-verify=false', '--creds', credsArg(dev), `docker://${e.host}/helm-charts/image`]);
    assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['v1']);
  });

  it('copies a Helm chart artifact in and out; Helm 3 and 4 pull --verify the copy; list-tags with creds', async () => {
    const layout = await chartLayout(await fresh('chart-layout'));
    const inEmbedded = `docker://${e.host}/helm-charts/skopeo/hello-world:0.1.0`;
    await skopeo([
      'copy',
      '--preserve-digests',
      '--dest-creds',
      credsArg(dev),
      '--dest-tls-verify=false',
      `oci:${layout.dir}:0.1.0`,
      inEmbedded,
    ]);
    assert.equal(sha256(await rawManifest(inEmbedded, dev)), layout.digest);
    for (const major of [4, 3] as HelmMajor[]) {
      const dest = await fresh(`skopeo-helm${major}`);
      const r = await runHelm(major, [
        ...verifiedPullArgs(`oci://${e.host}/helm-charts/skopeo/hello-world`, dest, '--plain-http'),
        '--registry-config',
        await helmConfig(major, dev),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, new RegExp(`Digest: ${layout.digest}`));
    }

    const inDr = `docker://${dr.host}/charts/hello-world:0.1.0`;
    await skopeo([
      'copy',
      '--preserve-digests',
      '--src-creds',
      credsArg(dev),
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      inEmbedded,
      inDr,
    ]);
    assert.equal(sha256(await rawManifest(inDr)), layout.digest);
    const out = await fresh('chart-out');
    await skopeo(['copy', '--preserve-digests', '--src-creds', credsArg(dev), '--src-tls-verify=false', inEmbedded, `oci:${out}:0.1.0`]);
    const copied = await readLayout(out, '0.1.0');
    assert.deepEqual(copied.manifest, layout.manifest);
    assert.deepEqual(
      copied.blobs.sort(),
      [
        ...JSON.parse(layout.manifest.toString()).layers.map((l: { digest: string }) => l.digest),
        JSON.parse(layout.manifest.toString()).config.digest,
        layout.digest,
      ].sort(),
    );

    const tags = await skopeo([
      'list-tags',
      '--tls-verify=false',
      '--creds',
      credsArg(guest),
      `docker://${e.host}/helm-charts/skopeo/hello-world`,
    ]);
    assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['0.1.0']);
  });

  it('refuses anonymous reads, guest writes and missing projects with clear messages', async () => {
    const anon = await runSkopeo(['list-tags', '--tls-verify=false', `docker://${e.host}/helm-charts/image`]);
    show('skopeo list-tags without credentials', anon);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required/i);

    const layout = await imageLayout(await fresh('image-layout'));
    const byGuest = await runSkopeo([
      'copy',
      '--preserve-digests',
      '--dest-creds',
      credsArg(guest),
      '--dest-tls-verify=false',
      `oci:${layout.dir}:v1`,
      `docker://${e.host}/helm-charts/by-guest:v1`,
    ]);
    show('skopeo copy into helm-charts as a guest', byGuest);
    assert.notEqual(byGuest.code, 0);
    assert.match(byGuest.stderr, /unauthorized to access repository: helm-charts\/by-guest, action: push/);

    const missing = await runSkopeo([
      'copy',
      '--preserve-digests',
      '--dest-creds',
      credsArg(dev),
      '--dest-tls-verify=false',
      `oci:${layout.dir}:v1`,
      `docker://${e.host}/nope/image:v1`,
    ]);
    show('skopeo copy into a missing project', missing);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /project nope not found/);

    const wrong = await runSkopeo([
      'list-tags',
      '--tls-verify=false',
      '--creds',
      'dev:Wrong-Passw0rd',
      `docker://${e.host}/helm-charts/image`,
    ]);
    show('skopeo list-tags with a wrong password', wrong);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /invalid username or password|unauthorized/i);
  });
});

// ---- chartprov

describe('chartprov CLI with registry login', () => {
  it('logs in, pushes a signed chart, pulls it with --verify; Helm verifies what chartprov pushed', async () => {
    const config = join(work, 'chartprov-dev.json');
    const login = await runCli(
      ['registry', 'login', e.host, '-u', dev.username, '--password-stdin', '--plain-http', '--registry-config', config],
      {
        input: dev.password,
      },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    assert.ok(!(login.stdout + login.stderr).includes(dev.password));

    const push = await runCli([
      'push',
      goldens.helm4.chart,
      `oci://${e.host}/helm-charts/cli`,
      '--plain-http',
      '--registry-config',
      config,
    ]);
    assert.equal(push.code, 0, push.stderr);
    const digest = /Digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    const m = await manifestOf('helm-charts/cli/hello-world', '0.1.0', dev);
    assert.equal(sha256(m.bytes), digest);
    assert.equal(m.digest, digest);

    const dest = await fresh('cli-pull');
    const pull = await runCli([
      ...verifiedPullArgs(`oci://${e.host}/helm-charts/cli/hello-world`, dest, '--plain-http'),
      '--registry-config',
      config,
    ]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Signed by: John The Signer/);
    assert.deepEqual(await readFile(join(dest, 'hello-world-0.1.0.tgz')), await readFile(goldens.helm4.chart));

    for (const major of [4, 3] as HelmMajor[]) {
      const helmDest = await fresh(`cli-helm${major}`);
      const r = await runHelm(major, [
        ...verifiedPullArgs(`oci://${e.host}/helm-charts/cli/hello-world`, helmDest, '--plain-http'),
        '--registry-config',
        await helmConfig(major, dev),
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it('a wrong password, a missing project and a guest push fail with clear errors', async () => {
    const wrong = await runCli(
      [
        'registry',
        'login',
        e.host,
        '-u',
        dev.username,
        '--password-stdin',
        '--plain-http',
        '--registry-config',
        join(work, 'cli-wrong.json'),
      ],
      { input: 'Wrong-Passw0rd' },
    );
    show('chartprov registry login with a wrong password', wrong);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^error\[REGISTRY_CREDENTIALS_REJECTED\]/m);

    const config = join(work, 'chartprov-dev.json');
    const missing = await runCli([
      'push',
      goldens.helm4.chart,
      `oci://${e.host}/no-such-project`,
      '--plain-http',
      '--registry-config',
      config,
    ]);
    show('chartprov push into a missing project', missing);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /project no-such-project not found/);

    const guestConfig = join(work, 'chartprov-guest.json');
    const login = await runCli(
      ['registry', 'login', e.host, '-u', guest.username, '--password-stdin', '--plain-http', '--registry-config', guestConfig],
      {
        input: guest.password,
      },
    );
    assert.equal(login.code, 0, login.stderr);
    const denied = await runCli([
      'push',
      goldens.helm4.chart,
      `oci://${e.host}/helm-charts/by-guest`,
      '--plain-http',
      '--registry-config',
      guestConfig,
    ]);
    show('chartprov push as a guest', denied);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^error\[REGISTRY_DENIED\]/m);
  });
});
