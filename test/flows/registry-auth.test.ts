// Logins and authorisation against the real distribution 2.8 registry: htpasswd
// Basic auth over TLS with a CA made here, bearer tokens from a token service,
// and mutual TLS. Credentials are shared with real Helm 3 and 4 both ways, and
// no secret ever shows in any output.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goldens } from '../peers/charts.js';
import { onTerminal, runCli } from '../peers/cli.js';
import { runHelm, type HelmMajor } from '../peers/helm.js';
import { keyFile, launcherPath } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { startTokenServer, type TokenServer } from '../peers/token-server.js';
import { tempDir } from '../peers/tmp.js';

const execFileP = promisify(execFile);
const PASSWORD = 'Pa55:word-with-colon&stuff';
const pubring = keyFile('all-pubring.gpg');

function assertNoSecret(...outputs: string[]): void {
  for (const out of outputs) assert.ok(!out.includes(PASSWORD), `secret leaked into: ${out}`);
}

describe('registry login and Basic auth over TLS (htpasswd)', () => {
  let reg: DockerRegistry;
  let work: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const configPath = () => join(work, `config-${++n}.json`);

  before(async () => {
    reg = await startDockerRegistry({ auth: { htpasswd: { alice: PASSWORD, bob: 'bobs-password' } }, tls: true });
    ({ dir: work, cleanup } = await tempDir());
  });
  after(async () => {
    await reg?.stop();
    await cleanup?.();
  });

  const tlsArgs = () => ['--ca-file', reg.caFile!];

  it('without the CA: REGISTRY_TLS; without a login: REGISTRY_LOGIN_REQUIRED', async () => {
    const noCa = await runCli(['versions', `oci://${reg.host}/p/hello-world`]);
    assert.match(noCa.stderr, /^error\[REGISTRY_TLS\]/m);
    assert.match(noCa.stderr, /--ca-file/);
    const anon = await runCli(['versions', `oci://${reg.host}/p/hello-world`, ...tlsArgs(), '--registry-config', configPath()]);
    assert.match(anon.stderr, /^error\[REGISTRY_LOGIN_REQUIRED\]/m);
    assert.match(anon.stderr, /registry login/);
  });

  it('on a terminal, login asks for the user name and the password (not echoed)', async () => {
    const config = configPath();
    const r = await onTerminal(['registry', 'login', reg.host, ...tlsArgs(), '--registry-config', config], {
      'Username:': 'alice\r',
      'Password:': `${PASSWORD}\r`,
    });
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Login Succeeded/);
    assert.ok(!r.screen.includes(PASSWORD), 'the password is not echoed');
    assert.equal((await stat(config)).mode & 0o777, 0o600);
  });

  it('a wrong password fails login with REGISTRY_CREDENTIALS_REJECTED and saves nothing', async () => {
    const config = configPath();
    const r = await runCli(['registry', 'login', reg.host, '-u', 'alice', '--password-stdin', ...tlsArgs(), '--registry-config', config], {
      input: 'not-the-password\n',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[REGISTRY_CREDENTIALS_REJECTED\]/m);
    await assert.rejects(stat(config), { code: 'ENOENT' });
  });

  it('login saves a 0600 file Helm reads; chartprov push then helm pull --verify (Helm 3 and 4)', async () => {
    const config = configPath();
    const login = await runCli(
      ['registry', 'login', reg.host, '-u', 'alice', '--password-stdin', ...tlsArgs(), '--registry-config', config],
      {
        input: `${PASSWORD}\n`,
      },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    assertNoSecret(login.stdout, login.stderr);
    assert.equal((await stat(config)).mode & 0o777, 0o600);
    const saved = JSON.parse(await readFile(config, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[reg.host]!.auth, 'base64').toString(), `alice:${PASSWORD}`);

    const push = await runCli(['push', goldens.helm4.chart, `oci://${reg.host}/basic`, ...tlsArgs(), '--registry-config', config]);
    assert.equal(push.code, 0, push.stderr);
    assertNoSecret(push.stdout, push.stderr);
    // Helm 3 talks plain HTTP to any loopback registry (containerd's MatchLocalhost), so only Helm 4 can pull over TLS here.
    {
      const dest = work;
      const pulled = await runHelm(4, [
        'pull',
        `oci://${reg.host}/basic/hello-world`,
        '--version',
        '0.1.0',
        '--ca-file',
        reg.caFile!,
        '--registry-config',
        config,
        '--verify',
        '--keyring',
        pubring,
        '-d',
        dest,
      ]);
      assert.equal(pulled.code, 0, pulled.stderr);
    }

    const logout = await runCli(['registry', 'logout', reg.host, '--registry-config', config]);
    assert.equal(logout.code, 0, logout.stderr);
    const after = await runCli(['versions', `oci://${reg.host}/basic/hello-world`, ...tlsArgs(), '--registry-config', config]);
    assert.match(after.stderr, /^error\[REGISTRY_LOGIN_REQUIRED\]/m);
  });

  for (const major of [3, 4] as HelmMajor[]) {
    it(`a login made by helm ${major} registry login works for chartprov`, async () => {
      const config = configPath();
      const login = await runHelm(major, [
        'registry',
        'login',
        reg.host,
        '-u',
        'alice',
        '-p',
        PASSWORD,
        '--ca-file',
        reg.caFile!,
        '--registry-config',
        config,
      ]);
      assert.equal(login.code, 0, login.stderr);
      const push = await runCli([
        'push',
        goldens.helm3.chart,
        `oci://${reg.host}/from-helm-login-${major}`,
        ...tlsArgs(),
        '--registry-config',
        config,
      ]);
      assert.equal(push.code, 0, push.stderr);
      const pull = await runCli([
        'pull',
        `oci://${reg.host}/from-helm-login-${major}/hello-world`,
        '--verify',
        '--keyring',
        pubring,
        '-d',
        join(work, `pull-${n}`),
        ...tlsArgs(),
        '--registry-config',
        config,
      ]);
      assert.equal(pull.code, 0, pull.stderr);
    });
  }

  it('CHARTPROV_USERNAME/CHARTPROV_PASSWORD log in without a file; a wrong one is rejected', async () => {
    const ok = await runCli(['versions', `oci://${reg.host}/basic/hello-world`, ...tlsArgs(), '--registry-config', configPath()], {
      env: { CHARTPROV_USERNAME: 'bob', CHARTPROV_PASSWORD: 'bobs-password' },
    });
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await runCli(['versions', `oci://${reg.host}/basic/hello-world`, ...tlsArgs(), '--registry-config', configPath()], {
      env: { CHARTPROV_USERNAME: 'bob', CHARTPROV_PASSWORD: PASSWORD },
    });
    assert.match(bad.stderr, /^error\[REGISTRY_CREDENTIALS_REJECTED\]/m);
    assertNoSecret(bad.stdout, bad.stderr);
  });

  it('the chartprov command trusts a CA given by NODE_EXTRA_CA_CERTS (passed on by the launcher)', async () => {
    const env = {
      ...process.env,
      HOME: work,
      NODE_EXTRA_CA_CERTS: reg.caFile!,
      CHARTPROV_USERNAME: 'bob',
      CHARTPROV_PASSWORD: 'bobs-password',
    };
    const { stdout } = await execFileP(launcherPath, ['versions', `oci://${reg.host}/basic/hello-world`], { env });
    assert.equal(stdout.trim(), '0.1.0');
  });

  it('--insecure-skip-tls-verify talks to the registry without its CA', async () => {
    const r = await runCli(
      ['versions', `oci://${reg.host}/basic/hello-world`, '--insecure-skip-tls-verify', '--registry-config', configPath()],
      {
        env: { CHARTPROV_USERNAME: 'bob', CHARTPROV_PASSWORD: 'bobs-password' },
      },
    );
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('bearer tokens from a token service (auth.token)', () => {
  let tokens: TokenServer;
  let reg: DockerRegistry;
  let work: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    tokens = await startTokenServer({
      users: { carol: PASSWORD, reader: 'reader-pw' },
      grants: (user, _name, actions) => (user === 'carol' ? actions : user === 'reader' ? actions.filter((a) => a === 'pull') : []),
    });
    reg = await startDockerRegistry({ auth: { token: tokens } });
    ({ dir: work, cleanup } = await tempDir());
  });
  after(async () => {
    await reg?.stop();
    await tokens?.stop();
    await cleanup?.();
  });

  it('logs in, pushes several charts with one token per scope, pulls and verifies', async () => {
    const config = join(work, 'carol.json');
    const login = await runCli(
      ['registry', 'login', reg.host, '-u', 'carol', '--password-stdin', '--plain-http', '--registry-config', config],
      {
        input: PASSWORD,
      },
    );
    assert.equal(login.code, 0, login.stderr);
    const before = tokens.requests.length;
    const push = await runCli([
      'push',
      goldens.helm3.chart,
      goldens.helm4.chart,
      `oci://${reg.host}/tok`,
      '--plain-http',
      '--registry-config',
      config,
    ]);
    // Both archives are hello-world 0.1.0: the second push of the same tag is a no-op overwrite.
    assert.equal(push.code, 0, push.stderr + push.stdout);
    assertNoSecret(push.stdout, push.stderr);
    const asked = tokens.requests.slice(before);
    assert.equal(asked.length, 1, `one token for the push scope (got ${asked.length}: ${asked.map((r) => r.scope).join(' | ')})`);
    const pull = await runCli([
      'pull',
      `oci://${reg.host}/tok/hello-world`,
      '--verify',
      '--keyring',
      pubring,
      '-d',
      work,
      '--plain-http',
      '--registry-config',
      config,
    ]);
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('anonymous: REGISTRY_LOGIN_REQUIRED; a reader pushing: REGISTRY_DENIED; a wrong password: REGISTRY_CREDENTIALS_REJECTED', async () => {
    const anon = await runCli([
      'pull',
      `oci://${reg.host}/tok/hello-world`,
      '-d',
      work,
      '--plain-http',
      '--registry-config',
      join(work, 'none.json'),
    ]);
    assert.match(anon.stderr, /^error\[REGISTRY_LOGIN_REQUIRED\]/m);
    const reader = { CHARTPROV_USERNAME: 'reader', CHARTPROV_PASSWORD: 'reader-pw' };
    const read = await runCli(['versions', `oci://${reg.host}/tok/hello-world`, '--plain-http'], { env: reader });
    assert.equal(read.code, 0, read.stderr);
    const write = await runCli(['push', goldens.helm4.chart, `oci://${reg.host}/tok2`, '--plain-http'], { env: reader });
    assert.equal(write.code, 1);
    assert.match(write.stderr, /REGISTRY_DENIED/);
    const wrong = await runCli(['versions', `oci://${reg.host}/tok/hello-world`, '--plain-http'], {
      env: { CHARTPROV_USERNAME: 'carol', CHARTPROV_PASSWORD: 'nope' },
    });
    assert.match(wrong.stderr, /^error\[REGISTRY_CREDENTIALS_REJECTED\]/m);
  });

  it('helm 4 pulls with the login chartprov saved (token auth)', async () => {
    const config = join(work, 'carol.json');
    const pulled = await runHelm(4, ['pull', `oci://${reg.host}/tok/hello-world`, '--plain-http', '--registry-config', config, '-d', work]);
    assert.equal(pulled.code, 0, pulled.stderr);
  });
});

describe('mutual TLS (--cert-file/--key-file)', () => {
  let reg: DockerRegistry;
  before(async () => {
    reg = await startDockerRegistry({ tls: { clientCa: true } });
  });
  after(() => reg?.stop());

  it('refuses without a client certificate and works with one', async () => {
    const without = await runCli(['versions', `oci://${reg.host}/x/y`, '--ca-file', reg.caFile!]);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /^error\[REGISTRY_(TLS|UNREACHABLE)\]/m);
    const push = await runCli([
      'push',
      goldens.helm4.chart,
      `oci://${reg.host}/mtls`,
      '--ca-file',
      reg.caFile!,
      '--cert-file',
      reg.clientCertFile!,
      '--key-file',
      reg.clientKeyFile!,
    ]);
    assert.equal(push.code, 0, push.stderr);
    const list = await runCli([
      'versions',
      `oci://${reg.host}/mtls/hello-world`,
      '--ca-file',
      reg.caFile!,
      '--cert-file',
      reg.clientCertFile!,
      '--key-file',
      reg.clientKeyFile!,
    ]);
    assert.equal(list.stdout.trim(), '0.1.0');
  });
});
