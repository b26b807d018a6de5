// The embedded registry's Harbor v2.0 API subset: projects (create, list,
// HEAD, get, delete, visibility per caller), repositories and artifacts of a
// pushed chart with its provenance attached as a referrer (an accessory in
// Harbor's words), paging headers and the permission answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryClient } from '../../src/oci/client.js';
import { digestOf } from '../../src/oci/digest.js';
import {
  HELM_CHART_LAYER,
  HELM_CONFIG,
  HELM_PROV_LAYER,
  OCI_EMPTY_BYTES,
  OCI_EMPTY_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../../src/oci/helm-media.js';
import { startRegistry, type RunningRegistry } from '../../src/registry/server.js';
import { tempDir } from '../peers/tmp.js';

const PASSWORD = 'Test-Pass1';
let reg: RunningRegistry;
let adminPassword: string;
let cleanup: () => Promise<void>;
let pusher: RegistryClient;

type Who = 'admin' | 'alice' | 'bob' | 'carol' | 'dave' | undefined;

before(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('chartprov-harbor-api-'));
  reg = await startRegistry({ dataDir: join(dir, 'data') });
  adminPassword = reg.initialAdmin!.password!;
  const accounts = reg.access!.accounts;
  for (const name of ['alice', 'bob', 'carol', 'dave']) await accounts.addUser({ name, password: PASSWORD });
  pusher = await RegistryClient.create({ plainHttp: true, credential: { username: 'admin', password: adminPassword } });
});

after(async () => {
  await pusher?.close();
  await reg?.close();
  await cleanup?.();
});

function authorization(who: Who): Record<string, string> {
  if (!who) return {};
  const password = who === 'admin' ? adminPassword : PASSWORD;
  return { Authorization: `Basic ${Buffer.from(`${who}:${password}`).toString('base64')}` };
}

async function api(
  path: string,
  opts: { method?: string; as?: Who; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...authorization(opts.as), ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${reg.url}/api/v2.0${path}`, {
    method: opts.method ?? 'GET',
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
}

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = await json<{ errors: { code: string; message: string }[] }>(res);
  assert.equal(body.errors.length, 1);
  assert.deepEqual(Object.keys(body.errors[0]!).sort(), ['code', 'message']);
  return body.errors[0]!;
}

async function expectError(res: Response, status: number, code: string): Promise<string> {
  assert.equal(res.status, status, `${res.url}: expected ${status} ${code}, got ${res.status}`);
  const err = await errorOf(res);
  assert.equal(err.code, code);
  return err.message;
}

async function createProject(name: string, isPublic: boolean, as: Who = 'admin'): Promise<Response> {
  return api('/projects', { method: 'POST', as, body: { project_name: name, metadata: { public: String(isPublic) } } });
}

interface PushedChart {
  digest: string;
  size: number;
  provDigest: string;
  provSize: number;
}

/** A chart at `tag` and a .prov attached to it through `subject`, pushed as admin through the token flow. */
async function pushChart(repository: string, tag: string): Promise<PushedChart> {
  const repo = pusher.repository(reg.host, repository);
  const config = Buffer.from(JSON.stringify({ name: 'demo', version: tag, apiVersion: 'v2', description: 'a demo chart' }));
  const layer = Buffer.from(`not really a tgz, version ${tag}`);
  const configBlob = await repo.pushBlob({ bytes: config });
  const layerBlob = await repo.pushBlob({ bytes: layer });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: HELM_CONFIG, digest: configBlob.digest, size: config.length },
      layers: [{ mediaType: HELM_CHART_LAYER, digest: layerBlob.digest, size: layer.length }],
      annotations: { 'org.opencontainers.image.title': 'demo' },
    }),
  );
  const chart = await repo.pushManifest(tag, manifest, OCI_MANIFEST);

  const prov = Buffer.from(`-----BEGIN PGP SIGNED MESSAGE-----\nprov for ${tag}\n`);
  await repo.pushBlob({ bytes: Buffer.from(OCI_EMPTY_BYTES) });
  const provBlob = await repo.pushBlob({ bytes: prov });
  const referrer = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: HELM_PROV_LAYER,
      config: OCI_EMPTY_CONFIG,
      layers: [{ mediaType: HELM_PROV_LAYER, digest: provBlob.digest, size: prov.length }],
      subject: { mediaType: OCI_MANIFEST, digest: chart.digest, size: manifest.length },
    }),
  );
  // Untagged, by its own digest: how a referrer is pushed.
  const attached = await repo.pushManifest(digestOf(referrer), referrer, OCI_MANIFEST);
  return {
    digest: chart.digest,
    size: manifest.length + config.length + layer.length,
    provDigest: attached.digest,
    provSize: referrer.length + OCI_EMPTY_CONFIG.size + prov.length,
  };
}

describe('Harbor API: ping, systeminfo, routing', () => {
  test('ping answers Pong to anyone, with a request id', async () => {
    const res = await api('/ping');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Pong');
    assert.match(res.headers.get('content-type')!, /^text\/plain/);
    assert.ok(res.headers.get('x-request-id'));
    const echoed = await api('/ping', { headers: { 'X-Request-Id': 'req-42' } });
    assert.equal(echoed.headers.get('x-request-id'), 'req-42');
    await echoed.arrayBuffer();
  });

  test('systeminfo: the auth mode for anyone, the version only for a logged-in caller', async () => {
    const anonymous = await json(await api('/systeminfo'));
    assert.equal(anonymous.auth_mode, 'db_auth');
    assert.equal(anonymous.harbor_version, undefined);
    const admin = await json(await api('/systeminfo', { as: 'admin' }));
    assert.match(admin.harbor_version, /^v2\.\d+\.\d+\+chartprov\./);
    assert.equal(admin.project_creation_restriction, 'adminonly');
    assert.equal(admin.registry_url, reg.host);
  });

  test('unknown paths are 404 and wrong methods 405, in Harbor error bodies', async () => {
    await expectError(await api('/users/current', { as: 'admin' }), 404, 'NOT_FOUND');
    await expectError(await fetch(`${reg.url}/api/v9/projects`), 404, 'NOT_FOUND');
    const put = await api('/projects', { method: 'PUT', as: 'admin', body: {} });
    await expectError(put, 405, 'METHOD_NOT_ALLOWED');
    assert.match(put.headers.get('allow')!, /POST/);
  });

  test('a wrong password is 401; a registry bearer token is not an API credential', async () => {
    const wrong = await api('/projects', { headers: { Authorization: `Basic ${Buffer.from('alice:nope-Nope1').toString('base64')}` } });
    await expectError(wrong, 401, 'UNAUTHORIZED');
    assert.match(wrong.headers.get('www-authenticate')!, /^Basic realm=/);

    await createProject('tokenproj', false);
    const tokenRes = await fetch(`${reg.url}/service/token?service=chartprov-registry&scope=repository:tokenproj/x:pull`, {
      headers: authorization('admin'),
    });
    const { token } = await json<{ token: string }>(tokenRes);
    // With the token only, the caller is anonymous: the private project does not show and cannot be read.
    const listed = await json<{ name: string }[]>(await api('/projects', { headers: { Authorization: `Bearer ${token}` } }));
    assert.ok(!listed.some((p) => p.name === 'tokenproj'));
    await expectError(await api('/projects/tokenproj', { headers: { Authorization: `Bearer ${token}` } }), 401, 'UNAUTHORIZED');
  });
});

describe('Harbor API: projects', () => {
  test('admin creates a project: 201 with Location by id, or by name on request', async () => {
    const res = await createProject('charts', false);
    assert.equal(res.status, 201);
    const location = res.headers.get('location')!;
    assert.match(location, /^\/api\/v2\.0\/projects\/\d+$/);
    const id = Number(location.split('/').pop());

    const byId = await json(await api(`/projects/${id}`, { as: 'admin' }));
    assert.equal(byId.name, 'charts');
    assert.equal(byId.project_id, id);
    assert.deepEqual(byId.metadata, { public: 'false' });
    assert.equal(byId.repo_count, 0);
    assert.equal(byId.owner_name, 'admin');
    assert.equal(byId.current_user_role_id, 1, 'the creator is its project admin');
    assert.match(byId.creation_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const named = await api('/projects', {
      method: 'POST',
      as: 'admin',
      headers: { 'X-Resource-Name-In-Location': 'true' },
      body: { project_name: 'public-charts', public: true },
    });
    assert.equal(named.status, 201);
    assert.equal(named.headers.get('location'), '/api/v2.0/projects/public-charts');
    assert.deepEqual((await json(await api('/projects/public-charts', { as: 'admin' }))).metadata, { public: 'true' });
  });

  test('conflict, invalid name, invalid metadata, and who may create', async () => {
    assert.match(await expectError(await createProject('charts', true), 409, 'CONFLICT'), /already exists/);
    await expectError(await createProject('Bad_Name', false), 400, 'BAD_REQUEST');
    await expectError(await createProject('-x', false), 400, 'BAD_REQUEST');
    await expectError(
      await api('/projects', { method: 'POST', as: 'admin', body: { project_name: 'p1', metadata: { public: 'yes' } } }),
      400,
      'BAD_REQUEST',
    );
    await expectError(await api('/projects', { method: 'POST', as: 'admin', body: { metadata: {} } }), 400, 'BAD_REQUEST');
    const broken = await fetch(`${reg.url}/api/v2.0/projects`, {
      method: 'POST',
      headers: { ...authorization('admin'), 'Content-Type': 'application/json' },
      body: '{',
    });
    assert.equal(broken.status, 422);
    await broken.arrayBuffer();
    await expectError(await createProject('alices', false, 'alice'), 403, 'FORBIDDEN');
    const anonymous = await api('/projects', { method: 'POST', body: { project_name: 'nobodys' } });
    await expectError(anonymous, 401, 'UNAUTHORIZED');
    assert.ok(anonymous.headers.get('www-authenticate'));
    assert.equal((await api('/projects?project_name=alices', { method: 'HEAD', as: 'admin' })).status, 404);
  });

  test('HEAD ?project_name= says whether a project exists', async () => {
    assert.equal((await api('/projects?project_name=charts', { method: 'HEAD', as: 'admin' })).status, 200);
    assert.equal((await api('/projects?project_name=missing', { method: 'HEAD', as: 'admin' })).status, 404);
    assert.equal((await api('/projects', { method: 'HEAD', as: 'admin' })).status, 422);
  });

  test('visibility: anonymous sees public projects, members theirs, admins all; private ones stay hidden', async () => {
    const accounts = reg.access!.accounts;
    await accounts.setMember('charts', 'alice', 'developer');
    await accounts.setMember('charts', 'carol', 'guest');
    await accounts.setMember('charts', 'dave', 'maintainer');
    const names = async (as: Who, query = '') =>
      (await json<{ name: string }[]>(await api(`/projects?page_size=100${query}`, { as }))).map((p) => p.name);

    assert.deepEqual(await names(undefined), ['public-charts']);
    assert.deepEqual(await names('bob'), ['public-charts']);
    assert.deepEqual(await names('alice'), ['charts', 'public-charts']);
    assert.deepEqual(await names('alice', '&public=false'), ['charts']);
    assert.deepEqual(await names(undefined, '&public=false'), []);
    assert.deepEqual(await names('admin', '&name=chart'), ['charts', 'public-charts']);
    assert.ok((await names('admin')).includes('tokenproj'));

    const asAlice = await json(await api('/projects/charts', { as: 'alice' }));
    assert.equal(asAlice.current_user_role_id, 2);
    assert.deepEqual(asAlice.current_user_role_ids, [2]);

    // A private project answers exactly like a missing one.
    assert.equal(await expectError(await api('/projects/charts', { as: 'bob' }), 404, 'NOT_FOUND'), 'project charts not found');
    assert.equal(await expectError(await api('/projects/nothing', { as: 'bob' }), 404, 'NOT_FOUND'), 'project nothing not found');
    await expectError(await api('/projects/charts'), 401, 'UNAUTHORIZED');
    assert.equal((await api('/projects?project_name=charts', { method: 'HEAD', as: 'bob' })).status, 404);
    assert.equal((await api('/projects/public-charts', { as: undefined })).status, 200);

    // A robot sees the projects its permissions name, plus public ones.
    const { robot, secret } = await accounts.createRobot({ name: 'ci', permissions: [{ project: 'charts', actions: ['pull'] }] });
    const asRobot = { Authorization: `Basic ${Buffer.from(`${robot.name}:${secret}`).toString('base64')}` };
    const robotView = await json<{ name: string }[]>(await api('/projects?page_size=100', { headers: asRobot }));
    assert.ok(robotView.some((p) => p.name === 'charts') && !robotView.some((p) => p.name === 'tokenproj'));
    await expectError(await api('/projects', { method: 'POST', headers: asRobot, body: { project_name: 'by-robot' } }), 403, 'FORBIDDEN');
  });

  test('X-Is-Resource-Name: a numeric name is a name only when the header says so', async () => {
    const created = await createProject('4242', true);
    const id = Number(created.headers.get('location')!.split('/').pop());
    await expectError(await api('/projects/4242', { as: 'admin' }), 404, 'NOT_FOUND');
    const byName = await json(await api('/projects/4242', { as: 'admin', headers: { 'X-Is-Resource-Name': 'true' } }));
    assert.equal(byName.project_id, id);
    assert.equal((await api('/projects/4242', { method: 'DELETE', as: 'admin', headers: { 'X-Is-Resource-Name': 'true' } })).status, 200);
  });

  test('paging: X-Total-Count and Link with prev/next, page_size capped at 100', async () => {
    for (const n of ['page-a', 'page-b', 'page-c']) assert.equal((await createProject(n, true)).status, 201);
    const res = await api('/projects?name=page-&page=2&page_size=1', { as: 'admin' });
    assert.equal(res.headers.get('x-total-count'), '3');
    assert.equal(
      res.headers.get('link'),
      '</api/v2.0/projects?name=page-&page=1&page_size=1>; rel="prev" , </api/v2.0/projects?name=page-&page=3&page_size=1>; rel="next"',
    );
    assert.deepEqual(
      (await json<{ name: string }[]>(res)).map((p) => p.name),
      ['page-b'],
    );
    const last = await api('/projects?name=page-&page=3&page_size=1', { as: 'admin' });
    assert.match(last.headers.get('link')!, /rel="prev"$/);
    await last.arrayBuffer();
    const all = await api('/projects?name=page-', { as: 'admin' });
    assert.equal(all.headers.get('link'), null);
    assert.equal((await json<unknown[]>(all)).length, 3);
    await expectError(await api('/projects?page_size=101', { as: 'admin' }), 422, 'UNPROCESSABLE_ENTITY');
    await expectError(await api('/projects?page=two', { as: 'admin' }), 422, 'UNPROCESSABLE_ENTITY');
  });
});

describe('Harbor API: repositories and artifacts of a signed chart', () => {
  let chart: PushedChart;
  let nested: PushedChart;

  before(async () => {
    chart = await pushChart('charts/demo', '1.0.0');
    nested = await pushChart('charts/team/demo', '2.0.0');
  });

  test('repositories: full names, artifact counts without accessories, paging', async () => {
    const res = await api('/projects/charts/repositories', { as: 'alice' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-total-count'), '2');
    const repos = await json<Record<string, unknown>[]>(res);
    assert.deepEqual(
      repos.map((r) => [r.name, r.artifact_count]),
      [
        ['charts/demo', 1],
        ['charts/team/demo', 1],
      ],
    );
    const project = await json(await api('/projects/charts', { as: 'alice' }));
    assert.equal(repos[0]!.project_id, project.project_id);
    assert.equal(project.repo_count, 2);
    assert.equal(typeof repos[0]!.id, 'number');

    const paged = await api('/projects/charts/repositories?page_size=1', { as: 'alice' });
    assert.match(paged.headers.get('link')!, /page=2&page_size=1>; rel="next"$/);
    await paged.arrayBuffer();

    const all = await json<{ name: string }[]>(await api('/repositories?page_size=100', { as: 'alice' }));
    assert.deepEqual(
      all.map((r) => r.name),
      ['charts/demo', 'charts/team/demo'],
    );
    assert.deepEqual(await json(await api('/repositories', { as: 'bob' })), []);
  });

  test('a repository name with a slash, encoded twice (Harbor) or once', async () => {
    const twice = await json(await api('/projects/charts/repositories/team%252Fdemo', { as: 'alice' }));
    assert.equal(twice.name, 'charts/team/demo');
    assert.equal(twice.artifact_count, 1);
    const once = await json(await api('/projects/charts/repositories/team%2Fdemo', { as: 'alice' }));
    assert.equal(once.name, 'charts/team/demo');
    await expectError(await api('/projects/charts/repositories/missing', { as: 'alice' }), 404, 'NOT_FOUND');
    await expectError(await api('/projects/charts/repositories/Bad%20Name', { as: 'alice' }), 400, 'BAD_REQUEST');
  });

  test('artifacts: the chart with its tag, sizes and chart metadata; the .prov is an accessory, not an artifact', async () => {
    const res = await api('/projects/charts/repositories/demo/artifacts', { as: 'carol' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-total-count'), '1');
    const [art, ...rest] = await json<Record<string, any>[]>(res);
    assert.equal(rest.length, 0);
    assert.equal(art!.digest, chart.digest);
    assert.equal(art!.type, 'CHART');
    assert.equal(art!.media_type, HELM_CONFIG);
    assert.equal(art!.manifest_media_type, OCI_MANIFEST);
    assert.equal(art!.artifact_type, HELM_CONFIG);
    assert.equal(art!.size, chart.size);
    assert.equal(art!.repository_name, 'charts/demo');
    assert.deepEqual(art!.annotations, { 'org.opencontainers.image.title': 'demo' });
    assert.equal(art!.extra_attrs.name, 'demo');
    assert.equal(art!.extra_attrs.version, '1.0.0');
    assert.deepEqual(
      art!.tags.map((t: Record<string, unknown>) => [t.name, t.artifact_id === art!.id, t.immutable]),
      [['1.0.0', true, false]],
    );
    assert.equal(art!.accessories, undefined, 'accessories only when asked for');

    const withAcc = await json<Record<string, any>[]>(
      await api('/projects/charts/repositories/demo/artifacts?with_accessory=true', { as: 'carol' }),
    );
    assert.deepEqual(withAcc[0]!.accessories, [
      {
        id: withAcc[0]!.accessories[0].id,
        artifact_id: withAcc[0]!.accessories[0].artifact_id,
        subject_artifact_id: art!.id,
        subject_artifact_digest: chart.digest,
        subject_artifact_repo: 'charts/demo',
        size: chart.provSize,
        digest: chart.provDigest,
        type: 'subject.accessory',
        icon: '',
      },
    ]);

    const untagged = await json<unknown[]>(await api('/projects/charts/repositories/demo/artifacts?q=tags%3Dnil', { as: 'carol' }));
    assert.deepEqual(untagged, []);
    const byTag = await json<unknown[]>(await api('/projects/charts/repositories/demo/artifacts?q=tags=1.0.0', { as: 'carol' }));
    assert.equal(byTag.length, 1);
  });

  test('one artifact by tag or digest; the accessory itself by its digest', async () => {
    const byTag = await json(await api('/projects/charts/repositories/team%252Fdemo/artifacts/2.0.0?with_accessory=true', { as: 'alice' }));
    assert.equal(byTag.digest, nested.digest);
    assert.equal(byTag.accessories[0].digest, nested.provDigest);
    const byDigest = await json(
      await api(`/projects/charts/repositories/team%252Fdemo/artifacts/${nested.digest}?with_tag=false`, { as: 'alice' }),
    );
    assert.equal(byDigest.digest, nested.digest);
    assert.equal(byDigest.tags, undefined);
    const prov = await json(await api(`/projects/charts/repositories/demo/artifacts/${chart.provDigest}`, { as: 'alice' }));
    assert.equal(prov.type, 'UNKNOWN');
    assert.equal(prov.artifact_type, HELM_PROV_LAYER);
    assert.equal(prov.media_type, OCI_EMPTY_CONFIG.mediaType);

    assert.match(
      await expectError(await api('/projects/charts/repositories/demo/artifacts/9.9.9', { as: 'alice' }), 404, 'NOT_FOUND'),
      /charts\/demo:9\.9\.9/,
    );
    await expectError(await api('/projects/charts/repositories/demo/artifacts/sha256:abc', { as: 'alice' }), 400, 'BAD_REQUEST');
    // An unknown repository lists no artifacts, as in Harbor.
    assert.deepEqual(await json(await api('/projects/charts/repositories/nothing/artifacts', { as: 'alice' })), []);
  });

  test('permissions: outsiders get 404, anonymous 401, readers without delete rights 403', async () => {
    await expectError(await api('/projects/charts/repositories', { as: 'bob' }), 404, 'NOT_FOUND');
    await expectError(await api('/projects/charts/repositories/demo/artifacts', { as: 'bob' }), 404, 'NOT_FOUND');
    await expectError(await api('/projects/charts/repositories/demo/artifacts'), 401, 'UNAUTHORIZED');
    await expectError(await api('/projects/charts/repositories/demo/artifacts/1.0.0', { method: 'DELETE', as: 'carol' }), 403, 'FORBIDDEN');
    await expectError(await api('/projects/charts/repositories/demo/artifacts/1.0.0', { method: 'DELETE', as: 'alice' }), 403, 'FORBIDDEN');
    await expectError(await api('/projects/charts/repositories/demo', { method: 'DELETE', as: 'alice' }), 403, 'FORBIDDEN');
    await expectError(await api('/projects/charts', { method: 'DELETE', as: 'dave' }), 403, 'FORBIDDEN');
    await expectError(await api('/projects/charts', { method: 'DELETE', as: 'bob' }), 404, 'NOT_FOUND');
    await expectError(await api('/projects/charts', { method: 'DELETE' }), 401, 'UNAUTHORIZED');
    // Public content is readable by anyone, deletable by no anonymous caller.
    await pushChart('public-charts/open', '0.1.0');
    assert.equal((await api('/projects/public-charts/repositories/open/artifacts')).status, 200);
    await expectError(await api('/projects/public-charts/repositories/open', { method: 'DELETE' }), 401, 'UNAUTHORIZED');
  });

  test('an index: its references and size; a chart it lists cannot be deleted on its own (412)', async () => {
    const inner = await pushChart('public-charts/multi', '1.0.0');
    const innerManifest = await fetch(`${reg.url}/v2/public-charts/multi/manifests/${inner.digest}`, { headers: { Accept: OCI_MANIFEST } });
    const innerBytes = Buffer.from(await innerManifest.arrayBuffer());
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: inner.digest, size: innerBytes.length }],
      }),
    );
    await pusher.repository(reg.host, 'public-charts/multi').pushManifest('bundle', index, OCI_INDEX);

    const arts = await json<Record<string, any>[]>(await api('/projects/public-charts/repositories/multi/artifacts?q=tags=bundle'));
    assert.equal(arts.length, 1);
    assert.equal(arts[0]!.type, 'IMAGE');
    assert.equal(arts[0]!.media_type, OCI_INDEX);
    assert.equal(arts[0]!.artifact_type, undefined);
    assert.equal(arts[0]!.size, index.length + inner.size);
    assert.deepEqual(
      arts[0]!.references.map((r: Record<string, unknown>) => [r.parent_id === arts[0]!.id, r.child_digest]),
      [[true, inner.digest]],
    );
    const del = await api(`/projects/public-charts/repositories/multi/artifacts/${inner.digest}`, { method: 'DELETE', as: 'admin' });
    assert.match(await expectError(del, 412, 'VIOLATE_FOREIGN_KEY_CONSTRAINT'), /referenced by others/);
    // Deleting the index keeps its child, which has a tag of its own.
    assert.equal((await api('/projects/public-charts/repositories/multi/artifacts/bundle', { method: 'DELETE', as: 'admin' })).status, 200);
    const left = await json<{ digest: string }[]>(await api('/projects/public-charts/repositories/multi/artifacts'));
    assert.deepEqual(
      left.map((a) => a.digest),
      [inner.digest],
    );
  });

  test('a project holding repositories cannot be deleted (412)', async () => {
    const res = await api('/projects/charts', { method: 'DELETE', as: 'admin' });
    assert.match(await expectError(res, 412, 'PRECONDITION'), /contains repositories/);
    assert.deepEqual(await json(await api('/projects/charts/_deletable', { as: 'admin' })), {
      deletable: false,
      message: 'the project contains repositories, can not be deleted',
    });
  });

  test('deleting an artifact by tag takes its tags and accessories; then the repository and the project go', async () => {
    // A maintainer may delete content.
    assert.equal((await api('/projects/charts/repositories/demo/artifacts/1.0.0', { method: 'DELETE', as: 'dave' })).status, 200);
    await expectError(await api(`/projects/charts/repositories/demo/artifacts/${chart.provDigest}`, { as: 'admin' }), 404, 'NOT_FOUND');
    const referrers = await fetch(`${reg.url}/v2/charts/demo/referrers/${chart.digest}`, { headers: authorization('admin') });
    assert.deepEqual((await json(referrers)).manifests, []);
    await expectError(await api('/projects/charts/repositories/demo', { as: 'admin' }), 404, 'NOT_FOUND');

    assert.equal((await api('/projects/charts/repositories/team%252Fdemo', { method: 'DELETE', as: 'admin' })).status, 200);
    await expectError(await api('/projects/charts/repositories/team%252Fdemo', { as: 'admin' }), 404, 'NOT_FOUND');
    assert.deepEqual(await json(await api('/projects/charts/repositories', { as: 'admin' })), []);

    assert.deepEqual(await json(await api('/projects/charts/_deletable', { as: 'admin' })), { deletable: true });
    assert.equal((await api('/projects/charts', { method: 'DELETE', as: 'admin' })).status, 200);
    await expectError(await api('/projects/charts', { as: 'admin' }), 404, 'NOT_FOUND');
    assert.equal((await api('/projects?project_name=charts', { method: 'HEAD', as: 'admin' })).status, 404);
  });
});
