// The registry credential store shared with Helm and Docker: lookup order,
// the Docker config format as oras-go (Helm 4) reads and writes it,
// credential helpers, and that no secret ever reaches an error.
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CredentialStore,
  defaultDockerConfigPath,
  defaultHelmConfigPath,
  normalizeRegistryHost,
  type CredentialStoreOptions,
} from '../../src/oci/credentials/index.js';
import { fakeHelper } from './credentials-helper.js';
import { tempDir } from '../peers/tmp.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
type Coded = Error & { code?: string; hint?: string };

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('chartprov-creds-'));
});
after(() => cleanup());

/** A fresh folder with helm/ and docker/ config paths and a store over them. */
async function setup(files: { helm?: unknown; docker?: unknown } = {}, opts: CredentialStoreOptions = {}) {
  const dir = join(root, `case-${++n}`);
  const helmPath = join(dir, 'helm', 'registry', 'config.json');
  const dockerPath = join(dir, 'docker', 'config.json');
  await mkdir(dir);
  for (const [path, content] of [
    [helmPath, files.helm],
    [dockerPath, files.docker],
  ] as const) {
    if (content === undefined) continue;
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  const store = new CredentialStore({ env: {}, helmConfigPath: helmPath, dockerConfigPath: dockerPath, ...opts });
  return { dir, helmPath, dockerPath, store };
}

/** Asserts a CREDENTIALS_UNAVAILABLE error whose message, hint, JSON and string form hold none of `secrets`. */
async function rejectsWithoutSecrets(p: Promise<unknown>, secrets: string[], message?: RegExp): Promise<Coded> {
  let caught: Coded | undefined;
  await p.catch((err: Coded) => (caught = err));
  assert.ok(caught, 'expected a rejection');
  assert.equal(caught.code, 'CREDENTIALS_UNAVAILABLE', String(caught));
  if (message) assert.match(caught.message, message);
  const shown = [caught.message, caught.hint, String(caught), JSON.stringify(caught), caught.stack ?? ''].join('\n');
  for (const s of secrets) assert.ok(!shown.includes(s), `secret ${JSON.stringify(s)} leaked: ${shown}`);
  return caught;
}

describe('normalizeRegistryHost', () => {
  it('lowercases host[:port] and drops scheme and path', () => {
    assert.equal(normalizeRegistryHost('LOCALHOST:5000'), 'localhost:5000');
    assert.equal(normalizeRegistryHost('https://Registry.Example:8443/v2/foo'), 'registry.example:8443');
    assert.equal(normalizeRegistryHost('oci://ghcr.io/org/charts'), 'ghcr.io');
    assert.equal(normalizeRegistryHost('[::1]:5000'), '[::1]:5000');
  });

  it("maps Docker Hub's names to Docker's key, and nothing else", () => {
    for (const h of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'Docker.IO']) {
      assert.equal(normalizeRegistryHost(h), 'https://index.docker.io/v1/', h);
    }
    assert.equal(normalizeRegistryHost('docker.io:443'), 'docker.io:443');
    assert.equal(normalizeRegistryHost('mirror.docker.io'), 'mirror.docker.io');
  });

  it('rejects an empty host', () => {
    assert.throws(() => normalizeRegistryHost(' '), { code: 'REFERENCE_INVALID' });
  });
});

describe('default config paths', () => {
  it("follow Helm's rule for its registry config", () => {
    assert.equal(defaultHelmConfigPath({ HELM_REGISTRY_CONFIG: '/x/c.json', XDG_CONFIG_HOME: '/xdg' }), '/x/c.json');
    assert.equal(defaultHelmConfigPath({ HELM_CONFIG_HOME: '/hc', XDG_CONFIG_HOME: '/xdg' }), '/hc/registry/config.json');
    assert.equal(defaultHelmConfigPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/h' }), '/xdg/helm/registry/config.json');
    assert.equal(defaultHelmConfigPath({ HOME: '/h' }), '/h/.config/helm/registry/config.json');
  });

  it("follow Docker's rule for its config", () => {
    assert.equal(defaultDockerConfigPath({ DOCKER_CONFIG: '/d', HOME: '/h' }), '/d/config.json');
    assert.equal(defaultDockerConfigPath({ HOME: '/h' }), '/h/.docker/config.json');
  });

  it('are what the store uses when none is given', () => {
    const store = new CredentialStore({ env: { HOME: '/h', DOCKER_CONFIG: '/d' } });
    assert.equal(store.helmConfigPath, '/h/.config/helm/registry/config.json');
    assert.equal(store.dockerConfigPath, '/d/config.json');
  });
});

describe('CredentialStore.get: auths entries', () => {
  it('decodes auth, splitting at the first colon only', async () => {
    const { store, helmPath } = await setup({ helm: { auths: { 'localhost:5000': { auth: b64('alice:pa:ss:word') } } } });
    assert.deepEqual(await store.get('localhost:5000'), {
      credential: { username: 'alice', password: 'pa:ss:word' },
      source: helmPath,
    });
  });

  it('reads the legacy username/password fields, and auth wins over them', async () => {
    const { store } = await setup({
      helm: {
        auths: {
          'a.example': { username: 'bob', password: 'secret-b' },
          'b.example': { auth: b64('carol:secret-c'), username: 'stale', password: 'stale' },
        },
      },
    });
    assert.deepEqual((await store.get('a.example'))?.credential, { username: 'bob', password: 'secret-b' });
    assert.deepEqual((await store.get('b.example'))?.credential, { username: 'carol', password: 'secret-c' });
  });

  it('reads identity and registry tokens', async () => {
    const { store } = await setup({
      helm: {
        auths: {
          'id.example': { auth: b64('dave:'), identitytoken: 'refresh-123' },
          'reg.example': { registrytoken: 'bearer-456' },
        },
      },
    });
    assert.deepEqual((await store.get('id.example'))?.credential, { username: 'dave', identityToken: 'refresh-123' });
    assert.deepEqual((await store.get('reg.example'))?.credential, { registryToken: 'bearer-456' });
  });

  it('matches keys with a scheme, a path or other case, and keeps ports apart', async () => {
    const { store } = await setup({
      helm: {
        auths: {
          'https://registry.example:5000/v1/': { auth: b64('u1:p1') },
          'HTTP://Upper.Example': { auth: b64('u2:p2') },
          'registry.example': { auth: b64('u3:p3') },
        },
      },
    });
    assert.equal((await store.get('registry.example:5000'))?.credential.username, 'u1');
    assert.equal((await store.get('upper.example'))?.credential.username, 'u2');
    assert.equal((await store.get('REGISTRY.EXAMPLE'))?.credential.username, 'u3');
    assert.equal(await store.get('registry.example:6000'), undefined);
  });

  it("prefers the exact key, and finds Docker Hub under Docker's key", async () => {
    const { store } = await setup({
      docker: {
        auths: {
          'https://localhost:5000': { auth: b64('loose:x') },
          'localhost:5000': { auth: b64('exact:x') },
          'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        },
      },
    });
    assert.equal((await store.get('localhost:5000'))?.credential.username, 'exact');
    for (const h of ['registry-1.docker.io', 'docker.io', 'index.docker.io']) {
      assert.equal((await store.get(h))?.credential.username, 'hubuser', h);
    }
  });

  it("falls back to Docker's file; Helm's wins when both have the host", async () => {
    const { store, helmPath, dockerPath } = await setup({
      helm: { auths: { 'both.example': { auth: b64('helm:h') }, 'empty.example': {} } },
      docker: {
        auths: {
          'both.example': { auth: b64('docker:d') },
          'docker.example': { auth: b64('docker:d') },
          'empty.example': { auth: b64('docker:e') },
        },
      },
    });
    assert.deepEqual(await store.get('both.example'), { credential: { username: 'helm', password: 'h' }, source: helmPath });
    assert.deepEqual(await store.get('docker.example'), { credential: { username: 'docker', password: 'd' }, source: dockerPath });
    // An empty entry (Docker writes them next to a credsStore) is no credential.
    assert.equal((await store.get('empty.example'))?.source, dockerPath);
    assert.equal(await store.get('nowhere.example'), undefined);
  });

  it('treats missing and empty files as empty', async () => {
    const { store } = await setup({ helm: '  \n' });
    assert.equal(await store.get('localhost:5000'), undefined);
  });

  it('takes CHARTPROV_USERNAME and CHARTPROV_PASSWORD first, when both are set, for the registries named', async () => {
    const files = { helm: { auths: { 'localhost:5000': { auth: b64('file:f') }, 'other:5000': { auth: b64('o:p') } } } };
    const env = { CHARTPROV_USERNAME: 'env', CHARTPROV_PASSWORD: 'e' };
    const both = await setup(files, { env, envRegistries: ['localhost:5000'] });
    assert.deepEqual(await both.store.get('localhost:5000'), {
      credential: { username: 'env', password: 'e' },
      source: 'CHARTPROV_USERNAME/CHARTPROV_PASSWORD',
    });
    // Never sent to a registry the command did not name.
    assert.equal((await both.store.get('other:5000'))?.credential.username, 'o');
    assert.equal(await both.store.get('ghcr.io'), undefined);
    // Not named at all: the environment's password goes nowhere.
    const unnamed = await setup(files, { env });
    assert.equal((await unnamed.store.get('localhost:5000'))?.credential.username, 'file');
    // CHARTPROV_REGISTRY names them explicitly.
    const listed = await setup(files, { env: { ...env, CHARTPROV_REGISTRY: 'other:5000, x' }, envRegistries: ['localhost:5000'] });
    assert.equal((await listed.store.get('other:5000'))?.credential.username, 'env');
    assert.equal((await listed.store.get('localhost:5000'))?.credential.username, 'file');
    const one = await setup(files, { env: { CHARTPROV_USERNAME: 'env' }, envRegistries: ['localhost:5000'] });
    assert.equal((await one.store.get('localhost:5000'))?.credential.username, 'file');
  });
});

describe('CredentialStore: broken config files', () => {
  it('reports invalid JSON with the path and none of the content', async () => {
    const text = '{"auths": {"localhost:5000": {"auth": "c2VjcmV0LXZhbHVl"}}, hunter2-secret}';
    const { store, helmPath } = await setup({ helm: text });
    const err = await rejectsWithoutSecrets(store.get('localhost:5000'), ['hunter2', 'c2VjcmV0', 'secret-value']);
    assert.ok(err.message.includes(helmPath), err.message);
    await rejectsWithoutSecrets(store.save('localhost:5000', { username: 'u', password: 'new-secret' }), ['new-secret']);
  });

  it('reports a bad auth field without quoting it', async () => {
    const { store } = await setup({
      helm: { auths: { 'a.example': { auth: 'not base64!' }, 'b.example': { auth: b64('no-colon-secret') } } },
    });
    await rejectsWithoutSecrets(store.get('a.example'), ['not base64'], /a\.example/);
    await rejectsWithoutSecrets(store.get('b.example'), ['no-colon-secret', b64('no-colon-secret')], /b\.example/);
  });

  it('reports fields of the wrong type', async () => {
    const { store } = await setup({ helm: { credHelpers: ['x'] } });
    await rejectsWithoutSecrets(store.get('a.example'), [], /credHelpers/);
  });
});

describe('CredentialStore.save', () => {
  it('writes Helm 4’s exact bytes, keeping every other key and entry', async () => {
    // Input and output of `helm registry login 127.0.0.1:5099 -u 'us<er' -p 'pa:ss&w'` (Helm v4.1.4).
    const input = [
      '{',
      '  "zz": {"b": 1.0, "a": "x<y&z", "10": [ ]},',
      '  "credHelpers": {},',
      '  "auths": {',
      '    "https://other.example/v1/": {"auth": "dTpw", "email": "e@x"},',
      '    "aaa.example": {}',
      '  },',
      '  "empty": {}',
      '}',
      '',
    ].join('\n');
    const expected = [
      '{',
      '\t"auths": {',
      '\t\t"127.0.0.1:5099": {',
      '\t\t\t"auth": "dXM8ZXI6cGE6c3Mmdw=="',
      '\t\t},',
      '\t\t"aaa.example": {},',
      '\t\t"https://other.example/v1/": {',
      '\t\t\t"auth": "dTpw",',
      '\t\t\t"email": "e@x"',
      '\t\t}',
      '\t},',
      '\t"credHelpers": {},',
      '\t"empty": {},',
      '\t"zz": {',
      '\t\t"b": 1.0,',
      '\t\t"a": "x\\u003cy\\u0026z",',
      '\t\t"10": []',
      '\t}',
      '}',
    ].join('\n');
    const { store, helmPath } = await setup({ helm: input });
    assert.deepEqual(await store.save('127.0.0.1:5099', { username: 'us<er', password: 'pa:ss&w' }), { source: helmPath });
    assert.equal(await readFile(helmPath, 'utf8'), expected);
    // …and `helm registry logout` gives back the file without the entry.
    assert.equal(await store.erase('127.0.0.1:5099'), true);
    assert.equal(await readFile(helmPath, 'utf8'), expected.replace(/\t\t"127\.0\.0\.1:5099": \{\n\t\t\t"auth": "[^"]+"\n\t\t\},\n/, ''));
  });

  it('creates the file and its folders (0700), writes 0600 atomically, and reads back', async () => {
    const { store, helmPath, dir } = await setup();
    await store.save('LOCALHOST:5000', { username: 'alice', password: 'pa:ss' });
    assert.equal(
      await readFile(helmPath, 'utf8'),
      `{\n\t"auths": {\n\t\t"localhost:5000": {\n\t\t\t"auth": "${b64('alice:pa:ss')}"\n\t\t}\n\t}\n}`,
    );
    assert.equal((await stat(helmPath)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'helm', 'registry'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'helm'))).mode & 0o777, 0o700);
    assert.deepEqual(await readdir(join(dir, 'helm', 'registry')), ['config.json']);
    assert.deepEqual((await store.get('localhost:5000'))?.credential, { username: 'alice', password: 'pa:ss' });
  });

  it('writes 0600 even over a file that had another mode, and leaves no temp file', async () => {
    const { store, helmPath } = await setup({ helm: { auths: { 'other.example': { auth: b64('o:o') } } } });
    await chmod(helmPath, 0o644);
    await store.save('localhost:5000', { username: 'u', password: 'p' });
    assert.equal((await stat(helmPath)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(helmPath, '..')), ['config.json']);
    assert.equal((await store.get('other.example'))?.credential.username, 'o');
  });

  it('saves identity and registry tokens under their Docker names', async () => {
    const { store, helmPath } = await setup();
    await store.save('id.example', { username: 'dave', identityToken: 'refresh-1' });
    await store.save('tok.example', { identityToken: 'refresh-2', registryToken: 'bearer-3' });
    const auths = (JSON.parse(await readFile(helmPath, 'utf8')) as { auths: Record<string, unknown> }).auths;
    assert.deepEqual(auths['id.example'], { auth: b64('dave:'), identitytoken: 'refresh-1' });
    assert.deepEqual(auths['tok.example'], { identitytoken: 'refresh-2', registrytoken: 'bearer-3' });
    assert.deepEqual((await store.get('tok.example'))?.credential, { identityToken: 'refresh-2', registryToken: 'bearer-3' });
  });

  it("files Docker Hub under Docker's key and replaces an older entry", async () => {
    const { store, helmPath } = await setup({ helm: { auths: { 'https://index.docker.io/v1/': { auth: b64('old:old') } } } });
    await store.save('docker.io', { username: 'new', password: 'new' });
    const auths = (JSON.parse(await readFile(helmPath, 'utf8')) as { auths: Record<string, unknown> }).auths;
    assert.deepEqual(Object.keys(auths), ['https://index.docker.io/v1/']);
    assert.equal((await store.get('registry-1.docker.io'))?.credential.username, 'new');
  });

  it('never writes to Docker’s file', async () => {
    const docker = { auths: { 'localhost:5000': { auth: b64('d:d') } } };
    const { store, dockerPath } = await setup({ docker });
    await store.save('localhost:5000', { username: 'h', password: 'h' });
    assert.equal(await store.erase('localhost:5000'), true);
    assert.deepEqual(JSON.parse(await readFile(dockerPath, 'utf8')), docker);
    assert.equal((await store.get('localhost:5000'))?.source, dockerPath);
  });

  it('writes through a symlinked config, keeping the link', async () => {
    const { store, helmPath, dir } = await setup();
    const real = join(dir, 'dotfiles', 'registry.json');
    await mkdir(join(dir, 'dotfiles'));
    await writeFile(real, '{}');
    await mkdir(join(helmPath, '..'), { recursive: true });
    await symlink(real, helmPath);
    await store.save('localhost:5000', { username: 'u', password: 'p' });
    assert.ok((await lstat(helmPath)).isSymbolicLink());
    assert.equal(await readlink(helmPath), real);
    assert.match(await readFile(real, 'utf8'), /localhost:5000/);
  });

  it('refuses a user name with a colon, and an empty credential, without echoing the password', async () => {
    const { store, helmPath } = await setup();
    await rejectsWithoutSecrets(store.save('localhost:5000', { username: 'a:b', password: 'top-secret' }), ['top-secret'], /colon/);
    await rejectsWithoutSecrets(store.save('localhost:5000', {}), []);
    await assert.rejects(stat(helmPath), { code: 'ENOENT' });
  });

  it('reports an unwritable place as CREDENTIALS_UNAVAILABLE', async () => {
    const { dir } = await setup();
    await writeFile(join(dir, 'file'), '');
    const store = new CredentialStore({ env: {}, helmConfigPath: join(dir, 'file', 'config.json'), dockerConfigPath: join(dir, 'none') });
    await rejectsWithoutSecrets(store.save('localhost:5000', { username: 'u', password: 'write-secret' }), ['write-secret']);
  });
});

describe('CredentialStore.erase', () => {
  it('removes every entry that stands for the host, and nothing else', async () => {
    const { store, helmPath } = await setup({
      helm: {
        credsStore: '',
        auths: {
          'localhost:5000': { auth: b64('a:a') },
          'https://localhost:5000': { auth: b64('b:b') },
          'http://LOCALHOST:5000/v1/': { auth: b64('c:c') },
          'localhost:5001': { auth: b64('d:d') },
        },
        extra: { kept: true },
      },
    });
    assert.equal(await store.erase('localhost:5000'), true);
    const after = JSON.parse(await readFile(helmPath, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(after, { auths: { 'localhost:5001': { auth: b64('d:d') } }, credsStore: '', extra: { kept: true } });
    assert.equal(await store.get('localhost:5000'), undefined);
    assert.equal(await store.erase('localhost:5000'), false);
  });

  it('returns false and writes nothing when there is no file', async () => {
    const { store, helmPath } = await setup();
    assert.equal(await store.erase('localhost:5000'), false);
    await assert.rejects(stat(helmPath), { code: 'ENOENT' });
  });
});

describe('CredentialStore: credential helpers', () => {
  it('asks credHelpers[host] with the server address on stdin', async () => {
    const { dir } = await setup();
    const helper = await fakeHelper(dir);
    await helper.setEntry('registry.example', 'helper-user', 'helper-pass');
    await helper.setEntry('https://index.docker.io/v1/', '<token>', 'hub-refresh');
    const { store } = await setup(
      {
        helm: {
          credHelpers: { 'registry.example': 'test', 'https://index.docker.io/v1/': 'test' },
          auths: { 'registry.example': { auth: b64('file:f') }, 'plain.example': { auth: b64('plain:p') } },
        },
      },
      { env: helper.env },
    );
    assert.deepEqual(await store.get('REGISTRY.example'), {
      credential: { username: 'helper-user', password: 'helper-pass' },
      source: 'docker-credential-test',
    });
    assert.deepEqual(await store.get('registry-1.docker.io'), {
      credential: { identityToken: 'hub-refresh' },
      source: 'docker-credential-test',
    });
    // Hosts the helper is not named for still come from auths.
    assert.equal((await store.get('plain.example'))?.credential.username, 'plain');
    assert.deepEqual(await helper.calls(), [
      { action: 'get', input: 'registry.example' },
      { action: 'get', input: 'https://index.docker.io/v1/' },
    ]);
  });

  it("takes the helper's 'not found' as no credential, and moves on to Docker's file (not the same file's auths)", async () => {
    const { dir } = await setup();
    const helper = await fakeHelper(dir);
    const { store, dockerPath } = await setup(
      {
        helm: { credsStore: 'test', auths: { 'localhost:5000': { auth: b64('ignored:i') } } },
        docker: { auths: { 'localhost:5000': { auth: b64('docker:d') } } },
      },
      { env: helper.env },
    );
    assert.deepEqual(await store.get('localhost:5000'), { credential: { username: 'docker', password: 'd' }, source: dockerPath });
  });

  it('saves and erases through credsStore, leaving the file alone', async () => {
    const { dir } = await setup();
    const helper = await fakeHelper(dir);
    const { store, helmPath } = await setup({ helm: { credsStore: 'test' } }, { env: helper.env });
    const before = await readFile(helmPath, 'utf8');
    assert.deepEqual(await store.save('localhost:5000', { username: 'alice', password: 's3cret' }), { source: 'docker-credential-test' });
    await store.save('tok.example', { identityToken: 'refresh-9' });
    assert.deepEqual(await helper.entries(), {
      'localhost:5000': { Username: 'alice', Secret: 's3cret' },
      'tok.example': { Username: '<token>', Secret: 'refresh-9' },
    });
    assert.deepEqual((await store.get('tok.example'))?.credential, { identityToken: 'refresh-9' });
    assert.equal(await store.erase('localhost:5000'), true);
    assert.equal(await store.erase('localhost:5000'), false);
    assert.deepEqual(Object.keys(await helper.entries()), ['tok.example']);
    assert.equal(await readFile(helmPath, 'utf8'), before);
    const calls = await helper.calls();
    assert.deepEqual(JSON.parse(calls[0]!.input), { ServerURL: 'localhost:5000', Username: 'alice', Secret: 's3cret' });
    assert.deepEqual(
      calls.filter((c) => c.action === 'erase'),
      [
        { action: 'erase', input: 'localhost:5000' },
        { action: 'erase', input: 'localhost:5000' },
      ],
    );
  });

  it('reports a failing helper by name, without the secrets it printed', async () => {
    const { dir } = await setup();
    const helper = await fakeHelper(dir);
    await helper.setMode('fail');
    const { store } = await setup({ helm: { credsStore: 'test' } }, { env: helper.env });
    const err = await rejectsWithoutSecrets(
      store.save('localhost:5000', { username: 'alice', password: 'leaky-password' }),
      ['leaky-password', 'boom'],
      /docker-credential-test/,
    );
    assert.match(err.message, /status 3/);
    await rejectsWithoutSecrets(store.get('localhost:5000'), ['boom'], /docker-credential-test failed to get/);
  });

  it('reports a helper that is not installed', async () => {
    const { store } = await setup({ helm: { credHelpers: { 'localhost:5000': 'nonexistent-xyz' } } }, { env: { PATH: '/nonexistent' } });
    await rejectsWithoutSecrets(store.get('localhost:5000'), [], /docker-credential-nonexistent-xyz .*not on PATH/);
  });

  it('gives up on a helper that hangs', async () => {
    const { dir } = await setup();
    const helper = await fakeHelper(dir);
    await helper.setMode('hang');
    const { store } = await setup({ helm: { credsStore: 'test' } }, { env: helper.env, helperTimeoutMs: 300 });
    await rejectsWithoutSecrets(store.get('localhost:5000'), [], /did not finish/);
  });

  it('refuses a helper name that is a path', async () => {
    const { store } = await setup({ helm: { credsStore: '../../bin/sh' } });
    await rejectsWithoutSecrets(store.get('localhost:5000'), [], /not a plain name/);
  });
});
