// The settings of `chartprov serve`, checked without starting anything:
// sizes, durations, addresses, the YAML file and how flags override it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServeConfigError } from '../../src/errors.js';
import { parseRobotPermission } from '../../src/flows/serve-accounts.js';
import {
  defaultRegistryDataDir,
  isLoopbackHost,
  parseAddr,
  parseDuration,
  parseServeConfig,
  parseSize,
  readAdminPassword,
  resolveServeSettings,
  serveWarnings,
} from '../../src/flows/serve-config.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: work, cleanup } = await tempDir('chartprov-serve-config-')));
after(() => cleanup());

const invalid = (re: RegExp) => (err: unknown) => err instanceof ServeConfigError && re.test(err.message);

describe('serve settings: values', () => {
  it('sizes: IEC and SI units, bytes, fractions; nothing ambiguous or empty', () => {
    assert.equal(parseSize('512MiB'), 512 * 2 ** 20);
    assert.equal(parseSize('2GB'), 2e9);
    assert.equal(parseSize('2 gib'), 2 * 2 ** 30);
    assert.equal(parseSize('1.5KiB'), 1536);
    assert.equal(parseSize(1048576), 1048576);
    assert.equal(parseSize('100'), 100);
    for (const bad of ['5M', '', '0', '-1MB', '1e9', 'MiB', '12XB']) assert.throws(() => parseSize(bad, 'x'), ServeConfigError, bad);
  });

  it('durations: seconds or s/m/h/d, combined', () => {
    assert.equal(parseDuration(1800), 1800);
    assert.equal(parseDuration('1800'), 1800);
    assert.equal(parseDuration('30m'), 1800);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('1d'), 86400);
    for (const bad of ['0', '10x', '1.5h', '', -5, true]) assert.throws(() => parseDuration(bad), ServeConfigError, String(bad));
  });

  it('addresses: HOST:PORT, [IPv6]:PORT, :PORT; loopback or not', () => {
    assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
    assert.deepEqual(parseAddr('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseAddr(':5000'), { host: '0.0.0.0', port: 5000 });
    assert.deepEqual(parseAddr('localhost:80'), { host: 'localhost', port: 80 });
    for (const bad of ['5000', 'host', '1.2.3.4:70000', '[zz]:1', 'a b:1'])
      assert.throws(() => parseAddr(bad, '--addr'), invalid(/^--addr: /), bad);
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('127.1.2.3') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
    assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('10.0.0.1') && !isLoopbackHost('::'));
  });

  it('robot permissions: PROJECT:actions, * for every project', () => {
    assert.deepEqual(parseRobotPermission('charts:pull,push'), { project: 'charts', actions: ['pull', 'push'] });
    assert.deepEqual(parseRobotPermission('*:pull,pull'), { project: '*', actions: ['pull'] });
    for (const bad of ['charts', 'charts:', ':pull', 'charts:pull,admin', 'Bad_Name:pull'])
      assert.throws(() => parseRobotPermission(bad), bad);
  });
});

describe('serve settings: file and flags', () => {
  it('reads every setting; relative paths are from the file’s folder', () => {
    const s = parseServeConfig(
      [
        'addr: ":5000"',
        'data: reg',
        'tls: { cert: t.crt, key: t.key }',
        'external_url: https://registry.example.com/',
        'auth: { service: svc, issuer: iss, token_ttl: 1h }',
        'limits: { max_blob_size: 1GiB, max_manifest_size: 4194304 }',
        'log: { requests: false }',
        'keyring: keys/pubring.gpg',
      ].join('\n'),
      { file: 'c.yaml', baseDir: '/etc/chartprov' },
    );
    assert.deepEqual(s, {
      addr: ':5000',
      data: '/etc/chartprov/reg',
      tls: { cert: '/etc/chartprov/t.crt', key: '/etc/chartprov/t.key' },
      externalUrl: 'https://registry.example.com',
      tokens: { service: 'svc', issuer: 'iss', ttlSeconds: 3600 },
      limits: { maxBlobBytes: 2 ** 30, maxManifestBytes: 4194304 },
      logRequests: false,
      keyring: '/etc/chartprov/keys/pubring.gpg',
    });
    assert.deepEqual(parseServeConfig(''), { tokens: {}, limits: {} }, 'an empty file is no settings');
  });

  it('names the key of every mistake', () => {
    const cases: Array<[string, RegExp]> = [
      ['nope: 1', /^unknown setting nope in c\.yaml$/],
      ['tls: { crt: x }', /^unknown setting tls\.crt/],
      ['tls: yes', /^tls in c\.yaml: must be a mapping/],
      ['data: [a]', /^data in c\.yaml: must be a non-empty string, not a list/],
      ['external_url: ftp://x', /^external_url in c\.yaml: "ftp:\/\/x" is not an http\(s\) URL/],
      ['auth: { token_ttl: soon }', /^auth\.token_ttl in c\.yaml: "soon" is not a duration/],
      ['limits: { max_manifest_size: true }', /^limits\.max_manifest_size in c\.yaml: must be a size/],
      ['- a\n- b', /^the file in c\.yaml: must be a mapping/],
      ['addr: 1.2.3.4', /^addr in c\.yaml: "1\.2\.3\.4" is not HOST:PORT/],
      ['keyring: [a]', /^keyring in c\.yaml: must be a non-empty string, not a list/],
      ['a: &x 1\nb: *y', /not valid YAML/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseServeConfig(text, { file: 'c.yaml' }), invalid(re), text);
  });

  it('flags win over the file; defaults fill the rest; a non-loopback plain-HTTP address warns', async () => {
    const file = join(work, 'serve.yaml');
    await writeFile(file, 'addr: 0.0.0.0:5000\ndata: d\nlimits: { max_blob_size: 1MB }\n');
    const fromFile = await resolveServeSettings({ flags: { config: file } });
    assert.equal(fromFile.host, '0.0.0.0');
    assert.equal(fromFile.dataDir, join(work, 'd'));
    assert.equal(fromFile.limits.maxBlobBytes, 1e6);
    assert.equal(fromFile.logRequests, true);
    assert.match(serveWarnings(fromFile).join(), /plain HTTP on 0\.0\.0\.0/);

    const flags = await resolveServeSettings({ flags: { config: file, addr: '127.0.0.1:0', data: 'x', maxBlobSize: '2KiB' } });
    assert.deepEqual([flags.host, flags.port, flags.dataDir, flags.limits.maxBlobBytes], ['127.0.0.1', 0, join(process.cwd(), 'x'), 2048]);
    assert.deepEqual(serveWarnings(flags), []);
    assert.equal(flags.keyring, undefined, 'no keyring unless one is given');
    await writeFile(file, 'keyring: ring.gpg\n');
    assert.equal((await resolveServeSettings({ flags: { config: file } })).keyring, join(work, 'ring.gpg'));
    assert.equal((await resolveServeSettings({ flags: { config: file, keyring: 'other.gpg' } })).keyring, join(process.cwd(), 'other.gpg'));

    const defaults = await resolveServeSettings({ env: { HOME: '/home/u' } });
    assert.deepEqual([defaults.host, defaults.port, defaults.dataDir], ['127.0.0.1', 5000, '/home/u/.local/share/chartprov/registry']);
    assert.equal(defaultRegistryDataDir({ XDG_DATA_HOME: '/xdg', HOME: '/home/u' }), '/xdg/chartprov/registry');
    assert.equal(defaultRegistryDataDir({ XDG_DATA_HOME: 'relative', HOME: '/home/u' }), '/home/u/.local/share/chartprov/registry');
    await assert.rejects(resolveServeSettings({ flags: { tlsKey: 'k.pem' } }), invalid(/only the key was given/));
  });

  it('the admin password: file (first line), else the environment', async () => {
    const file = join(work, 'admin-password');
    await writeFile(file, 'Secret-passw0rd\nignored\n');
    assert.equal(await readAdminPassword({ file, env: { CHARTPROV_ADMIN_PASSWORD: 'Env-passw0rd' } }), 'Secret-passw0rd');
    assert.equal(await readAdminPassword({ env: { CHARTPROV_ADMIN_PASSWORD: 'Env-passw0rd' } }), 'Env-passw0rd');
    assert.equal(await readAdminPassword({ env: {} }), undefined);
    await writeFile(file, '\n');
    await assert.rejects(readAdminPassword({ file, env: {} }), invalid(/is empty/));
  });
});
