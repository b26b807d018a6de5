// The web UI of the embedded registry over HTTP, without a browser: hostile
// chart text escaped everywhere, sessions that expire (on an injected
// clock), CSRF and Origin checks on every form, the registry's visibility
// rules (404, never 403, for what a user may not see), admin pages for
// admins only, accounts re-checked on every request, the login limiter, and
// the signature-status function on its own.
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadKeyring } from '../../src/keys/keyring.js';
import { attachProvenance } from '../../src/flows/attach-provenance.js';
import { generateKeysToDir } from '../../src/flows/keys.js';
import { packageChartFlow } from '../../src/flows/package-chart.js';
import { pushCharts } from '../../src/flows/push-charts.js';
import { signChartInRegistry } from '../../src/flows/sign-in-registry.js';
import { createSigner } from '../../src/flows/signer.js';
import { pushBlob } from '../../src/oci/blob-upload.js';
import { OCI_EMPTY_BYTES, OCI_INDEX, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE, provenanceArtifact } from '../../src/oci/provenance-artifact.js';
import { fallbackTag } from '../../src/oci/referrers.js';
import { createFilesystemStorage, type RegistryStorage } from '../../src/registry/storage/index.js';
import { ChartYamlCache, chartYamlOf } from '../../src/registry/ui/chart-yaml.js';
import { addressHost } from '../../src/registry/ui/context.js';
import { LoginCsrf, sameOrigin } from '../../src/registry/ui/csrf.js';
import { escapeHtml, html, raw, safeHref, uiPath } from '../../src/registry/ui/html.js';
import { SECURITY_HEADERS, safeRedirectTarget, securityHeaders } from '../../src/registry/ui/respond.js';
import { SessionStore } from '../../src/registry/ui/session.js';
import { NO_KEYRING, signatureCheckCount, storedChartSignatures } from '../../src/registry/ui/signatures.js';
import { goldens, helloWorldSource } from '../peers/charts.js';
import { startEmbedded, type Creds, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile } from '../peers/paths.js';
import { tempDir } from '../peers/tmp.js';
import { issueServerCert, makeTestCa } from '../peers/tls.js';

const XSS = `<script>globalThis.pwned=1</script><img src=x onerror="alert(1)">"'\`&`;

describe('html helper', () => {
  test('escapes every interpolated value, in text and attributes', () => {
    const out = html`<p title="${XSS}">${XSS}</p>`.value;
    assert.ok(!out.includes('<script>'), out);
    assert.ok(!out.includes('<img'), out);
    assert.equal(out.split('"').length - 1, 2, 'only the template’s own quotes remain');
    assert.ok(out.includes('&lt;script&gt;'));
    assert.ok(out.includes('&quot;') && out.includes('&#39;') && out.includes('&#96;') && out.includes('&amp;'));
  });

  test('nested html and raw pass through; lists are joined; nothing renders for null/false', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(
      html`<div>${inner}${raw('<hr />')}${[html`<x>${'&'}</x>`, '<y>']}${null}${undefined}${false}</div>`.value,
      '<div><b>&lt;i&gt;</b><hr /><x>&amp;</x>&lt;y&gt;</div>',
    );
    assert.equal(escapeHtml('a&b'), 'a&amp;b');
  });

  test('links go to UI paths only; segments are percent-encoded', () => {
    assert.equal(safeHref('javascript:alert(1)'), '#');
    assert.equal(safeHref(' javascript:alert(1)'), '#');
    assert.equal(safeHref('//evil.example/ui/'), '#');
    assert.equal(safeHref('https://evil.example/ui/'), '#');
    assert.equal(safeHref('/ui/projects/a'), '/ui/projects/a');
    assert.equal(uiPath('projects', 'a/b', 'javascript:x"<'), '/ui/projects/a%2Fb/javascript%3Ax%22%3C');
    assert.equal(
      html`<a href="${safeHref(uiPath('x', '"onmouseover="alert(1)'))}"></a>`.value,
      '<a href="/ui/x/%22onmouseover%3D%22alert(1)"></a>',
    );
  });
});

describe('session store', () => {
  const user = { name: 'alice', id: 7, passwordHash: '$2b$10$abc' };

  test('idle expiry, refreshed by use', () => {
    let now = 1_000_000;
    const store = new SessionStore({ idleMs: 30 * 60_000, absoluteMs: 8 * 3600_000, max: 100 }, () => now);
    const { id } = store.create(user);
    now += 29 * 60_000;
    assert.ok(store.get(id), 'used within the idle time');
    now += 29 * 60_000;
    assert.ok(store.get(id), 'the last use restarted the idle clock');
    now += 30 * 60_000;
    assert.equal(store.get(id), undefined, 'idle too long');
    assert.equal(store.size, 0, 'an expired session is forgotten');
  });

  test('absolute expiry, however active', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 30 * 60_000, absoluteMs: 8 * 3600_000, max: 100 }, () => now);
    const { id } = store.create(user);
    for (let i = 0; i < 16; i++) {
      now += 29 * 60_000;
      assert.ok(store.get(id), `still live after ${now / 60_000} min`);
    }
    now += 30 * 60_000;
    assert.equal(store.get(id), undefined);
  });

  test('bounded: the least recently used go first; ids are long and random', () => {
    const store = new SessionStore({ idleMs: 60_000, absoluteMs: 120_000, max: 3 }, () => 0);
    const ids = [1, 2, 3, 4].map(() => store.create(user).id);
    assert.equal(store.size, 3);
    assert.equal(store.get(ids[0]), undefined);
    assert.ok(ids.every((id) => /^[A-Za-z0-9_-]{43}$/.test(id)));
    assert.equal(new Set(ids).size, 4);
  });

  test('one account keeps at most 20 sessions: its logins end its own oldest, never other accounts’ sessions', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 60_000, absoluteMs: 120_000, max: 10_000 }, () => now);
    const bob = store.create({ name: 'bob', id: 8, passwordHash: '$2b$10$def' }).id;
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) {
      now++;
      ids.push(store.create(user).id);
    }
    assert.equal(store.size, 21, '20 of alice, 1 of bob');
    assert.ok(store.get(bob), 'bob is still signed in');
    assert.equal(store.get(ids[0]), undefined, 'alice’s oldest went first');
    assert.equal(store.get(ids[479]), undefined);
    assert.ok(
      ids.slice(480).every((id) => store.get(id)),
      'her 20 newest live',
    );
    const small = new SessionStore({ idleMs: 60_000, absoluteMs: 120_000, max: 100, maxPerAccount: 2 }, () => now);
    const a = small.create(user).id;
    now++;
    const b = small.create(user).id;
    now++;
    assert.ok(small.get(a), 'used last, but the oldest login');
    const c = small.create(user).id;
    assert.equal(small.get(a), undefined);
    assert.ok(small.get(b) && small.get(c));
  });
});

describe('form and redirect guards', () => {
  test('the login token carries its issue time under the HMAC; refused past an hour', () => {
    let now = 1_700_000_000_000;
    const csrf = new LoginCsrf(() => now);
    const nonce = csrf.nonce();
    const token = csrf.tokenFor(nonce);
    assert.match(token, /^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    assert.ok(csrf.check(nonce, token));
    assert.equal(csrf.check(csrf.nonce(), token), false, 'another nonce');
    const [issued, mac] = token.split('.') as [string, string];
    const later = (parseInt(issued, 36) + 3000).toString(36);
    assert.equal(csrf.check(nonce, `${later}.${mac}`), false, 'a moved issue time breaks the HMAC');
    now += 59 * 60_000;
    assert.ok(csrf.check(nonce, token), 'still good after 59 min');
    now += 2 * 60_000;
    assert.equal(csrf.check(nonce, token), false, 'expired after 61 min');
    assert.equal(csrf.check(nonce, undefined), false);
    assert.equal(csrf.check(undefined, token), false);
  });

  test('redirects go to our own paths only', () => {
    for (const ok of ['/ui/', '/ui/projects/a%2Fb', '/ui/login']) assert.equal(safeRedirectTarget(ok), ok);
    for (const bad of [
      '/\\evil.example',
      '//evil.example',
      '/\\/evil.example',
      'https://evil.example/',
      'evil',
      '/ui/ x',
      '/ui/\tx',
      '/ui/x\\y',
      '/ui/\nx',
      '',
    ])
      assert.equal(safeRedirectTarget(bad), '/ui/', JSON.stringify(bad));
  });

  test('sameOrigin: Origin first, else Referer', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    const own = ['http://127.0.0.1:5000'];
    assert.ok(sameOrigin(req({ origin: 'http://127.0.0.1:5000' }), own));
    assert.ok(sameOrigin(req({ referer: 'http://127.0.0.1:5000/ui/admin?x=1' }), own), 'the Referer of our own page');
    assert.equal(sameOrigin(req({ referer: 'http://evil.example/ui/admin' }), own), false);
    assert.equal(sameOrigin(req({ referer: 'http://127.0.0.1:5000.evil.example/' }), own), false);
    assert.equal(sameOrigin(req({ referer: 'not a url' }), own), false);
    assert.equal(sameOrigin(req({ origin: 'http://evil.example', referer: 'http://127.0.0.1:5000/ui/' }), own), false, 'Origin decides');
    assert.equal(sameOrigin(req({}), own), false);
  });

  test('Host values trusted on loopback: IP literals and localhost only', () => {
    for (const ok of ['127.0.0.1:5000', '127.0.0.1', '[::1]:5000', 'localhost:5000', 'LOCALHOST', '10.0.0.7:80'])
      assert.ok(addressHost(ok), ok);
    for (const bad of ['evil.example:5000', 'evil.example', '127.0.0.1.nip.io:5000', '[evil]:5000', 'localhost.evil.example', '::1'])
      assert.equal(addressHost(bad), false, bad);
  });

  test('HSTS only for https', () => {
    assert.equal(securityHeaders(false)['Strict-Transport-Security'], undefined);
    assert.equal(securityHeaders(true)['Strict-Transport-Security'], 'max-age=31536000');
    assert.equal(SECURITY_HEADERS['Strict-Transport-Security'], undefined);
  });
});

// ---- over HTTP

let reg: EmbeddedRegistry;
let work: string;
let cleanup: () => Promise<void>;
let now = Date.now();
const clock = () => now;

interface Browser {
  cookies: Map<string, string>;
}

function browser(): Browser {
  return { cookies: new Map() };
}

async function request(
  b: Browser,
  path: string,
  init: { method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (b.cookies.size > 0) headers.cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  let body: string | undefined;
  if (init.form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(init.form)) for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
    body = params.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(`${reg.url}${path}`, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    if (attrs.some((a) => a.trim() === 'Max-Age=0')) b.cookies.delete(name);
    else b.cookies.set(name, pair!.slice(eq + 1));
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function csrfOf(page: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  assert.ok(m, 'the page has a CSRF field');
  return m[1]!;
}

async function login(creds: Creds, b = browser()): Promise<Browser> {
  const form = await request(b, '/ui/login');
  const res = await request(b, '/ui/login', {
    form: { _csrf: csrfOf(form.text), username: creds.username, password: creds.password },
    headers: { origin: reg.url },
  });
  assert.equal(res.status, 303, res.text);
  assert.equal(res.headers.get('location'), '/ui/');
  return b;
}

/** A signed-in POST with the session's token, from our own origin unless told otherwise. */
async function post(
  b: Browser,
  path: string,
  form: Record<string, string | string[]>,
  opts: { origin?: string | null; csrf?: string } = {},
) {
  const token = opts.csrf ?? csrfOf((await request(b, '/ui/')).text);
  const headers: Record<string, string> = {};
  if (opts.origin !== null) headers.origin = opts.origin ?? reg.url;
  return request(b, path, { form: { _csrf: token, ...form }, headers });
}

let admin: Creds;
let alice: Creds;
let bob: Creds;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-ui-'));
  reg = await startEmbedded({
    ui: { keyring: keyFile('all-pubring.gpg'), clock },
    loginLimits: { windowMs: 60_000, perAccount: 3, perAddress: 1000 },
  });
  admin = reg.admin;
  await reg.addProject('secret');
  await reg.addProject('team');
  await reg.addProject('pub', { public: true });
  await reg.addProject('sigs');
  alice = await reg.addUser('alice', { roles: { team: 'developer' } });
  bob = await reg.addUser('bob', { roles: { team: 'projectAdmin' } });
  const push = (chart: string, project: string) =>
    pushCharts({
      charts: [chart],
      destination: `oci://${reg.host}/${project}`,
      plainHttp: true,
      clientOptions: { credential: { username: admin.username, password: admin.password } },
    });
  for (const project of ['secret', 'team']) assert.equal((await push(goldens.helm4.chart, project)).failed, 0);
  // A chart whose Chart.yaml carries markup in every field a page shows.
  const src = await helloWorldSource(work);
  const dir = join(work, 'xss-demo');
  await rename(src, dir);
  const yaml = (await readFile(join(dir, 'Chart.yaml'), 'utf8'))
    .replace(/^name: .*$/m, 'name: xss-demo')
    .replace(/^description: .*$/m, `description: ${JSON.stringify(XSS)}`);
  await writeFile(join(dir, 'Chart.yaml'), yaml);
  const pkg = await packageChartFlow({ chartDir: dir, destination: join(work, 'out') });
  assert.equal((await push(pkg.path, 'pub')).failed, 0);
});

after(async () => {
  await reg?.stop();
  await cleanup?.();
});

describe('web UI over HTTP', () => {
  test('/ redirects to /ui/, which sends strangers to the login form; strict security headers', async () => {
    const b = browser();
    const root = await request(b, '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    const home = await request(b, '/ui/');
    assert.equal(home.status, 303);
    assert.equal(home.headers.get('location'), '/ui/login');
    const form = await request(b, '/ui/login');
    assert.equal(form.status, 200);
    const csp = form.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(form.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(form.headers.get('referrer-policy'), 'same-origin');
    assert.ok(!/<script/i.test(form.text), 'no script at all');
    const css = /href="(\/ui\/assets\/[^"]+\.css)"/.exec(form.text)![1]!;
    const sheet = await request(b, css);
    assert.equal(sheet.status, 200);
    assert.match(sheet.headers.get('content-type')!, /^text\/css/);
  });

  test('login sets an HttpOnly SameSite=Lax session cookie; logout ends the session', async () => {
    const b = browser();
    const form = await request(b, '/ui/login');
    const res = await request(b, '/ui/login', {
      form: { _csrf: csrfOf(form.text), username: admin.username, password: admin.password },
      headers: { origin: reg.url },
    });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('chartprov_session='))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\/ui/);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP here');
    const sid = b.cookies.get('chartprov_session')!;
    assert.equal((await request(b, '/ui/')).status, 200);
    const out = await post(b, '/ui/logout', {});
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/ui/login');
    // The old id is dead on the server, not only forgotten by this browser.
    const replay = browser();
    replay.cookies.set('chartprov_session', sid);
    assert.equal((await request(replay, '/ui/')).status, 303);
  });

  test('wrong password: 401 and the form again, no session', async () => {
    const b = browser();
    const form = await request(b, '/ui/login');
    const res = await request(b, '/ui/login', {
      form: { _csrf: csrfOf(form.text), username: 'alice', password: 'Wrong-Passw0rd' },
      headers: { origin: reg.url },
    });
    assert.equal(res.status, 401);
    assert.match(res.text, /Invalid user name or password/);
    assert.ok(!b.cookies.has('chartprov_session'));
  });

  test('login form: CSRF token and Origin are checked', async () => {
    const b = browser();
    const form = await request(b, '/ui/login');
    const good = { username: admin.username, password: admin.password };
    const noToken = await request(b, '/ui/login', { form: good, headers: { origin: reg.url } });
    assert.equal(noToken.status, 403);
    const otherOrigin = await request(b, '/ui/login', {
      form: { ...good, _csrf: csrfOf(form.text) },
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(otherOrigin.status, 403);
    const noCookie = await request(browser(), '/ui/login', { form: { ...good, _csrf: csrfOf(form.text) }, headers: { origin: reg.url } });
    assert.equal(noCookie.status, 403, 'the token belongs to the nonce cookie');
  });

  test('signed-in forms: refused without the token, with a wrong one, from another origin or none', async () => {
    const b = await login(admin);
    const token = csrfOf((await request(b, '/ui/admin')).text);
    const cases: Array<[string, { origin?: string | null; csrf?: string }]> = [
      ['no token', { csrf: '' }],
      ['wrong token', { csrf: `${token.slice(0, -2)}xx` }],
      ['another origin', { origin: 'http://evil.example', csrf: token }],
      ['a null origin', { origin: 'null', csrf: token }],
      ['no Origin nor Referer', { origin: null, csrf: token }],
    ];
    for (const [what, opts] of cases) {
      const res = await post(b, '/ui/admin/projects', { name: 'csrf-made' }, opts);
      assert.equal(res.status, 403, what);
    }
    assert.equal(reg.registry.access!.accounts.getProject('csrf-made'), undefined, 'nothing was created');
    const ok = await post(b, '/ui/admin/projects', { name: 'csrf-made' }, { csrf: token });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/ui/projects/csrf-made');
    assert.ok(reg.registry.access!.accounts.getProject('csrf-made'));
    const shown = await request(b, '/ui/projects/csrf-made');
    assert.match(shown.text, /Project csrf-made created/);
    assert.doesNotMatch((await request(b, '/ui/projects/csrf-made')).text, /Project csrf-made created/, 'the message shows once');
  });

  test('a user sees public projects and their own; hidden things are 404 like missing ones', async () => {
    const b = await login(alice);
    const home = await request(b, '/ui/');
    assert.equal(home.status, 200);
    assert.match(home.text, /\/ui\/projects\/team/);
    assert.match(home.text, /\/ui\/projects\/pub/);
    assert.doesNotMatch(home.text, /secret/);
    const missing = await request(b, '/ui/projects/nonexistent');
    for (const path of [
      '/ui/projects/secret',
      '/ui/projects/secret/repositories/hello-world',
      '/ui/projects/secret/repositories/hello-world/versions/0.1.0',
      '/ui/projects/nonexistent/repositories/hello-world',
    ]) {
      const res = await request(b, path);
      assert.equal(res.status, 404, path);
      assert.equal(
        res.text.replace(/value="[^"]+"/g, ''),
        missing.text.replace(/value="[^"]+"/g, ''),
        `${path} answers like a missing project`,
      );
      assert.doesNotMatch(res.text, /hello-world|sha256/);
    }
    const own = await request(b, '/ui/projects/team/repositories/hello-world/versions/0.1.0');
    assert.equal(own.status, 200);
    assert.match(own.text, /data-status="valid"/);
    assert.match(own.text, /John The Signer/);
    assert.equal((await request(b, '/ui/projects/team/repositories/hello-world/versions/9.9.9')).status, 404);
    const adminView = await request(await login(admin), '/ui/projects/secret/repositories/hello-world');
    assert.equal(adminView.status, 200, 'system admins see every project');
  });

  test('admin pages are for system admins; members are managed by project admins', async () => {
    const a = await login(alice);
    assert.equal((await request(a, '/ui/admin')).status, 403);
    assert.doesNotMatch((await request(a, '/ui/')).text, /\/ui\/admin/, 'no link to it either');
    for (const path of ['/ui/admin/projects', '/ui/admin/users', '/ui/admin/robots']) {
      const res = await post(a, path, { name: 'made-by-alice', password: 'Sneaky-Passw0rd', project: 'team', actions: 'pull' });
      assert.equal(res.status, 403, path);
    }
    assert.equal(reg.registry.access!.accounts.getProject('made-by-alice'), undefined);
    assert.equal((await post(a, '/ui/projects/team/members', { user: 'alice', role: 'projectAdmin' })).status, 403, 'a developer');
    assert.equal((await post(a, '/ui/projects/secret/members', { user: 'alice', role: 'projectAdmin' })).status, 404, 'a hidden project');
    assert.doesNotMatch((await request(a, '/ui/projects/team')).text, /data-testid="members"/);

    const b = await login(bob);
    assert.match((await request(b, '/ui/projects/team')).text, /data-testid="members"/);
    const res = await post(b, '/ui/projects/team/members', { user: 'alice', role: 'maintainer' });
    assert.equal(res.status, 303);
    assert.equal(reg.registry.access!.accounts.getProject('team')!.members.find((m) => m.user === 'alice')?.role, 'maintainer');
    assert.equal((await post(b, '/ui/admin/users', { name: 'made-by-bob', password: 'Sneaky-Passw0rd' })).status, 403);
  });

  test('admins create users and robots; the robot secret is shown once', async () => {
    const b = await login(admin);
    const weak = await post(b, '/ui/admin/users', { name: 'carol', password: 'weak' });
    assert.equal(weak.status, 303);
    assert.match((await request(b, '/ui/admin')).text, /does not meet the policy/);
    assert.equal((await post(b, '/ui/admin/users', { name: 'carol', password: 'Carol-Passw0rd' })).status, 303);
    assert.ok(reg.registry.access!.accounts.listUsers().some((u) => u.name === 'carol'));
    assert.equal((await post(b, '/ui/admin/robots', { name: 'ci', project: 'team', actions: ['pull', 'push'] })).status, 303);
    const shown = await request(b, '/ui/admin');
    const secret = /data-testid="robot-secret"\s*>([^<]+)</.exec(shown.text)?.[1];
    assert.ok(secret && secret.length >= 32, shown.text);
    assert.ok(await reg.registry.access!.accounts.authenticate('robot$ci', secret), 'the secret works');
    assert.doesNotMatch((await request(b, '/ui/admin')).text, new RegExp(secret), 'and is never shown again');
    const robotLogin = browser();
    const form = await request(robotLogin, '/ui/login');
    const res = await request(robotLogin, '/ui/login', {
      form: { _csrf: csrfOf(form.text), username: 'robot$ci', password: secret },
      headers: { origin: reg.url },
    });
    assert.equal(res.status, 401, 'robots cannot log in to the UI');
  });

  test('accounts are checked on every request: demoted admins and deleted users lose access at once', async () => {
    const accounts = reg.registry.access!.accounts;
    const dan = await reg.addUser('dan', { admin: true });
    const b = await login(dan);
    assert.equal((await request(b, '/ui/admin')).status, 200);
    await accounts.setAdmin('dan', false);
    assert.equal((await request(b, '/ui/admin')).status, 403);
    assert.equal((await request(b, '/ui/projects/secret')).status, 404);
    await accounts.setPassword('dan', 'Dan-New-Passw0rd');
    assert.equal((await request(b, '/ui/')).status, 303, 'a new password ends old sessions');
    const again = await login({ username: 'dan', password: 'Dan-New-Passw0rd' });
    await accounts.deleteUser('dan');
    assert.equal((await request(again, '/ui/')).status, 303);
    await accounts.addUser({ name: 'dan', password: 'Dan-New-Passw0rd' });
    assert.equal((await request(again, '/ui/')).status, 303, 'a new account of the same name is not the old one');
  });

  test('sessions expire when idle (30 min) and after 8 h whatever happens', async () => {
    const b = await login(alice);
    now += 29 * 60_000;
    assert.equal((await request(b, '/ui/')).status, 200);
    now += 31 * 60_000;
    const idle = await request(b, '/ui/');
    assert.equal(idle.status, 303);
    assert.equal(idle.headers.get('location'), '/ui/login');
    const c = await login(alice);
    for (let i = 0; i < 17; i++) {
      now += 29 * 60_000;
      if ((await request(c, '/ui/')).status !== 200) break;
    }
    assert.equal((await request(c, '/ui/')).status, 303, 'gone after 8 h');
  });

  test('chart text is escaped on every page', async () => {
    const b = await login(alice);
    for (const path of ['/ui/projects/pub/repositories/xss-demo', '/ui/projects/pub/repositories/xss-demo/versions/0.1.0']) {
      const res = await request(b, path);
      assert.equal(res.status, 200, path);
      assert.ok(!res.text.includes('<script>globalThis'), path);
      assert.ok(!res.text.includes('<img src=x'), path);
      assert.ok(res.text.includes('&lt;script&gt;globalThis.pwned=1&lt;/script&gt;'), path);
    }
    const version = await request(b, '/ui/projects/pub/repositories/xss-demo/versions/0.1.0');
    assert.match(version.text, /data-testid="unsigned"/);
  });

  test('login attempts are limited as for the registry: 429 with Retry-After, even with the right password', async () => {
    const b = browser();
    const user = await reg.addUser('erin');
    let last;
    for (const password of ['Wrong-1a', 'Wrong-2a', 'Wrong-3a', user.password]) {
      const form = await request(b, '/ui/login');
      last = await request(b, '/ui/login', {
        form: { _csrf: csrfOf(form.text), username: 'erin', password },
        headers: { origin: reg.url },
      });
    }
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers.get('retry-after')) > 0);
    assert.match(last!.text, /Too many failed logins/);
    assert.ok(!b.cookies.has('chartprov_session'));
  });

  test('a session id planted before login is replaced, and ended', async () => {
    const attacker = await login(alice);
    const planted = attacker.cookies.get('chartprov_session')!;
    // The victim opens the login form, then the attacker's id lands in their cookies (a sibling site can set it).
    const victim = browser();
    const form = await request(victim, '/ui/login');
    victim.cookies.set('chartprov_session', planted);
    const res = await request(victim, '/ui/login', {
      form: { _csrf: csrfOf(form.text), username: bob.username, password: bob.password },
      headers: { origin: reg.url },
    });
    assert.equal(res.status, 303);
    const fresh = victim.cookies.get('chartprov_session')!;
    assert.notEqual(fresh, planted);
    assert.match((await request(victim, '/ui/')).text, /data-testid="user">bob</);
    assert.equal((await request(attacker, '/ui/')).status, 303, 'the planted id no longer names a session');
    const unknown = browser();
    unknown.cookies.set('chartprov_session', 'x'.repeat(43));
    await login(bob, unknown);
    assert.notEqual(unknown.cookies.get('chartprov_session'), 'x'.repeat(43), 'an unknown id is not adopted either');
  });

  test('signed-in forms: a Referer of our own page stands in for a missing Origin', async () => {
    const b = await login(admin);
    const token = csrfOf((await request(b, '/ui/admin')).text);
    const form = { _csrf: token, name: 'by-referer' };
    const evil = await request(b, '/ui/admin/projects', { form, headers: { referer: 'http://evil.example/ui/admin' } });
    assert.equal(evil.status, 403);
    const ok = await request(b, '/ui/admin/projects', { form, headers: { referer: `${reg.url}/ui/admin` } });
    assert.equal(ok.status, 303, ok.text);
    assert.ok(reg.registry.access!.accounts.getProject('by-referer'));
  });

  test('the login form expires on the server after an hour, whatever cookie the browser kept', async () => {
    const b = browser();
    const form = await request(b, '/ui/login');
    now += 61 * 60_000;
    const res = await request(b, '/ui/login', {
      form: { _csrf: csrfOf(form.text), username: admin.username, password: admin.password },
      headers: { origin: reg.url },
    });
    assert.equal(res.status, 403);
    assert.match(res.text, /expired/);
    assert.ok(!b.cookies.has('chartprov_session'));
  });

  test('a user logging in again and again does not push other users out', async () => {
    const kept = await login(bob);
    const first = await login(alice);
    for (let i = 0; i < 25; i++) await login(alice);
    assert.equal((await request(first, '/ui/')).status, 303, 'alice’s oldest session ended');
    assert.equal((await request(kept, '/ui/')).status, 200, 'bob is still signed in');
  });

  test('HEAD does not use up the one-time message (a robot’s secret)', async () => {
    const b = await login(admin);
    assert.equal((await post(b, '/ui/admin/robots', { name: 'head-ci', project: 'team', actions: ['pull'] })).status, 303);
    const head = await request(b, '/ui/admin', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const shown = await request(b, '/ui/admin');
    const secret = /data-testid="robot-secret"\s*>([^<]+)</.exec(shown.text)?.[1];
    assert.ok(secret && secret.length >= 32, 'the GET after the HEAD still shows the secret');
    assert.doesNotMatch((await request(b, '/ui/admin')).text, /data-testid="robot-secret"/, 'then it is gone');
  });

  test('DNS rebinding: a login posted with another name as Host and Origin is refused; the address works', async () => {
    const b = browser();
    const form = await request(b, '/ui/login');
    const port = new URL(reg.url).port;
    const body = new URLSearchParams({ _csrf: csrfOf(form.text), username: admin.username, password: admin.password }).toString();
    const send = (host: string) =>
      rawRequest(`${reg.url}/ui/login`, {
        method: 'POST',
        headers: {
          host,
          origin: `http://${host}`,
          cookie: `chartprov_login=${b.cookies.get('chartprov_login')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body,
      });
    const rebound = await send(`rebind.evil.example:${port}`);
    assert.equal(rebound.status, 403);
    assert.equal(rebound.headers['set-cookie']?.some((c) => c.startsWith('chartprov_session=')) ?? false, false);
    const direct = await send(`127.0.0.1:${port}`);
    assert.equal(direct.status, 303);
    assert.equal(direct.headers.location, '/ui/');
  });

  test('no HSTS over plain HTTP', async () => {
    const res = await request(browser(), '/ui/login');
    assert.equal(res.headers.get('strict-transport-security'), null);
  });

  test('wrong methods and unknown paths', async () => {
    const b = await login(alice);
    const put = await request(b, '/ui/', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal((await request(b, '/ui/nothing/here')).status, 404);
    assert.equal((await request(b, '/ui/projects/%E0%A4%A')).status, 404);
  });
});

/** Signed-in GET of a version page: its signature rows (status, where) and the "not checked" line. */
async function signatureRows(b: Browser, path: string) {
  const res = await request(b, path);
  assert.equal(res.status, 200, res.text);
  const rows = [...res.text.matchAll(/<tr data-status="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => ({
    status: m[1]!,
    where: /provenance layer|attached \(referrer\)|attached \(fallback tag\)/.exec(m[2]!)?.[0],
    signer: /data-testid="signer">([^<]*)</.exec(m[2]!)?.[1],
  }));
  const unchecked = /data-testid="unchecked">\s*(\d+) more signatures? not checked/.exec(res.text)?.[1];
  return { rows, unchecked: unchecked === undefined ? undefined : Number(unchecked) };
}

describe('signatures on the version page', () => {
  const admin_ = () => ({ plainHttp: true, clientOptions: { credential: { username: admin.username, password: admin.password } } });

  test('valid referrer, unknown-key referrer and a signature found only through the fallback tag', async () => {
    const connection = admin_();
    assert.equal((await pushCharts({ charts: [goldens.helm4.chart], destination: `oci://${reg.host}/sigs`, ...connection })).failed, 0);
    const reference = `oci://${reg.host}/sigs/hello-world:0.1.0`;
    const prov = await readFile(goldens.helm4.prov);
    // John's .prov, attached as a referrer as well: valid.
    await attachProvenance({ reference, provenance: prov.toString('utf8'), ...connection });
    // Signed in the registry by a key the UI's keyring lacks: unknown key.
    const keys = await generateKeysToDir({ name: 'Stranger', email: 'stranger@example.com', type: 'ed25519', dir: join(work, 'stranger') });
    const signer = await createSigner({ keyName: keys.fingerprint, keyrings: [join(work, 'stranger', 'secring.gpg')] });
    await signChartInRegistry({ reference, signer, ...connection });
    // The older form a registry without OCI 1.1 gets: no subject, listed only in the sha256-<hex> index.
    const client = await reg.client(admin);
    try {
      const repo = client.repository(reg.host, 'sigs/hello-world');
      const chart = await repo.fetchManifest('0.1.0');
      const artifact = provenanceArtifact({
        subject: { mediaType: OCI_MANIFEST, digest: chart.digest, size: chart.bytes.length },
        prov,
        fileName: 'hello-world-0.1.0.tgz.prov',
        chart: { name: 'hello-world', version: '0.1.0' },
        signer: { keyId: 'fallback' },
        form: 'compat',
      });
      await pushBlob(repo, { bytes: Buffer.from(OCI_EMPTY_BYTES) });
      await pushBlob(repo, { bytes: prov });
      const pushed = await repo.pushManifest(artifact.digest, artifact.manifestBytes, OCI_MANIFEST);
      assert.equal(pushed.subject, undefined, 'not a referrer the registry indexes');
      const index = {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: artifact.digest, size: artifact.manifestBytes.length, artifactType: PROVENANCE_ARTIFACT_TYPE },
        ],
      };
      await repo.pushManifest(fallbackTag(chart.digest), Buffer.from(JSON.stringify(index)), OCI_INDEX);
    } finally {
      await client.close();
    }
    const { rows, unchecked } = await signatureRows(await login(admin), '/ui/projects/sigs/repositories/hello-world/versions/0.1.0');
    assert.equal(unchecked, undefined);
    const sorted = rows.map((r) => `${r.where}: ${r.status}`).sort();
    assert.deepEqual(sorted, [
      'attached (fallback tag): valid',
      'attached (referrer): unknown-key',
      'attached (referrer): valid',
      'provenance layer: valid',
    ]);
    assert.ok(rows.filter((r) => r.status === 'valid').every((r) => /John The Signer/.test(r.signer ?? '')));
    assert.equal(rows.find((r) => r.status === 'unknown-key')!.signer, '—', 'an unverified signer has no user id');
  });

  test('hundreds of referrers: at most 20 checked per view, each .prov verified once, nothing verified again', async () => {
    const connection = admin_();
    await mkdir(join(work, 'flood-src'));
    const src = await helloWorldSource(join(work, 'flood-src'));
    const signed = await packageChartFlow({
      chartDir: src,
      destination: join(work, 'flood'),
      version: '0.3.0',
      sign: { keyName: 'John', keyrings: [keyFile('john-secring.gpg')] },
    });
    assert.equal((await pushCharts({ charts: [signed.path], destination: `oci://${reg.host}/sigs/flood`, ...connection })).failed, 0);
    const prov = await readFile(signed.provenance!.provPath);
    const client = await reg.client(admin);
    const referrers = 40;
    try {
      const repo = client.repository(reg.host, 'sigs/flood/hello-world');
      const chart = await repo.fetchManifest('0.3.0');
      await pushBlob(repo, { bytes: Buffer.from(OCI_EMPTY_BYTES) });
      await Promise.all(
        Array.from({ length: referrers }, async (_, i) => {
          // Distinct manifests (their created annotation), one .prov.
          const artifact = provenanceArtifact({
            subject: { mediaType: OCI_MANIFEST, digest: chart.digest, size: chart.bytes.length },
            prov,
            fileName: 'hello-world-0.3.0.tgz.prov',
            chart: { name: 'hello-world', version: '0.3.0' },
            signer: { keyId: 'flood' },
            signedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
          });
          await repo.pushManifest(artifact.digest, artifact.manifestBytes, OCI_MANIFEST);
        }),
      );
    } finally {
      await client.close();
    }
    const b = await login(admin);
    const path = '/ui/projects/sigs/repositories/flood%2Fhello-world/versions/0.3.0';
    const before = signatureCheckCount();
    const first = await signatureRows(b, path);
    assert.equal(first.rows.length, 20, 'the layer and 19 referrers');
    assert.ok(first.rows.every((r) => r.status === 'valid'));
    assert.equal(first.unchecked, referrers + 1 - 20, '"21 more signatures not checked"');
    assert.equal(signatureCheckCount() - before, 1, 'one .prov: verified once for 20 rows');
    const again = await signatureRows(b, path);
    assert.deepEqual(again, first);
    assert.equal(signatureCheckCount() - before, 1, 'the second view verified nothing');
    assert.equal((await request(b, path, { method: 'HEAD' })).status, 200);
    assert.equal(signatureCheckCount() - before, 1, 'nor a HEAD');
  });
});

describe('web UI over HTTPS and behind an https external URL', () => {
  test('HSTS on every answer', async () => {
    const ca = await makeTestCa(join(work, 'ca'));
    const cert = await issueServerCert(ca, { hosts: ['127.0.0.1'] });
    const tls = await startEmbedded({ tls: { cert: cert.certPem, key: cert.keyPem } });
    try {
      for (const path of ['/ui/login', '/ui/', '/']) {
        const res = await rawRequest(`${tls.url}${path}`, { ca: ca.certPem });
        assert.ok([200, 302, 303].includes(res.status), `${path}: ${res.status}`);
        assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', path);
      }
    } finally {
      await tls.stop();
    }
    const proxied = await startEmbedded({ externalUrl: 'https://charts.example.com' });
    try {
      const res = await rawRequest(`${proxied.url}/ui/login`);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    } finally {
      await proxied.stop();
    }
  });
});

/** A request with any Host header (fetch sets its own), over http or https. */
function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('storedChartSignatures (no HTTP)', () => {
  test('valid with the keyring, unknown key without one', async () => {
    // The server holds the data folder's lock, not the storage: reading it from the side is safe.
    const storage = await createFilesystemStorage(reg.dataDir);
    const digest = (await storage.getManifest('team/hello-world', '0.1.0'))!.digest;
    const keys = (await loadKeyring([keyFile('all-pubring.gpg')])).publicKeys;
    const checked = await storedChartSignatures({ storage, repository: 'team/hello-world', digest, keys });
    assert.equal(checked?.name, 'hello-world');
    assert.equal(checked?.signatures.length, 1);
    const [sig] = checked!.signatures;
    assert.equal(sig!.source, 'layer');
    assert.equal(sig!.status, 'valid');
    assert.match(sig!.signer!.userId!, /John The Signer/);
    assert.match(sig!.signer!.fingerprint!, /^[0-9A-F]{40}$/);
    const bare = await storedChartSignatures({ storage, repository: 'team/hello-world', digest });
    assert.equal(bare!.signatures[0]!.status, 'unknown-key');
    assert.equal(bare!.signatures[0]!.reason, NO_KEYRING);
    const janeOnly = await storedChartSignatures({
      storage,
      repository: 'team/hello-world',
      digest,
      keys: (await loadKeyring([keyFile('jane-pubring.gpg')])).publicKeys,
    });
    assert.equal(janeOnly!.signatures[0]!.status, 'unknown-key');
    assert.equal(janeOnly!.signatures[0]!.reason, 'SIGNER_UNKNOWN');
    assert.equal(await storedChartSignatures({ storage, repository: 'team/hello-world', digest: `sha256:${'0'.repeat(64)}` }), undefined);
  });

  test('Chart.yaml: an archive is read and decompressed once, then served from the cache', async () => {
    const storage = await createFilesystemStorage(reg.dataDir);
    let opened = 0;
    const counting = new Proxy(storage, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name === 'readBlob') return (...args: Parameters<RegistryStorage['readBlob']>) => (opened++, target.readBlob(...args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const manifest = JSON.parse((await storage.getManifest('team/hello-world', '0.1.0'))!.bytes.toString('utf8')) as {
      layers: Array<{ mediaType: string; digest: string; size: number }>;
    };
    const layer = manifest.layers.find((l) => l.mediaType.endsWith('.tar+gzip'))!;
    const cache = new ChartYamlCache();
    const first = await chartYamlOf(counting, layer, {}, cache);
    assert.equal(first.from, 'archive');
    assert.match(first.text, /^name: hello-world$/m);
    assert.equal(opened, 1);
    assert.deepEqual(await chartYamlOf(counting, layer, {}, cache), first);
    assert.equal(opened, 1, 'not read again');
    const missing = { ...layer, digest: `sha256:${'1'.repeat(64)}` };
    assert.equal((await chartYamlOf(counting, missing, { name: 'x' }, cache)).from, 'config');
    assert.equal((await chartYamlOf(counting, missing, { name: 'x' }, cache)).from, 'config');
    assert.equal(cache.size, 2, 'an unreadable archive is remembered too');
    const small = new ChartYamlCache(2);
    for (const d of ['a', 'b', 'c']) small.set(d, d);
    assert.equal(small.size, 2);
    assert.equal(small.get('a'), undefined, 'bounded, least recently used first');
  });
});
