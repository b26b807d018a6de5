// Smoke tests of the peer helpers themselves: if these fail, every registry
// test after them would fail for reasons that have nothing to do with chartprov.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch, type Dispatcher } from 'undici';
import { startDockerRegistry, type DockerRegistry } from './registry.js';
import { runSkopeo } from './skopeo.js';
import { startTokenServer, type TokenServer } from './token-server.js';

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Monolithic upload as the spec describes it: POST for a session, one PUT with the bytes and `digest`. */
async function putBlob(reg: DockerRegistry, repo: string, data: Buffer, headers: Record<string, string>, dispatcher?: Dispatcher) {
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers, dispatcher });
  assert.equal(start.status, 202, await start.text());
  const location = new URL(start.headers.get('location')!, reg.url);
  location.searchParams.set('digest', sha256(data));
  const put = await fetch(location, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: data,
    dispatcher,
  });
  assert.equal(put.status, 201, await put.text());
  return sha256(data);
}

/** The smallest image skopeo will list: an empty config and no layers. */
async function pushImage(reg: DockerRegistry, repo: string, tag: string, headers: Record<string, string>, dispatcher?: Dispatcher) {
  const config = Buffer.from('{}');
  const configDigest = await putBlob(reg, repo, config, headers, dispatcher);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [],
  });
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
    dispatcher,
  });
  assert.equal(res.status, 201, await res.text());
}

describe('plain registry', () => {
  let reg: DockerRegistry;
  before(async () => {
    reg = await startDockerRegistry({ deleteEnabled: true });
  });
  after(() => reg?.stop());

  it('answers /v2/ on loopback and round-trips a blob', async () => {
    assert.match(reg.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(reg.host, `127.0.0.1:${reg.port}`);
    const ping = await fetch(`${reg.url}/v2/`);
    assert.equal(ping.status, 200);
    assert.equal(ping.headers.get('docker-distribution-api-version'), 'registry/2.0');

    const data = Buffer.from(`hello ${Date.now()}`);
    const digest = await putBlob(reg, 'smoke/plain', data, {});
    const got = await fetch(`${reg.url}/v2/smoke/plain/blobs/${digest}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('docker-content-digest'), digest);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), data);
  });

  it('stop() is idempotent and frees the port', async () => {
    const other = await startDockerRegistry();
    await other.stop();
    await other.stop();
    await assert.rejects(fetch(`${other.url}/v2/`));
  });
});

describe('htpasswd + TLS registry', () => {
  let reg: DockerRegistry;
  let agent: Agent;
  before(async () => {
    reg = await startDockerRegistry({ tls: true, auth: { htpasswd: { alice: 's3cret' } } });
    agent = new Agent({ connect: reg.tlsConnect! });
  });
  after(async () => {
    await agent?.close();
    await reg?.stop();
  });

  it('challenges with Basic and accepts the right password over HTTPS', async () => {
    assert.match(reg.url, /^https:\/\//);
    const anon = await fetch(`${reg.url}/v2/`, { dispatcher: agent });
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const wrong = await fetch(`${reg.url}/v2/`, { dispatcher: agent, headers: { authorization: basic('alice', 'nope') } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${reg.url}/v2/`, { dispatcher: agent, headers: { authorization: basic('alice', 's3cret') } });
    assert.equal(ok.status, 200);
  });

  it('is untrusted without the test CA', async () => {
    await assert.rejects(fetch(`${reg.url}/v2/`), (err: Error & { cause?: { code?: string } }) => {
      assert.match(err.cause?.code ?? '', /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
      return true;
    });
  });

  it('skopeo reaches it with certsDir and --creds', async () => {
    const auth = { authorization: basic('alice', 's3cret') };
    await pushImage(reg, 'smoke/tls', 'v1', auth, agent);
    const r = await runSkopeo(['list-tags', '--cert-dir', reg.certsDir!, '--creds', 'alice:s3cret', `docker://${reg.host}/smoke/tls`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).Tags, ['v1']);
  });
});

describe('mutual-TLS registry', () => {
  let reg: DockerRegistry;
  before(async () => {
    reg = await startDockerRegistry({ tls: { clientCa: true } });
  });
  after(() => reg?.stop());

  it('requires the client certificate', async () => {
    assert.ok(reg.clientCertFile && reg.clientKeyFile);
    const withCert = new Agent({ connect: reg.tlsConnect! });
    const withoutCert = new Agent({ connect: { ca: reg.caCert! } });
    try {
      assert.equal((await fetch(`${reg.url}/v2/`, { dispatcher: withCert })).status, 200);
      await assert.rejects(fetch(`${reg.url}/v2/`, { dispatcher: withoutCert }));
    } finally {
      await withCert.close();
      await withoutCert.close();
    }
  });
});

describe('token-auth registry', () => {
  let tokens: TokenServer;
  let reg: DockerRegistry;
  before(async () => {
    tokens = await startTokenServer({
      users: { bob: 'hunter2' },
      // Anonymous pulls of public/* only, like a public project.
      grants: (user, name, actions) => (user ? actions : name.startsWith('public/') ? actions.filter((a) => a === 'pull') : []),
    });
    reg = await startDockerRegistry({ auth: { token: tokens } });
  });
  after(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  it('challenges with Bearer realm and service', async () => {
    const res = await fetch(`${reg.url}/v2/smoke/token/tags/list`);
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`realm="${tokens.realm}"`), challenge);
    assert.ok(challenge.includes(`service="${tokens.service}"`), challenge);
    assert.ok(challenge.includes('scope="repository:smoke/token:pull"'), challenge);
  });

  it('accepts a token from the realm and records the request', async () => {
    const before = tokens.requests.length;
    const q = new URLSearchParams({ service: tokens.service, scope: 'repository:smoke/token:pull,push' });
    const tr = await fetch(`${tokens.realm}?${q}`, { headers: { authorization: basic('bob', 'hunter2') } });
    assert.equal(tr.status, 200);
    const { token, access_token } = (await tr.json()) as { token: string; access_token: string };
    assert.equal(token, access_token);
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: bearer })).status, 200);
    await putBlob(reg, 'smoke/token', Buffer.from('via token'), bearer);
    assert.deepEqual(tokens.requests.slice(before), [
      { method: 'GET', scope: 'repository:smoke/token:pull,push', user: 'bob', status: 200 },
    ]);
  });

  it('refuses a wrong password, and gives anonymous users only what grants allow', async () => {
    const q = (scope: string) => `${tokens.realm}?${new URLSearchParams({ service: tokens.service, scope })}`;
    assert.equal((await fetch(q('repository:x:pull'), { headers: { authorization: basic('bob', 'no') } })).status, 401);

    const anon = (await (await fetch(q('repository:public/x:pull,push'))).json()) as { token: string };
    const claims = JSON.parse(Buffer.from(anon.token.split('.')[1]!, 'base64url').toString()) as { access: unknown; aud: unknown };
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'public/x', actions: ['pull'] }]);
    assert.equal(claims.aud, tokens.service);
    const push = await fetch(`${reg.url}/v2/public/x/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${anon.token}` },
    });
    assert.equal(push.status, 401);
    assert.match(push.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  it('speaks the OAuth2 form: password grant with a refresh token, then refresh_token grant', async () => {
    const post = (form: Record<string, string>) =>
      fetch(tokens.realm, { method: 'POST', body: new URLSearchParams({ service: tokens.service, client_id: 'chartprov-test', ...form }) });
    const first = await post({
      grant_type: 'password',
      username: 'bob',
      password: 'hunter2',
      access_type: 'offline',
      scope: 'repository:smoke/token:pull',
    });
    assert.equal(first.status, 200);
    const { access_token, refresh_token } = (await first.json()) as { access_token: string; refresh_token?: string };
    assert.ok(refresh_token);
    assert.equal(
      (await fetch(`${reg.url}/v2/smoke/token/tags/list`, { headers: { authorization: `Bearer ${access_token}` } })).status,
      404,
    );

    const again = await post({ grant_type: 'refresh_token', refresh_token, scope: 'repository:smoke/token:pull' });
    assert.equal(again.status, 200);
    assert.ok(((await again.json()) as { access_token?: string }).access_token);
    assert.equal((await post({ grant_type: 'password', username: 'bob', password: 'no' })).status, 401);
  });

  it('the registry rejects an expired token (beyond its 60 s leeway)', async () => {
    const token = tokens.mintToken({
      user: 'bob',
      access: [{ type: 'repository', name: 'smoke/token', actions: ['pull'] }],
      ttlSeconds: -120,
    });
    const res = await fetch(`${reg.url}/v2/smoke/token/tags/list`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });
});

describe('skopeo', () => {
  it('runs', async () => {
    const r = await runSkopeo(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^skopeo version \d+\.\d+/);
  });
});
