// Repository names as an attacker writes them (issue 10, part 3): `..`,
// `%2e%2e`, encoded slashes, upper case, double slashes, backslashes, NUL,
// names longer than any limit — on the registry API (reads and writes), the
// Harbor API and the web UI of the embedded registry. Each must be refused
// (NAME_INVALID, or 401/403/404 when the name is taken as another project's),
// never answer with another project's data or a file outside the data
// folder, and never create anything outside the project it names. Requests go
// out byte for byte as written (node:http does not normalise paths; fetch
// would).
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { digestOf } from '../../src/oci/digest.js';
import { OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { startEmbedded, type Creds, type EmbeddedRegistry } from '../peers/embedded.js';
import { recordFigure } from '../peers/figures.js';

const PRIVATE = Buffer.from('PRIVATE-SENTINEL: the content of priv/app, which pubdev may not read\n');
const OUTSIDE = 'OUTSIDE-SENTINEL: a file beside the data folder\n';
const PUBLIC = Buffer.from('public layer of pub/app\n');
const CONFIG = Buffer.from('{"kind":"auth-paths"}');

interface Answer {
  status: number;
  code?: string;
  text: string;
}

let reg: EmbeddedRegistry;
let pubdev: Creds;
let outsideFile: string;
let privDigest: string;
let pubDigest: string;

const basic = (c: Creds) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

/** One request with the path exactly as given. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Answer> {
  const url = new URL(reg.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, ...(code ? { code } : {}) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Everything under the data folder's parent, relative to it: nothing may appear outside `data/repositories/pub`. */
async function tree(): Promise<string[]> {
  const root = dirname(reg.dataDir);
  const all = await readdir(root, { recursive: true });
  return all.map((p) => relative(root, join(root, p))).sort();
}

async function pushAs(c: Creds, repo: string, layer: Buffer, tag: string): Promise<string> {
  const client = await reg.client(c);
  try {
    const r = client.repository(reg.host, repo);
    await r.pushBlob({ bytes: CONFIG });
    await r.pushBlob({ bytes: layer });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.chartprov.test.config.v1+json', digest: digestOf(CONFIG), size: CONFIG.length },
        layers: [{ mediaType: 'application/octet-stream', digest: digestOf(layer), size: layer.length }],
      }),
    );
    await r.pushManifest(tag, manifest, OCI_MANIFEST);
    return digestOf(layer);
  } finally {
    await client.close();
  }
}

before(async () => {
  reg = await startEmbedded({ projects: ['pub', 'priv'] });
  pubdev = await reg.addUser('pubdev', { roles: { pub: 'developer' } });
  privDigest = await pushAs(reg.admin, 'priv/app', PRIVATE, 'v1');
  pubDigest = await pushAs(reg.admin, 'pub/app', PUBLIC, 'v1');
  outsideFile = join(dirname(reg.dataDir), 'outside.txt');
  await writeFile(outsideFile, OUTSIDE);
});

after(() => reg?.stop());

/** A refusal: never 2xx, and never a byte of what lies beyond. */
function assertRefused(a: Answer, what: string, allowed: readonly number[]): void {
  assert.ok(allowed.includes(a.status), `${what}: ${a.status} ${a.code ?? ''} ${a.text.slice(0, 200)}`);
  assert.ok(!a.text.includes('PRIVATE-SENTINEL'), `${what} answered with priv/app's content`);
  assert.ok(!a.text.includes('OUTSIDE-SENTINEL'), `${what} answered with a file outside the data folder`);
}

describe('repository names with path tricks, on /v2', () => {
  const asPubdev = () => ({ authorization: basic(pubdev) });
  const long = `pub/${'a'.repeat(300)}`;
  // [what, path]: reads of priv/app's blob (or of a file outside) through pub, as pubdev.
  const reads = (): Array<[string, string, readonly number[]]> => [
    ['.. segment (not in normal form: refused before it could become priv/app)', `/v2/pub/../priv/app/blobs/${privDigest}`, [400]],
    ['%2e%2e segment (the same)', `/v2/pub/%2e%2e/priv/app/blobs/${privDigest}`, [400]],
    ['%2E%2E upper-case escapes', `/v2/pub/%2E%2E/priv/app/blobs/${privDigest}`, [400]],
    ['backslashes (a URL parser turns them into /)', `/v2/pub\\..\\priv/app/blobs/${privDigest}`, [400]],
    ['..%2F inside a segment', `/v2/pub/..%2Fpriv%2Fapp/blobs/${privDigest}`, [400]],
    ['..%5C inside a segment', `/v2/pub/..%5Cpriv/app/blobs/${privDigest}`, [400]],
    ['%00 in the name', `/v2/pub/app%00/blobs/${pubDigest}`, [400]],
    ['upper case project', `/v2/PUB/app/blobs/${pubDigest}`, [400]],
    ['upper case repository', `/v2/pub/App/blobs/${pubDigest}`, [400]],
    ['double slash', `/v2/pub//app/blobs/${pubDigest}`, [400]],
    ['trailing dot component', `/v2/pub/app/./blobs/${pubDigest}`, [400]],
    ['leading underscore (the storage keeps _uploads, _manifests)', `/v2/pub/_manifests/blobs/${pubDigest}`, [400]],
    ['name longer than 255', `/v2/${long}/blobs/${pubDigest}`, [400]],
    ['name of 20000 characters', `/v2/pub/${'b'.repeat(20_000)}/blobs/${pubDigest}`, [400, 414, 431]],
    ['digest with ..', `/v2/pub/app/blobs/sha256:..%2F..%2F..%2Foutside.txt`, [400, 404]],
    ['tag with ..', `/v2/pub/app/manifests/..%2F..%2F..%2F..%2Foutside.txt`, [400, 404]],
    ['tag list through ..', `/v2/pub/%2e%2e/priv/app/tags/list`, [400]],
    ['upload id with ..', `/v2/pub/app/blobs/uploads/..%2F..%2F..%2Foutside.txt`, [400, 401, 403, 404]],
  ];

  test("reads: refused, and never another project's data or a file outside the data folder", async (t) => {
    const lines: string[] = [];
    for (const [what, path, allowed] of reads()) {
      const a = await raw('GET', path, asPubdev());
      lines.push(`${a.status} ${a.code ?? ''}  ${what}`);
      assertRefused(a, what, allowed);
      if (a.status === 200)
        assert.ok(!a.text.includes('PRIVATE') && a.text === PUBLIC.toString(), `${what}: 200 must be pub/app's own blob`);
    }
    for (const line of lines) t.diagnostic(line);
    // Control: the same principal reads its own project, and the admin reads priv through the plain name.
    assert.equal((await raw('GET', `/v2/pub/app/blobs/${pubDigest}`, asPubdev())).status, 200);
    assert.equal((await raw('GET', `/v2/priv/app/blobs/${privDigest}`, { authorization: basic(reg.admin) })).status, 200);
    const tally = new Map<string, number>();
    for (const l of lines) tally.set(l.split('  ')[0]!.trim(), (tally.get(l.split('  ')[0]!.trim()) ?? 0) + 1);
    recordFigure({
      area: 'inputs',
      item: 'repository-name path tricks on /v2 reads (.., %2e%2e, %2F, \\, NUL, case, //, _, long)',
      tried: lines.length,
      outcome: [...tally].map(([k, n]) => `${n}× ${k}`).join(', ') + ' (the 200 is pub/app/./ = pub/app itself)',
      lost: 0,
    });
  });

  test('writes: a push through a tricked name creates nothing outside the project it names', async () => {
    const before = await tree();
    const writes: Array<[string, string]> = [
      ['POST upload, ..%2F', '/v2/pub/..%2Fpriv%2Fapp/blobs/uploads/'],
      ['POST upload, .. normalised to priv', '/v2/pub/../priv/app/blobs/uploads/'],
      ['POST upload, %2e%2e', '/v2/pub/%2e%2e/priv/evil/blobs/uploads/'],
      ['POST upload, upper case', '/v2/pub/Evil/blobs/uploads/'],
      ['POST upload, out of the data folder', '/v2/pub/..%2F..%2F..%2F..%2Fescape/blobs/uploads/'],
      ['PUT manifest, ..%2F', '/v2/pub/..%2Fpriv%2Fapp/manifests/v2'],
      ['PUT manifest, .. normalised', '/v2/pub/../priv/app/manifests/v2'],
      ['PUT manifest, tag with ..', '/v2/pub/app/manifests/..%2F..%2Fescape'],
      ['DELETE manifest through ..', `/v2/pub/../priv/app/manifests/${privDigest}`],
    ];
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] });
    for (const [what, path] of writes) {
      const method = what.split(' ')[0]!;
      const a = await raw(method, path, { ...asPubdev(), 'content-type': OCI_MANIFEST }, method === 'PUT' ? manifest : undefined);
      assertRefused(a, what, [400, 401, 403, 404, 405]);
    }
    assert.deepEqual(await tree(), before, 'no file or folder appeared anywhere');
    assert.equal(
      (await raw('GET', `/v2/priv/app/blobs/${privDigest}`, { authorization: basic(reg.admin) })).status,
      200,
      'priv/app is intact',
    );
    assert.equal(await readFile(outsideFile, 'utf8'), OUTSIDE);
  });

  // distribution-spec: <name> is path components joined by '/'; RFC 3986 makes %2F data, not a separator.
  // A front proxy that routes or filters on the raw path (location /v2/priv/ …) never sees "priv/app" in
  // /v2/priv%2Fapp/…: were the registry to decode it into priv/app, an access rule in front would be bypassed.
  test('an encoded slash (%2F) inside a name is refused, not decoded into a path separator', async () => {
    const a = await raw('GET', `/v2/pub%2Fapp/blobs/${pubDigest}`, asPubdev());
    assert.ok([400, 404].includes(a.status), `pub%2Fapp: ${a.status} ${a.code ?? ''}`);
    const b = await raw('GET', `/v2/priv%2Fapp/blobs/${privDigest}`, { authorization: basic(reg.admin) });
    assert.ok([400, 404].includes(b.status), `priv%2Fapp as admin: ${b.status} ${b.code ?? ''}`);
  });

  // The URL parser folds `..`, `%2e%2e` and `\\` away: /v2/pub/../priv/app/… is "pub/…" to a proxy in front.
  test('a path that is not in normal form is refused, not folded into another repository', async () => {
    for (const path of [
      '/v2/pub/%2e%2e/priv/app/tags/list',
      '/v2/pub/../priv/app/tags/list',
      '/v2/priv\\app/tags/list',
      '/v2/pub/./app/tags/list',
    ]) {
      const a = await raw('GET', path, { authorization: basic(reg.admin) });
      assert.equal(a.status, 400, `${path}: ${a.status} ${a.code ?? ''}`);
      assert.equal(a.code, 'NAME_INVALID', path);
    }
    assert.equal((await raw('GET', '/v2/priv/app/tags/list', { authorization: basic(reg.admin) })).status, 200, 'the normal form works');
  });

  test('an encoded slash never opens another project: priv%2Fapp as pubdev is refused', async () => {
    assertRefused(await raw('GET', `/v2/priv%2Fapp/blobs/${privDigest}`, asPubdev()), 'priv%2Fapp', [400, 401, 403, 404]);
    assertRefused(await raw('GET', `/v2/pub%2F..%2Fpriv%2Fapp/blobs/${privDigest}`, asPubdev()), 'pub%2F..%2Fpriv%2Fapp', [400]);
  });
});

describe('repository names with path tricks, on the Harbor API and the web UI', () => {
  test('Harbor API: .., %2F and %252F in project and repository refuse or 404, never priv/app', async () => {
    const auth = { authorization: basic(pubdev) };
    const paths = [
      '/api/v2.0/projects/pub/repositories/..%252Fpriv%252Fapp/artifacts',
      '/api/v2.0/projects/pub/repositories/..%2Fpriv%2Fapp/artifacts',
      '/api/v2.0/projects/pub/repositories/%2e%2e/artifacts',
      '/api/v2.0/projects/pub/../priv/repositories/app/artifacts',
      '/api/v2.0/projects/priv%2F..%2Fpub/repositories/app/artifacts',
      '/api/v2.0/projects/PUB/repositories/app/artifacts',
      `/api/v2.0/projects/pub/repositories/${'c'.repeat(400)}/artifacts`,
    ];
    for (const path of paths) {
      const a = await raw('GET', path, auth);
      assertRefused(a, path, [400, 401, 403, 404]);
      assert.ok(!a.text.includes(privDigest.slice(7, 30)), `${path} names priv/app's blob`);
    }
  });

  test('web UI: tricked repository names show nothing of priv/app to a pub member', async () => {
    const cookie = await uiLogin(pubdev);
    const paths = [
      '/ui/projects/pub/repositories/..%2Fpriv%2Fapp',
      '/ui/projects/pub/repositories/..%252Fpriv%252Fapp',
      '/ui/projects/pub/../priv/repositories/app',
      '/ui/projects/pub/repositories/%2e%2e%2Fpriv%2Fapp/versions/v1',
      '/ui/projects/priv/repositories/app',
      '/ui/projects/PRIV/repositories/app',
    ];
    for (const path of paths) {
      const a = await raw('GET', path, { cookie });
      assertRefused(a, path, [302, 400, 403, 404]);
      assert.ok(!a.text.includes(privDigest), `${path} shows priv/app's digest`);
    }
  });
});

/** Logs in to the web UI; returns the session cookie. */
async function uiLogin(c: Creds): Promise<string> {
  const form = await fetch(`${reg.url}/ui/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const loginCookie = form.headers
    .getSetCookie()
    .map((s) => s.split(';')[0])
    .join('; ');
  const res = await fetch(`${reg.url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: reg.url, cookie: loginCookie },
    body: new URLSearchParams({ _csrf: csrf, username: c.username, password: c.password }).toString(),
  });
  assert.equal(res.status, 303);
  return res.headers
    .getSetCookie()
    .map((s) => s.split(';')[0]!)
    .filter((s) => s.startsWith('chartprov_session='))
    .join('; ');
}
