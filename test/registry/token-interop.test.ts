// The embedded registry's tokens are the standard Docker token format: the
// real distribution 2.8 registry (`docker-registry`), configured with
// `auth.token` pointing at our `/service/token` and trusting our
// `token.crt`, accepts them. chartprov's own CLI pushes and pulls (with
// --verify) a signed chart through it with the credentials of a user of the
// embedded registry, and the embedded registry's projects decide who may do
// what there too: an anonymous pull works for a public project only.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRegistry, type RunningRegistry } from '../../src/registry/server.js';
import { goldens, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import type { RunResult } from '../peers/helm.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';

const ADMIN_PASSWORD = 'Admin-Pass-1234';
const DEV_PASSWORD = 'Dev-Pass-5678';
const GUEST_PASSWORD = 'Guest-Pass-9012';

describe('distribution 2.8 trusts the embedded registry as its token service', () => {
  let reg: RunningRegistry;
  let dist: DockerRegistry;
  let work: string;
  let cleanup: () => Promise<void>;
  const dev = { CHARTPROV_USERNAME: 'dev', CHARTPROV_PASSWORD: DEV_PASSWORD };
  const guest = { CHARTPROV_USERNAME: 'guest', CHARTPROV_PASSWORD: GUEST_PASSWORD };

  /** The registry's log, for a failure message: distribution says at info level why it refused a token. */
  async function explain(r: RunResult | string): Promise<string> {
    const log = await dist.readLog().catch(() => '');
    const said = typeof r === 'string' ? r : `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    return `${said}\n--- docker-registry log (tail) ---\n${log.slice(-3000)}`;
  }

  before(async () => {
    ({ dir: work, cleanup } = await tempDir('chartprov-interop-'));
    reg = await startRegistry({ dataDir: join(work, 'data'), adminPassword: ADMIN_PASSWORD });
    const accounts = reg.access!.accounts;
    await accounts.createProject({ name: 'pub', public: true });
    await accounts.createProject({ name: 'priv' });
    await accounts.addUser({ name: 'dev', password: DEV_PASSWORD });
    await accounts.addUser({ name: 'guest', password: GUEST_PASSWORD });
    await accounts.setMember('pub', 'dev', 'developer');
    await accounts.setMember('priv', 'dev', 'developer');
    await accounts.setMember('priv', 'guest', 'guest');
    const { service, issuer } = reg.access!.settings;
    dist = await startDockerRegistry({
      auth: { token: { realm: `${reg.url}/service/token`, service, issuer, certFile: reg.tokenCertificateFile! } },
      logLevel: 'info',
    });
  });

  after(async () => {
    await dist?.stop();
    await reg?.close();
    await cleanup?.();
  });

  test('the challenge names our realm and service; our token opens /v2/', async () => {
    const challenge = await fetch(`${dist.url}/v2/`);
    await challenge.arrayBuffer();
    assert.equal(challenge.status, 401);
    assert.equal(
      challenge.headers.get('www-authenticate'),
      `Bearer realm="${reg.url}/service/token",service="${reg.access!.settings.service}"`,
    );
    const url = new URL(`${reg.url}/service/token`);
    url.searchParams.set('service', reg.access!.settings.service);
    url.searchParams.set('scope', 'repository:priv/hello-world:pull');
    const issued = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`dev:${DEV_PASSWORD}`).toString('base64')}` } });
    assert.equal(issued.status, 200);
    const { token } = (await issued.json()) as { token: string };
    const base = await fetch(`${dist.url}/v2/`, { headers: { Authorization: `Bearer ${token}` } });
    const body = await base.text();
    assert.equal(base.status, 200, await explain(`GET /v2/ with our token: ${base.status} ${body}`));
  });

  test('chartprov push with an embedded-registry user, pull back with --verify', async () => {
    for (const project of ['priv', 'pub']) {
      const push = await runCli(['push', goldens.helm4.chart, `oci://${dist.host}/${project}`, '--plain-http'], { env: dev });
      assert.equal(push.code, 0, await explain(push));
      assert.doesNotMatch(push.stdout + push.stderr, new RegExp(DEV_PASSWORD));
    }
    const dest = join(work, 'dev-pull');
    const pull = await runCli(verifiedPullArgs(`oci://${dist.host}/priv/hello-world`, dest, '--plain-http'), { env: dev });
    assert.equal(pull.code, 0, await explain(pull));
    assert.ok((await stat(join(dest, 'hello-world-0.1.0.tgz'))).size > 0);
    assert.ok((await stat(join(dest, 'hello-world-0.1.0.tgz.prov'))).size > 0);
  });

  test('anonymous: the public project pulls (and verifies), the private one does not', async () => {
    const none = ['--plain-http', '--registry-config', join(work, 'no-such-config.json')];
    const pubDest = join(work, 'anon-pub');
    const pub = await runCli(verifiedPullArgs(`oci://${dist.host}/pub/hello-world`, pubDest, ...none));
    assert.equal(pub.code, 0, await explain(pub));
    assert.ok((await stat(join(pubDest, 'hello-world-0.1.0.tgz'))).size > 0);
    const priv = await runCli(verifiedPullArgs(`oci://${dist.host}/priv/hello-world`, join(work, 'anon-priv'), ...none));
    assert.equal(priv.code, 1, priv.stderr);
    assert.match(priv.stderr, /^error\[REGISTRY_(LOGIN_REQUIRED|DENIED)\]/m);
  });

  test("the embedded registry's roles hold on distribution: a guest pulls but cannot push; a wrong password is rejected", async () => {
    const read = await runCli(['versions', `oci://${dist.host}/priv/hello-world`, '--plain-http'], { env: guest });
    assert.equal(read.code, 0, await explain(read));
    assert.equal(read.stdout.trim(), '0.1.0');
    const write = await runCli(['push', goldens.helm3.chart, `oci://${dist.host}/priv/guest-push`, '--plain-http'], { env: guest });
    assert.equal(write.code, 1, write.stdout);
    assert.match(write.stderr, /REGISTRY_DENIED/);
    const wrong = await runCli(['versions', `oci://${dist.host}/priv/hello-world`, '--plain-http'], {
      env: { CHARTPROV_USERNAME: 'dev', CHARTPROV_PASSWORD: 'Not-The-Pass-1' },
    });
    assert.match(wrong.stderr, /^error\[REGISTRY_CREDENTIALS_REJECTED\]/m);
  });
});
