// The embedded registry's access model, proved with real HTTP: every principal
// × {pull, push, delete} × {public, private, another private, missing
// project}, once through the token flow exactly as a client runs it
// (request → 401 challenge → token from the realm → retry with Bearer) and
// once with Basic credentials on the /v2 requests themselves. Expectations
// are Harbor's rules, written out here independently of src/registry. Then
// the token checks (expiry, foreign keys, alg none/HS256, aud/iss, scope per
// repository, membership removal), the login rate limit and the catalog.
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { digestOf } from '../../src/oci/digest.js';
import { OCI_MANIFEST } from '../../src/oci/helm-media.js';
import type { RegistryAction } from '../../src/registry/auth/model.js';
import { startRegistry, type RunningRegistry } from '../../src/registry/server.js';
import { recordFigure } from '../peers/figures.js';
import { tempDir } from '../peers/tmp.js';

const ADMIN_PASSWORD = 'Admin-Pass-1234';
const USER_PASSWORD = 'User-Pass-5678';
const WINDOW_MS = 5000;
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
const CONFIG_TYPE = 'application/vnd.chartprov.test.config.v1+json';

type Op = RegistryAction;
type Mode = 'token' | 'basic';
type Outcome = 'allowed' | 'refused' | { unexpected: string };

const OPS: readonly Op[] = ['pull', 'push', 'delete'];
const PROJECTS = ['pub', 'priv', 'other', 'nope'] as const;
type Project = (typeof PROJECTS)[number];
const MODES: readonly Mode[] = ['token', 'basic'];

interface Principal {
  name: string;
  /** Undefined for anonymous. */
  credentials?: { user: string; password: string };
}

/** Harbor's rules, independent of the code under test. */
const PRIV_ROLES: Record<string, readonly Op[]> = {
  projectAdmin: ['pull', 'push', 'delete'],
  maintainer: ['pull', 'push', 'delete'],
  developer: ['pull', 'push'],
  guest: ['pull'],
  robot$ci: ['pull', 'push'],
  robot$reader: ['pull'],
};

function expected(principal: string, project: Project, op: Op): boolean {
  if (project === 'nope') return false; // nothing exists outside a project, not even for admins
  if (principal === 'admin') return true;
  if (project === 'pub' && op === 'pull') return true; // public: everyone, anonymous too
  if (project === 'priv') return PRIV_ROLES[principal]?.includes(op) ?? false;
  return false;
}

const basicHeader = (c: { user: string; password: string }) => `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;

interface Res {
  status: number;
  headers: Headers;
  code?: string;
  text: string;
}

async function send(
  url: string | URL,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Res> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, headers: res.headers, text, ...(code ? { code } : {}) };
}

/** `Bearer realm="…",service="…",scope="…"` → its parameters. */
function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([A-Za-z_]+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return { scheme, params };
}

/** How the registry refused (or not): refusals are 401/403, or 404 NAME_UNKNOWN for a missing project. */
function classify(r: Res, ok: number): Outcome {
  if (r.status === ok) return 'allowed';
  if (r.status === 401 || r.status === 403) return 'refused';
  if (r.status === 404 && r.code === 'NAME_UNKNOWN') return 'refused';
  return { unexpected: `${r.status} ${r.code ?? ''} ${r.text.slice(0, 200)}` };
}

/**
 * A registry client for one principal, doing what docker/oras/chartprov do:
 * in `token` mode each operation starts without credentials, answers a 401
 * Bearer challenge with a token for the challenged scope (cached per scope,
 * as clients cache them) and repeats the request; in `basic` mode every
 * request carries the Basic header.
 */
class Client {
  readonly tokens = new Map<string, string>();
  tokenRequests = 0;
  /** Token of the operation in progress (its later requests reuse it). */
  private bearer: string | undefined;
  /** Realm and service from a challenge, for when a request needs none (a public pull). */
  realm?: { realm: string; service: string };

  constructor(
    readonly base: string,
    readonly principal: Principal,
    readonly mode: Mode,
  ) {}

  startOperation(): void {
    this.bearer = undefined;
  }

  async token(realm: string, service: string, scope: string): Promise<string> {
    const key = `${service} ${scope}`;
    const cached = this.tokens.get(key);
    if (cached) return cached;
    const url = new URL(realm);
    url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    this.tokenRequests++;
    const c = this.principal.credentials;
    const r = await send(url, { headers: c ? { Authorization: basicHeader(c) } : {} });
    assert.equal(r.status, 200, `token for ${this.principal.name} (${scope}): ${r.status} ${r.text}`);
    const token = (JSON.parse(r.text) as { token: string }).token;
    this.tokens.set(key, token);
    return token;
  }

  async request(
    path: string | URL,
    init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
  ): Promise<Res> {
    const url = new URL(path, this.base);
    const headers = { ...init.headers };
    if (this.mode === 'basic') {
      const c = this.principal.credentials;
      return send(url, { ...init, headers: c ? { ...headers, Authorization: basicHeader(c) } : headers });
    }
    if (this.bearer) return send(url, { ...init, headers: { ...headers, Authorization: `Bearer ${this.bearer}` } });
    const first = await send(url, { ...init, headers });
    let challenge = parseChallenge(first.headers.get('www-authenticate'));
    if (first.status !== 401) {
      // A public pull needs no token; a client holding credentials (docker) still uses its own:
      // take realm and service from /v2/ and the scope the client would ask for.
      if (!this.principal.credentials || init.method !== undefined) return first;
      const repo = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url.pathname)?.[1];
      if (!repo) return first;
      challenge = { scheme: 'bearer', params: { ...(await this.baseChallenge()), scope: `repository:${repo}:pull` } };
    }
    assert.equal(challenge?.scheme, 'bearer', `a 401 of ${url.pathname} carries a Bearer challenge`);
    const { realm, service, scope } = challenge!.params;
    assert.ok(realm && service && scope, `challenge names realm, service and scope: ${first.headers.get('www-authenticate')}`);
    this.bearer = await this.token(realm, service, scope);
    return send(url, { ...init, headers: { ...headers, Authorization: `Bearer ${this.bearer}` } });
  }

  private async baseChallenge(): Promise<{ realm: string; service: string }> {
    if (!this.realm) {
      const r = await send(new URL('/v2/', this.base));
      const params = parseChallenge(r.headers.get('www-authenticate'))!.params;
      this.realm = { realm: params.realm!, service: params.service! };
    }
    return this.realm;
  }
}

const CONFIG = Buffer.from(JSON.stringify({ kind: 'chartprov-auth-matrix' }));

/** A small OCI artifact: the shared config, the layer of `blobsOf`, an annotation unique to `id`. */
function artifact(id: string, blobsOf = id) {
  const config = CONFIG;
  const layer = Buffer.from(`layer of ${blobsOf}\n`);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: CONFIG_TYPE, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/octet-stream', digest: digestOf(layer), size: layer.length }],
      annotations: { 'org.example.cell': id },
    }),
  );
  return { config, layer, manifest, digest: digestOf(manifest) };
}

/**
 * Blob upload POST + PUT (the layer; the config too with `withConfig`, else
 * it must be in the repository already), then the manifest PUT; the first
 * refusal ends it.
 */
async function push(c: Client, repo: string, tag: string, id: string, withConfig = false): Promise<Outcome> {
  const a = artifact(id);
  let first = true;
  for (const blob of withConfig ? [a.config, a.layer] : [a.layer]) {
    const start = await c.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const started = classify(start, 202);
    if (started !== 'allowed') return first ? started : { unexpected: `second upload refused after the first: ${start.status}` };
    first = false;
    const location = new URL(start.headers.get('location')!, c.base);
    location.searchParams.set('digest', digestOf(blob));
    const put = await c.request(location, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: blob });
    if (put.status !== 201) return { unexpected: `upload PUT after an accepted POST: ${put.status} ${put.text}` };
  }
  const m = await c.request(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: a.manifest });
  const done = classify(m, 201);
  return done === 'allowed' ? done : { unexpected: `manifest PUT after accepted uploads: ${m.status} ${m.text}` };
}

async function pull(c: Client, repo: string): Promise<Outcome> {
  const r = await c.request(`/v2/${repo}/manifests/v1`, { headers: { Accept: ACCEPT } });
  const out = classify(r, 200);
  if (out === 'allowed' && !r.text.includes('"base"')) return { unexpected: 'pulled a manifest that is not the pre-pushed one' };
  return out;
}

async function del(c: Client, repo: string, digest: string): Promise<Outcome> {
  return classify(await c.request(`/v2/${repo}/manifests/${digest}`, { method: 'DELETE' }), 202);
}

describe('embedded registry: access matrix and token checks', () => {
  let reg: RunningRegistry;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const principals: Principal[] = [];
  const admin = { user: 'admin', password: ADMIN_PASSWORD };
  const asAdmin = { Authorization: basicHeader(admin) };
  /** Digests of the artifacts each delete cell targets. */
  const deleteTargets = new Map<string, string>();
  const deleteId = (p: string, project: Project, mode: Mode) => `del-${p}-${project}-${mode}`.replace('$', '-');
  const pushTag = (p: string, mode: Mode) => `push-${p}-${mode}`.replace('$', '-');

  /** Pushes an artifact as admin with Basic; returns its digest. */
  async function adminPush(repo: string, tag: string, id: string): Promise<string> {
    const c = new Client(reg.url, { name: 'admin', credentials: admin }, 'basic');
    const out = await push(c, repo, tag, id, true);
    assert.equal(out, 'allowed', `pre-push ${repo}:${tag}: ${JSON.stringify(out)}`);
    return artifact(id).digest;
  }

  /** Only a manifest PUT as admin, reusing the blobs of `base` (storage fsyncs every write: keep them few). */
  async function adminPutManifest(repo: string, tag: string, id: string): Promise<string> {
    const a = artifact(id, 'base');
    const r = await send(`${reg.url}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      headers: { ...asAdmin, 'Content-Type': OCI_MANIFEST },
      body: a.manifest,
    });
    assert.equal(r.status, 201, r.text);
    return a.digest;
  }

  let setupMs = 0;

  before(async () => {
    const started = Date.now();
    ({ dir: dataDir, cleanup } = await tempDir('chartprov-authmatrix-'));
    reg = await startRegistry({
      dataDir: join(dataDir, 'data'),
      adminPassword: ADMIN_PASSWORD,
      loginLimits: { windowMs: WINDOW_MS, perAccount: 10, perAddress: 1000 },
    });
    const accounts = reg.access!.accounts;
    await accounts.createProject({ name: 'pub', public: true });
    await accounts.createProject({ name: 'priv' });
    await accounts.createProject({ name: 'other' });
    const roles = ['guest', 'developer', 'maintainer', 'projectAdmin'] as const;
    await Promise.all([...roles, 'outsider', 'leaver', 'victim'].map((name) => accounts.addUser({ name, password: USER_PASSWORD })));
    for (const role of roles) await accounts.setMember('priv', role, role);
    await accounts.setMember('priv', 'leaver', 'developer');
    const ci = await accounts.createRobot({ name: 'ci', permissions: [{ project: 'priv', actions: ['pull', 'push'] }] });
    const reader = await accounts.createRobot({ name: 'reader', permissions: [{ project: 'priv', actions: ['pull'] }] });
    principals.push(
      { name: 'admin', credentials: admin },
      ...[...roles, 'outsider'].map((name) => ({ name, credentials: { user: name, password: USER_PASSWORD } })),
      { name: 'robot$ci', credentials: { user: ci.robot.name, password: ci.secret } },
      { name: 'robot$reader', credentials: { user: reader.robot.name, password: reader.secret } },
      { name: 'anonymous' },
    );
    await Promise.all(
      (['pub', 'priv', 'other'] as const).map(async (project) => {
        await adminPush(`${project}/app`, 'v1', 'base');
        await Promise.all(
          principals.flatMap((p) =>
            MODES.map(async (mode) => {
              const id = deleteId(p.name, project, mode);
              deleteTargets.set(id, await adminPutManifest(`${project}/app`, id, id));
            }),
          ),
        );
      }),
    );
    await adminPush('priv/second', 'v1', 'base');
    setupMs = Date.now() - started;
  });

  after(async () => {
    await reg?.close();
    await cleanup?.();
  });

  test('every principal × operation × project, through the token flow and with Basic', async (t) => {
    const matrixStarted = Date.now();
    const rows: string[] = [];
    const wrong: string[] = [];
    const results = new Map<string, Outcome>();
    let tokenRequests = 0;
    let operations = 0;
    // One client per principal and mode, the principals side by side (their cells touch different tags and digests).
    const rowOf = async (p: Principal): Promise<string> => {
      const cells: Record<Mode, string[]> = { token: [], basic: [] };
      for (const mode of MODES) {
        const c = new Client(reg.url, p, mode);
        for (const project of PROJECTS) {
          let cell = '';
          for (const op of OPS) {
            c.startOperation();
            const repo = `${project}/app`;
            const out =
              op === 'pull'
                ? await pull(c, repo)
                : op === 'push'
                  ? await push(c, repo, pushTag(p.name, mode), `pushed-${p.name}-${mode}`)
                  : await del(c, repo, deleteTargets.get(deleteId(p.name, project, mode)) ?? digestOf(`nothing-${p.name}-${mode}`));
            operations++;
            results.set(`${p.name} ${mode} ${project} ${op}`, out);
            const want = expected(p.name, project, op);
            const letter = { pull: 'P', push: 'U', delete: 'D' }[op];
            if (typeof out === 'object') {
              wrong.push(`${p.name} ${mode} ${op} ${project}: unexpected answer ${out.unexpected}`);
              cell += '?';
            } else if ((out === 'allowed') !== want) {
              wrong.push(`${p.name} ${mode} ${op} ${project}: ${out}, Harbor's rule says ${want ? 'allowed' : 'refused'}`);
              cell += '!';
            } else {
              cell += out === 'allowed' ? letter : '.';
            }
          }
          cells[mode].push(`${project.padEnd(5)} ${cell}`);
        }
        tokenRequests += c.tokenRequests;
      }
      const same = cells.token.join('|') === cells.basic.join('|');
      return `${p.name.padEnd(13)} ${cells.token.join('  ')}${same ? '   (token = basic)' : `   basic: ${cells.basic.join('  ')}`}`;
    };
    rows.push(...(await Promise.all(principals.map(rowOf))));
    t.diagnostic('access matrix: P=pull U=push D=delete allowed, . refused, ! wrong, ? unexpected status');
    for (const row of rows) t.diagnostic(row);
    t.diagnostic(`${operations} operations, ${tokenRequests} token requests; setup ${setupMs} ms, matrix ${Date.now() - matrixStarted} ms`);

    // Side effects agree with the answers: a refused push left no tag, a refused delete no hole.
    for (const p of principals)
      for (const mode of MODES)
        for (const project of ['pub', 'priv', 'other'] as const) {
          const pushed = await send(`${reg.url}/v2/${project}/app/manifests/${pushTag(p.name, mode)}`, {
            headers: { ...asAdmin, Accept: ACCEPT },
          });
          if ((pushed.status === 200) !== (results.get(`${p.name} ${mode} ${project} push`) === 'allowed'))
            wrong.push(`${p.name} ${mode} push ${project}: tag present=${pushed.status === 200} disagrees with the answer`);
          const digest = deleteTargets.get(deleteId(p.name, project, mode))!;
          const kept = await send(`${reg.url}/v2/${project}/app/manifests/${digest}`, { headers: { ...asAdmin, Accept: ACCEPT } });
          if ((kept.status === 404) !== (results.get(`${p.name} ${mode} ${project} delete`) === 'allowed'))
            wrong.push(`${p.name} ${mode} delete ${project}: manifest present=${kept.status === 200} disagrees with the answer`);
        }
    assert.deepEqual(wrong, [], `forbidden operations allowed / allowed operations refused:\n${wrong.join('\n')}`);
  });

  test('/v2/ without credentials: 401 with a Bearer challenge naming realm and service', async () => {
    const r = await send(`${reg.url}/v2/`);
    assert.equal(r.status, 401);
    const header = r.headers.get('www-authenticate')!;
    assert.match(header, /^Bearer realm="[^"]+",service="[^"]+"$/);
    const { params } = parseChallenge(header)!;
    assert.equal(params.realm, `${reg.url}/service/token`);
    assert.equal(params.service, reg.access!.settings.service);
    assert.equal((await send(`${reg.url}/v2/`, { headers: asAdmin })).status, 200);
  });

  test('a wrong password gets 401 from /service/token (GET with Basic and POST password grant)', async () => {
    const url = `${reg.url}/service/token?service=${reg.access!.settings.service}&scope=repository:priv/app:pull`;
    const get = await send(url, { headers: { Authorization: basicHeader({ user: 'developer', password: 'Wrong-Pass-1' }) } });
    assert.equal(get.status, 401, get.text);
    assert.ok(!get.text.includes('"token"'));
    const post = await send(`${reg.url}/service/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'developer',
        password: 'Wrong-Pass-1',
        service: 'x',
        scope: 'repository:priv/app:pull',
      }).toString(),
    });
    assert.equal(post.status, 401, post.text);
    const unknown = await send(url, { headers: { Authorization: basicHeader({ user: 'nobody-here', password: USER_PASSWORD }) } });
    assert.equal(unknown.status, 401);
  });

  describe('tokens the registry must refuse', () => {
    let key: KeyObject;
    const pullPriv = [{ type: 'repository', name: 'priv/app', actions: ['pull'] }];
    const now = () => Math.floor(Date.now() / 1000);

    before(async () => {
      key = createPrivateKey(await readFile(join(dataDir, 'data', 'auth', 'token.key'), 'utf8'));
    });

    function mint(o: { key?: KeyObject; iss?: string; aud?: string; exp?: number; nbf?: number; iat?: number; access?: object[] } = {}) {
      const iat = o.iat ?? now();
      return new SignJWT({ access: o.access ?? pullPriv })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: reg.access!.signingKey.keyId })
        .setIssuer(o.iss ?? reg.access!.settings.issuer)
        .setSubject('developer')
        .setAudience(o.aud ?? reg.access!.settings.service)
        .setIssuedAt(iat)
        .setNotBefore(o.nbf ?? iat)
        .setExpirationTime(o.exp ?? iat + 300)
        .sign(o.key ?? key);
    }

    const pullWith = (token: string, repo = 'priv/app') =>
      send(`${reg.url}/v2/${repo}/manifests/v1`, { headers: { Authorization: `Bearer ${token}`, Accept: ACCEPT } });

    function assertRefused(r: Res, what: string): void {
      assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm=/, what);
      recordFigure({
        area: 'inputs',
        item: `forged or misused token (${what}) → embedded registry`,
        tried: 1,
        outcome: '401 with a Bearer challenge',
        lost: 0,
      });
    }

    test('control: a token minted here with the registry key and right claims is accepted', async () => {
      assert.equal((await pullWith(await mint())).status, 200);
    });

    test('expired more than the 60 s leeway ago', async () => {
      assertRefused(await pullWith(await mint({ iat: now() - 1000, exp: now() - 90 })), 'expired token');
    });

    test('not valid before a time more than 60 s ahead', async () => {
      assertRefused(await pullWith(await mint({ nbf: now() + 600, exp: now() + 900 })), 'future nbf');
    });

    test('signed by another key (same kid)', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      assertRefused(await pullWith(await mint({ key: other })), 'foreign key');
    });

    test('alg none, and HS256 keyed with the public key (algorithm confusion)', async () => {
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const claims = {
        iss: reg.access!.settings.issuer,
        sub: 'developer',
        aud: reg.access!.settings.service,
        iat: now(),
        nbf: now(),
        exp: now() + 300,
        access: pullPriv,
      };
      for (const [unsigned, what] of [
        [`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'alg none'],
        [`${b64({ alg: 'none', typ: 'JWT', kid: reg.access!.signingKey.keyId })}.${b64(claims)}.`, 'alg none with the registry kid'],
      ] as const)
        assertRefused(await pullWith(unsigned), what);
      const publicPem = reg.access!.signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const hs = await new SignJWT(claims as unknown as Record<string, unknown>)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(publicPem));
      assertRefused(await pullWith(hs), 'HS256 with the public key');
    });

    test('wrong aud, wrong iss', async () => {
      assertRefused(await pullWith(await mint({ aud: 'harbor-registry' })), 'wrong aud');
      assertRefused(await pullWith(await mint({ iss: 'someone-else' })), 'wrong iss');
    });

    test('a token for repository A does not open repository B, nor push on A', async () => {
      const c = new Client(reg.url, { name: 'developer', credentials: { user: 'developer', password: USER_PASSWORD } }, 'token');
      const realm = `${reg.url}/service/token`;
      const service = reg.access!.settings.service;
      const forApp = await c.token(realm, service, 'repository:priv/app:pull');
      assert.equal((await pullWith(forApp)).status, 200);
      const onB = await pullWith(forApp, 'priv/second');
      assertRefused(onB, 'token of priv/app on priv/second');
      assert.match(onB.headers.get('www-authenticate')!, /scope="repository:priv\/second:pull",error="insufficient_scope"/);
      const pushA = await send(`${reg.url}/v2/priv/app/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${forApp}` } });
      assertRefused(pushA, 'pull token used to push');
      // and the registry's own answer for B with a proper token is 200: the refusal was about the scope
      assert.equal((await pullWith(await c.token(realm, service, 'repository:priv/second:pull'), 'priv/second')).status, 200);
    });
  });

  test('a user removed from the project loses access at once, with Basic and with a token issued before', async () => {
    const creds = { user: 'leaver', password: USER_PASSWORD };
    const tokenUrl = `${reg.url}/service/token?service=${reg.access!.settings.service}&scope=repository:priv/app:pull,push`;
    const tokenOf = async () => {
      const r = await send(tokenUrl, { headers: { Authorization: basicHeader(creds) } });
      assert.equal(r.status, 200);
      return JSON.parse(r.text) as { token: string };
    };
    const pullWith = (auth: string) => send(`${reg.url}/v2/priv/app/manifests/v1`, { headers: { Authorization: auth, Accept: ACCEPT } });
    const before = (await tokenOf()).token;
    assert.equal((await pullWith(`Bearer ${before}`)).status, 200);
    assert.equal((await pullWith(basicHeader(creds))).status, 200);
    await reg.access!.accounts.setMember('priv', 'leaver', undefined);
    const afterToken = (await tokenOf()).token;
    const payload = JSON.parse(Buffer.from(afterToken.split('.')[1]!, 'base64url').toString()) as { access: unknown[] };
    assert.deepEqual(payload.access, [], 'the new token grants nothing');
    assert.equal((await pullWith(`Bearer ${afterToken}`)).status, 401);
    assert.equal((await pullWith(basicHeader(creds))).status, 403);
    // Stricter than Harbor: the accounts are checked again on every request, so an old token stops at once.
    assert.equal((await pullWith(`Bearer ${before}`)).status, 401, 'a token issued before the removal');
  });

  test('12 wrong passwords: 429 with Retry-After, the right one refused while blocked, accepted after', async () => {
    const tokenUrl = `${reg.url}/service/token?service=${reg.access!.settings.service}&scope=repository:pub/app:pull`;
    const started = Date.now();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await send(tokenUrl, { headers: { Authorization: basicHeader({ user: 'victim', password: `Wrong-Pass-${i}` }) } });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    assert.ok(Date.now() - started < WINDOW_MS, 'the attempts fit in the window (else the test proves nothing)');
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    assert.match(retryAfter ?? '', /^[1-9]\d*$/);
    assert.ok(Number(retryAfter) <= Math.ceil(WINDOW_MS / 1000));
    const right = { user: 'victim', password: USER_PASSWORD };
    const blocked = await send(tokenUrl, { headers: { Authorization: basicHeader(right) } });
    assert.equal(blocked.status, 429, 'the right password is refused while blocked');
    assert.ok(!blocked.text.includes('"token"'));
    const blockedBasic = await send(`${reg.url}/v2/pub/app/manifests/v1`, {
      headers: { Authorization: basicHeader(right), Accept: ACCEPT },
    });
    assert.equal(blockedBasic.status, 429, 'Basic on /v2 is blocked too');
    assert.match(blockedBasic.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    // other accounts are not affected
    assert.equal(
      (await send(tokenUrl, { headers: { Authorization: basicHeader({ user: 'guest', password: USER_PASSWORD }) } })).status,
      200,
    );
    await new Promise((r) => setTimeout(r, Number(retryAfter) * 1000 + 100));
    assert.equal((await send(tokenUrl, { headers: { Authorization: basicHeader(right) } })).status, 200, 'accepted once the window passed');
  });

  test('/v2/_catalog is for the system admin only', async () => {
    const realm = `${reg.url}/service/token`;
    const service = reg.access!.settings.service;
    const anon = await send(`${reg.url}/v2/_catalog`);
    assert.equal(anon.status, 401);
    const scope = parseChallenge(anon.headers.get('www-authenticate'))!.params.scope;
    assert.equal(scope, 'registry:catalog:*');
    const seen: Record<string, number> = {};
    for (const p of principals) {
      if (!p.credentials) continue;
      const c = new Client(reg.url, p, 'token');
      const token = await c.token(realm, service, scope!);
      const viaToken = await send(`${reg.url}/v2/_catalog`, { headers: { Authorization: `Bearer ${token}` } });
      const viaBasic = await send(`${reg.url}/v2/_catalog`, { headers: { Authorization: basicHeader(p.credentials) } });
      seen[p.name] = viaToken.status;
      if (p.name === 'admin') {
        assert.equal(viaToken.status, 200, viaToken.text);
        assert.equal(viaBasic.status, 200);
        assert.ok((JSON.parse(viaToken.text) as { repositories: string[] }).repositories.includes('priv/app'));
      } else {
        assert.ok(viaToken.status === 401 || viaToken.status === 403, `${p.name} token: ${viaToken.status}`);
        assert.ok(viaBasic.status === 401 || viaBasic.status === 403, `${p.name} basic: ${viaBasic.status}`);
      }
    }
    const anonToken = await new Client(reg.url, { name: 'anonymous' }, 'token').token(realm, service, scope!);
    assert.equal((await send(`${reg.url}/v2/_catalog`, { headers: { Authorization: `Bearer ${anonToken}` } })).status, 401);
  });

  test('an anonymous token for a public project stops working when the project turns private', async () => {
    const accounts = reg.access!.accounts;
    await accounts.createProject({ name: 'flip', public: true });
    await adminPush('flip/app', 'v1', 'base');
    const c = new Client(reg.url, { name: 'anonymous' }, 'token');
    const token = await c.token(`${reg.url}/service/token`, reg.access!.settings.service, 'repository:flip/app:pull');
    const pullWith = () => send(`${reg.url}/v2/flip/app/manifests/v1`, { headers: { Authorization: `Bearer ${token}`, Accept: ACCEPT } });
    assert.equal((await pullWith()).status, 200);
    await accounts.setProjectPublic('flip', false);
    assert.equal(
      (await send(`${reg.url}/v2/flip/app/manifests/v1`, { headers: { Accept: ACCEPT } })).status,
      401,
      'anonymous without token',
    );
    assert.equal((await pullWith()).status, 401, 'the anonymous token issued while flip was public');
  });
});
