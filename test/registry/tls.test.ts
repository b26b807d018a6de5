// The embedded registry over HTTPS with auth: chartprov and Helm 4 log in,
// push and pull --verify with only a CA file, as against a real Harbor; the
// token realm in the challenge is https too.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRegistry, type RunningRegistry } from '../../src/registry/server.js';
import { goldens, verifiedPullArgs } from '../peers/charts.js';
import { runCli } from '../peers/cli.js';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { issueServerCert, makeTestCa, type TestCa } from '../peers/tls.js';

const ADMIN = 'Tls-Admin-Passw0rd';
let work: string;
let cleanup: () => Promise<void>;
let ca: TestCa;
let reg: RunningRegistry;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-registry-tls-'));
  ca = await makeTestCa(join(work, 'ca'));
  const cert = await issueServerCert(ca, { hosts: ['127.0.0.1'] });
  reg = await startRegistry({ dataDir: join(work, 'data'), adminPassword: ADMIN, tls: { cert: cert.certPem, key: cert.keyPem } });
  await reg.access!.accounts.createProject({ name: 'helm-charts' });
  await reg.access!.accounts.addUser({ name: 'dev', password: 'Developer-1' });
  await reg.access!.accounts.setMember('helm-charts', 'dev', 'developer');
});

after(async () => {
  await reg?.close();
  await cleanup?.();
});

describe('embedded registry over TLS', () => {
  test('the challenge names an https realm; an unknown CA is refused with a hint', async () => {
    assert.match(reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const noCa = await runCli(['versions', `oci://${reg.host}/helm-charts/hello-world`]);
    assert.notEqual(noCa.code, 0);
    assert.match(noCa.stderr, /REGISTRY_TLS/);
    assert.match(noCa.stderr, /--ca-file/);
  });

  test('chartprov login, push, pull --verify; Helm 4 login and pull --verify', async () => {
    const config = join(work, 'registry.json');
    const tls = ['--ca-file', ca.certFile, '--registry-config', config];
    const login = await runCli(['registry', 'login', reg.host, '-u', 'dev', '--password-stdin', ...tls], { input: 'Developer-1\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.doesNotMatch(await readFile(config, 'utf8'), /Developer-1/, 'stored base64-encoded as Helm does, never in clear');
    const push = await runCli(['push', goldens.helm4.chart, `oci://${reg.host}/helm-charts`, ...tls]);
    assert.equal(push.code, 0, push.stderr);
    const pulled = await runCli(verifiedPullArgs(`oci://${reg.host}/helm-charts/hello-world`, join(work, 'ours'), ...tls));
    assert.equal(pulled.code, 0, pulled.stderr);

    const helmConfig = join(work, 'helm-registry.json');
    const helmLogin = await runHelm(4, ['registry', 'login', reg.host, '-u', 'dev', '-p', 'Developer-1', '--ca-file', ca.certFile, '--registry-config', helmConfig]);
    assert.equal(helmLogin.code, 0, helmLogin.stderr);
    await mkdir(join(work, 'helm'));
    const helmPull = await runHelm(
      4,
      verifiedPullArgs(`oci://${reg.host}/helm-charts/hello-world`, join(work, 'helm'), '--ca-file', ca.certFile, '--registry-config', helmConfig),
    );
    assert.equal(helmPull.code, 0, helmPull.stderr);
  });
});
