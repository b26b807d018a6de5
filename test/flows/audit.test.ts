// chartprov audit against both kinds of registry: docker-registry 2.8 (no
// referrers API: signatures attached later live under the fallback tag; the
// catalog lists repositories) and the embedded registry (referrers API;
// listed through Harbor's API by a project member, for whom the catalog is
// refused). Every case the audit tells apart is built with the library (see
// audit-fixture.ts), then the library's report, the CLI's exit codes, its
// JSON and a trust policy are checked against what was built.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditRegistry, type AuditOptions, type AuditReport } from '../../src/flows/audit.js';
import { auditVersion } from '../../src/flows/audit-version.js';
import { VersionNotFoundError } from '../../src/errors.js';
import { RegistryClient } from '../../src/oci/client.js';
import { harborApiAuth, harborBasicAllowed, listCatalog } from '../../src/oci/catalog.js';
import { digestOf } from '../../src/oci/digest.js';
import { HELM_CHART_LAYER, HELM_CONFIG, OCI_MANIFEST } from '../../src/oci/helm-media.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../src/oci/provenance-artifact.js';
import type { Repository } from '../../src/oci/repository.js';
import type { TrustRequirement } from '../../src/policy/types.js';
import { runCli } from '../peers/cli.js';
import { startEmbedded, type Creds, type EmbeddedRegistry } from '../peers/embedded.js';
import { keyFile } from '../peers/paths.js';
import { startDockerRegistry, type DockerRegistry } from '../peers/registry.js';
import { tempDir } from '../peers/tmp.js';
import { EXPECTED, loseBlob, makeAuditCharts, populate, type AuditCharts } from './audit-fixture.js';

const KEYRINGS = [keyFile('john-pubring.gpg'), keyFile('jane-pubring.gpg')];

let work: string;
let cleanup: () => Promise<void>;
let charts: AuditCharts;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-audit-'));
  charts = await makeAuditCharts(work);
});
after(() => cleanup?.());

interface Target {
  name: string;
  listing: string;
  ref: 'referrer' | 'fallback-tag';
  host: () => string;
  /** Who audits: a project member on the embedded registry, anonymous on docker-registry. */
  auditor: () => Creds | undefined;
  env: (who?: Creds) => NodeJS.ProcessEnv;
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

let dr: DockerRegistry;
let emb: EmbeddedRegistry;
let member: Creds;
let outsider: Creds;
const targets: Target[] = [
  {
    name: 'docker-registry 2.8 (catalog, fallback tag)',
    listing: 'catalog',
    ref: 'fallback-tag',
    host: () => dr.host,
    auditor: () => undefined,
    env: () => ({}),
    start: async () => {
      dr = await startDockerRegistry();
      await populate(dr.host, charts, { plainHttp: true });
      await loseBlob(dr.storageDir, await readFile(charts.deltaProv, 'utf8'));
    },
    stop: async () => dr?.stop(),
  },
  {
    name: 'embedded registry (Harbor API, referrers API)',
    listing: 'harbor-api',
    ref: 'referrer',
    host: () => emb.host,
    auditor: () => member,
    env: (who = member) => ({ CHARTPROV_USERNAME: who.username, CHARTPROV_PASSWORD: who.password, CHARTPROV_REGISTRY: emb.host }),
    start: async () => {
      emb = await startEmbedded({ projects: ['charts'] });
      member = await emb.addUser('auditor', { roles: { charts: 'guest' } });
      outsider = await emb.addUser('outsider');
      await populate(emb.host, charts, { plainHttp: true, clientOptions: { credential: emb.admin } });
      await loseBlob(emb.dataDir, await readFile(charts.deltaProv, 'utf8'));
    },
    stop: async () => emb?.stop(),
  },
];

function byKey(report: AuditReport): Map<string, AuditReport['versions'][number]> {
  return new Map(report.versions.map((v) => [`${v.repository}@${v.version}`, v]));
}

for (const t of targets) {
  describe(`audit against ${t.name}`, () => {
    const lib = (o: Partial<AuditOptions> = {}) => {
      const who = t.auditor();
      return auditRegistry({
        target: `oci://${t.host()}/charts`,
        keyrings: KEYRINGS,
        plainHttp: true,
        ...(who ? { clientOptions: { credential: who } } : {}),
        ...o,
      });
    };
    const cli = (args: string[], who?: Creds) => runCli([...args, '--plain-http'], { env: t.env(who) });

    before(() => t.start());
    after(() => t.stop());

    it('reports every version with its status, sources and signers', async () => {
      const report = await lib();
      assert.equal(report.listing, t.listing);
      const rows = byKey(report);
      assert.deepEqual([...rows.keys()].sort(), Object.keys(EXPECTED).sort());
      for (const [key, want] of Object.entries(EXPECTED)) {
        const row = rows.get(key)!;
        assert.equal(row.status, want.status, `${key}: ${JSON.stringify(row.error ?? row.signatures)}`);
        const sources = row.signatures.map((s) => s.source).sort();
        assert.deepEqual(sources, want.sources.map((s) => (s === 'REF' ? t.ref : s)).sort(), key);
      }
      assert.deepEqual(report.summary, {
        repositories: 5,
        total: 8,
        signed: 5,
        unsigned: 1,
        valid: 3,
        invalid: 1,
        unknownKey: 1,
        notAChart: 1,
        errors: 1,
        violations: 3,
      });
      assert.equal(report.ok, false);

      const both = rows.get('charts/alpha@1.2.0')!;
      assert.deepEqual(both.signatures.map((s) => s.signer?.userId).sort(), [
        'Jane Other <jane@example.com>',
        'John The Signer <john@example.com>',
      ]);
      assert.ok(both.signatures.every((s) => s.valid && /^[0-9A-F]{40}$/.test(s.signer!.fingerprint!)));
      assert.equal(both.policy?.allowed, true);
      assert.equal(rows.get('charts/alpha@1.1.0')!.signatures[0]!.signer?.userId, 'Jane Other <jane@example.com>');
      const tampered = rows.get('charts/beta@0.2.0')!;
      assert.equal(tampered.signatures[0]!.error?.code, 'SIGNATURE_INVALID');
      assert.equal(tampered.policy?.allowed, false);
      const unknown = rows.get('charts/gamma@1.0.0')!.signatures[0]!;
      assert.equal(unknown.error?.code, 'SIGNER_UNKNOWN');
      assert.ok(charts.eve.fingerprint.endsWith(unknown.signer!.keyId!), 'the claimed key id is shown');
      assert.match(rows.get('charts/beta@0.1.0')!.policy!.reason, /unsigned/);
      assert.equal(rows.get('charts/delta@1.0.0')!.error?.code, 'REGISTRY_ERROR');
      assert.equal(rows.get('charts/webapp@1.0.0')!.error?.code, 'NOT_A_CHART_ARTIFACT');
      assert.equal(rows.get('charts/webapp@1.0.0')!.policy, undefined);
      // Fallback tags are not versions.
      assert.ok(report.versions.every((v) => !v.tag.startsWith('sha256-')));
    });

    it('applies a trust policy per repository pattern', async () => {
      const policy = join(work, `policy-${t.ref}.yaml`);
      await writeFile(
        policy,
        [
          'version: 1',
          'keyrings:',
          `  john: ${JSON.stringify(keyFile('john-pubring.gpg'))}`,
          `  jane: ${JSON.stringify(keyFile('jane-pubring.gpg'))}`,
          'defaults:',
          '  signers: [john, jane]',
          'rules:',
          '  - repositories: ["charts/alpha"]',
          '    signers: [john]',
          '  - repositories: ["charts/beta", "charts/delta"]',
          '    allowUnsigned: true',
          '',
        ].join('\n'),
      );
      const report = await lib({ policyFile: policy, keyrings: undefined });
      const verdict = (key: string) => byKey(report).get(key)!.policy?.allowed;
      assert.equal(verdict('charts/alpha@1.0.0'), true, 'John signed');
      assert.equal(verdict('charts/alpha@1.1.0'), false, 'only Jane signed, and only John may');
      assert.equal(verdict('charts/alpha@1.2.0'), true, 'John signed too');
      assert.equal(verdict('charts/beta@0.1.0'), true, 'unsigned is allowed there');
      assert.equal(verdict('charts/beta@0.2.0'), false, 'tampering is never allowed');
      assert.equal(verdict('charts/gamma@1.0.0'), false, 'unknown signer under the defaults');
      assert.equal(report.summary.violations, 3);
      assert.equal(report.policy, policy);
      const alpha11 = byKey(report).get('charts/alpha@1.1.0')!;
      assert.match(alpha11.policy!.rule, /rules\[0\]/);
      assert.equal(alpha11.signatures[0]!.counted, false);
    });

    it('CLI: exit 1 with violations, JSON shape; exit 0 when everything passes', async () => {
      const keyArgs = KEYRINGS.flatMap((k) => ['--keyring', k]);
      const html = join(work, `report-${t.ref}.html`);
      const all = await cli(['audit', `oci://${t.host()}/charts`, ...keyArgs, '-o', 'json', '--html', html]);
      assert.equal(all.code, 1, all.stderr);
      const json = JSON.parse(all.stdout) as AuditReport;
      assert.equal(json.summary.total, 8);
      assert.equal(json.ok, false);
      assert.equal(json.listing, t.listing);
      for (const v of json.versions) {
        assert.equal(typeof v.repository, 'string');
        assert.equal(typeof v.reference, 'string');
        assert.ok(Array.isArray(v.signatures));
      }
      const page = await readFile(html, 'utf8');
      assert.match(page, /^<!doctype html>/);
      assert.match(page, /data-count="violations"><span class="n">3</);
      assert.deepEqual(
        (await readdir(work)).filter((f) => f.endsWith('.tmp')),
        [],
        'no temp file left',
      );

      const text = await cli(['audit', `oci://${t.host()}/charts`, ...keyArgs]);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /^REPOSITORY\s+VERSION\s+STATUS\s+SOURCES\s+SIGNERS\s+POLICY$/m);
      assert.match(text.stdout, /charts\/beta\s+0\.1\.0\s+unsigned\s+-\s+-\s+VIOLATION: unsigned/);
      assert.match(
        text.stdout,
        /8 versions in 5 repositories: 5 signed \(3 valid, 1 invalid, 1 unknown key\), 1 unsigned, 1 not a chart, 1 error; 3 policy violations — FAIL/,
      );

      const alpha = await cli(['audit', `oci://${t.host()}/charts/alpha`, ...keyArgs]);
      assert.equal(alpha.code, 0, alpha.stdout + alpha.stderr);
      assert.match(alpha.stdout, /3 versions in 1 repository: 3 signed \(3 valid.*PASS/);
      const one = await cli(['audit', `oci://${t.host()}/charts/beta:0.1.0`, ...keyArgs, '-o', 'json']);
      assert.equal(one.code, 1);
      assert.deepEqual(
        (JSON.parse(one.stdout) as AuditReport).versions.map((v) => v.status),
        ['unsigned'],
      );
    });

    it('a chart pushed without the title/version annotations: name and version come from its config', async () => {
      const admin = t.listing === 'harbor-api' ? emb.admin : undefined;
      const client = await RegistryClient.create({ plainHttp: true, ...(admin ? { credential: admin } : {}) });
      try {
        const repo = client.repository(t.host(), 'charts/alpha');
        const manifest = JSON.parse((await repo.fetchManifest('1.0.0')).bytes.toString('utf8')) as { annotations?: unknown };
        delete manifest.annotations;
        await repo.pushManifest('1.0.0-bare', Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
      } finally {
        await client.close();
      }
      const report = await lib({ target: `oci://${t.host()}/charts/alpha:1.0.0-bare` });
      assert.equal(report.versions.length, 1);
      const row = report.versions[0]!;
      assert.equal(row.status, 'valid', JSON.stringify(row));
      assert.deepEqual(row.chart, { name: 'alpha', version: '1.0.0' });
      assert.equal(row.version, '1.0.0-bare');
    });

    if (t.listing === 'harbor-api') {
      it('a project member lists through the Harbor API; the catalog is refused to them', async () => {
        const client = await RegistryClient.create({ plainHttp: true, credential: member });
        try {
          await assert.rejects(listCatalog(client, emb.host), (err: Error & { code?: string }) => err.code === 'REGISTRY_DENIED');
        } finally {
          await client.close();
        }
      });

      it('both listings refused: REPOSITORY_LIST_REFUSED with a hint; one repository named still works', async () => {
        const refused = await cli(['audit', `oci://${emb.host}/charts`, '--keyring', KEYRINGS[0]!], outsider);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /error\[REPOSITORY_LIST_REFUSED\]: cannot list the repositories of .*charts/);
        assert.match(refused.stderr, /hint: name the repositories one at a time/);
        const given = await lib({ target: `oci://${emb.host}/charts/alpha`, clientOptions: { credential: outsider } });
        assert.equal(given.listing, 'given');
        assert.equal(given.summary.errors, 1, 'the outsider may not read its tags: one error row');
        const member = await lib({ target: `oci://${emb.host}/charts/alpha` });
        assert.equal(member.listing, 'harbor-api');
        assert.equal(member.ok, true);
      });
    }
  });
}

// ---- registries that are not what they seem, made up on the spot (plain HTTP on 127.0.0.1)

interface Seen {
  method: string;
  path: string;
  last: string | null;
  authorization?: string;
}

interface Fake {
  host: string;
  seen: Seen[];
  close: () => Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

async function fakeServer(handler: Handler): Promise<Fake> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    seen.push({
      method: req.method ?? '',
      path: url.pathname,
      last: url.searchParams.get('last'),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    Promise.resolve(handler(req, res, url)).catch((err: Error) => {
      res.writeHead(500);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers });
  res.end(bytes);
}

/** Distribution's catalog: sorted, `n`/`last`, Link; `strictLast` answers 400 to a `last` it does not hold (as Harbor). */
function catalogRoute(names: string[], opts: { strictLast?: boolean } = {}): Handler {
  const sorted = [...names].sort();
  return (_req, res, url) => {
    const last = url.searchParams.get('last');
    if (last !== null && opts.strictLast && !sorted.includes(last)) return sendJson(res, 400, { errors: [{ code: 'BAD_REQUEST' }] });
    const after = last === null ? sorted : sorted.filter((n) => n > last);
    const n = Number(url.searchParams.get('n') ?? after.length);
    const page = after.slice(0, n);
    const more = after.length > page.length && page.length > 0;
    sendJson(
      res,
      200,
      { repositories: page },
      more ? { link: `</v2/_catalog?n=${n}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"` } : {},
    );
  };
}

/**
 * A plain distribution registry behind a web app that answers 200 and a page
 * to every other path (as a single-page app does): not Harbor, whatever
 * /api/v2.0 seems to answer.
 */
function notHarbor(names: string[], onTags?: () => Promise<void>): Handler {
  const catalog = catalogRoute(names);
  return async (req, res, url) => {
    if (url.pathname === '/v2/') return sendJson(res, 200, {});
    if (url.pathname === '/v2/_catalog') return catalog(req, res, url);
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (tags) {
      await onTags?.();
      return sendJson(res, 200, { name: tags[1], tags: [] });
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>some app</title>');
  };
}

const ROBOT = { username: 'robot', password: 'reg-secret' };

describe('audit: Harbor credentials only to Harbor, over https or to this machine', () => {
  it('the https-or-loopback rule (no network)', async () => {
    for (const url of [
      'https://registry.example.com',
      'https://10.0.0.5:5000',
      'http://127.0.0.1:5000',
      'http://127.8.9.10',
      'http://localhost:5000',
      'http://[::1]:5000',
    ])
      assert.equal(harborBasicAllowed(new URL(url)), true, url);
    for (const url of [
      'http://registry.example.com:5000',
      'http://10.0.0.5',
      'http://127.0.0.1.nip.io',
      'http://localhost.example.com',
      'http://[::2]:5000',
    ])
      assert.equal(harborBasicAllowed(new URL(url)), false, url);
    // harborApiAuth arms nothing for plain HTTP to another host.
    const client = await RegistryClient.create({ plainHttp: true, credential: ROBOT });
    try {
      assert.equal(await harborApiAuth(client, 'registry.example.com:5000'), false);
      assert.equal(await client.http.auth.headerFor('registry.example.com:5000', []), undefined);
      assert.equal(await harborApiAuth(client, '127.0.0.1:5000'), true);
    } finally {
      await client.close();
    }
  });

  it('a plain-HTTP registry that is not Harbor gets no Authorization on /api/v2.0 (library and CLI)', async () => {
    const fake = await fakeServer(notHarbor(['other/x', 'proj/a', 'proj/b']));
    try {
      const report = await auditRegistry({
        target: `oci://${fake.host}/proj`,
        keyrings: KEYRINGS,
        plainHttp: true,
        clientOptions: { credential: ROBOT },
      });
      const noCredentials = () =>
        assert.deepEqual(
          fake.seen.filter((r) => r.path.startsWith('/api/') && r.authorization),
          [],
          'no credentials to /api/v2.0',
        );
      noCredentials();
      assert.equal(report.listing, 'catalog');
      assert.equal(report.summary.repositories, 2);
      assert.ok(
        report.notes.some((n) => /Harbor API: no Harbor API/.test(n)),
        report.notes.join('; '),
      );
      const cli = await runCli(['audit', `oci://${fake.host}/proj`, '--plain-http', '--keyring', KEYRINGS[0]!, '-o', 'json'], {
        env: { CHARTPROV_USERNAME: ROBOT.username, CHARTPROV_PASSWORD: ROBOT.password, CHARTPROV_REGISTRY: fake.host },
      });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal((JSON.parse(cli.stdout) as AuditReport).listing, 'catalog');
      const api = fake.seen.filter((r) => r.path.startsWith('/api/'));
      assert.ok(api.length >= 2, 'asked systeminfo, once per run');
      noCredentials();
      assert.ok(
        api.every((r) => r.path === '/api/v2.0/systeminfo'),
        'only the anonymous probe',
      );
    } finally {
      await fake.close();
    }
  });

  it('a registry that answers as Harbor (loopback): probe without credentials, then Basic to its API', async () => {
    const catalog = catalogRoute(['proj/a']);
    const fake = await fakeServer((req, res, url) => {
      if (url.pathname === '/api/v2.0/systeminfo') return sendJson(res, 200, { auth_mode: 'db_auth', self_registration: false });
      if (url.pathname === '/api/v2.0/projects/proj/repositories') {
        if (!req.headers.authorization) return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
        return sendJson(res, 200, [{ name: 'proj/a' }, { name: 'proj/b' }], { 'x-total-count': '2' });
      }
      if (url.pathname === '/v2/_catalog') return catalog(req, res, url);
      const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
      if (tags) return sendJson(res, 200, { name: tags[1], tags: [] });
      return sendJson(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
    });
    try {
      const report = await auditRegistry({
        target: `oci://${fake.host}/proj`,
        keyrings: KEYRINGS,
        plainHttp: true,
        clientOptions: { credential: ROBOT },
      });
      assert.equal(report.listing, 'harbor-api', report.notes.join('; '));
      assert.equal(report.summary.repositories, 2);
      const probe = fake.seen.find((r) => r.path === '/api/v2.0/systeminfo');
      assert.ok(probe && !probe.authorization, 'the probe carries no credentials');
      const list = fake.seen.find((r) => r.path === '/api/v2.0/projects/proj/repositories');
      assert.equal(list?.authorization, `Basic ${Buffer.from('robot:reg-secret').toString('base64')}`);
      assert.ok(fake.seen.indexOf(probe) < fake.seen.indexOf(list!));
    } finally {
      await fake.close();
    }
  });
});

describe('audit: bounded work', () => {
  const aaa = Array.from({ length: 2500 }, (_, i) => `aaa/${String(i).padStart(4, '0')}`);
  const zzz = Array.from({ length: 2500 }, (_, i) => `zzz/${String(i).padStart(4, '0')}`);
  const names = [...aaa, 'charts', 'charts-old/y', 'charts/a', 'charts/b/c', 'charts0/q', ...zzz];

  it('the catalog starts at the prefix and stops past it', async () => {
    const fake = await fakeServer(catalogRoute(names));
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      assert.deepEqual(await listCatalog(client, fake.host, { prefix: 'charts' }), ['charts', 'charts/a', 'charts/b/c']);
      assert.equal(fake.seen.length, 1, 'one page: nothing before the prefix, nothing after it');
      assert.equal(fake.seen[0]!.last, 'chart');
      // Without a prefix: every page.
      fake.seen.length = 0;
      assert.equal((await listCatalog(client, fake.host)).length, names.length);
      assert.equal(fake.seen.length, 6);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('a catalog that refuses a `last` it does not hold (Harbor) is read from the top', async () => {
    const fake = await fakeServer(catalogRoute(names, { strictLast: true }));
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      assert.deepEqual(await listCatalog(client, fake.host, { prefix: 'charts' }), ['charts', 'charts/a', 'charts/b/c']);
      assert.deepEqual(
        fake.seen.map((r) => r.last),
        ['chart', null, 'aaa/0999', 'aaa/1999'],
        'from the top, and no further than the prefix',
      );
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('more names than the cap: an error, not a silent part', async () => {
    const fake = await fakeServer(catalogRoute(names));
    const client = await RegistryClient.create({ plainHttp: true });
    try {
      await assert.rejects(
        listCatalog(client, fake.host, { maxNames: 1500 }),
        (err: Error & { code?: string }) => err.code === 'REGISTRY_ERROR' && /more than 1500 repositories/.test(err.message),
      );
      assert.equal(fake.seen.length, 2, 'stops at the page that crosses the cap');
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('a version with many referrers reads at most 8 of them at once', async () => {
    const config = Buffer.from('{}');
    const layer = Buffer.from('chart');
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: HELM_CONFIG, digest: digestOf(config), size: config.length },
        layers: [{ mediaType: HELM_CHART_LAYER, digest: digestOf(layer), size: layer.length }],
        annotations: { 'org.opencontainers.image.title': 'many', 'org.opencontainers.image.version': '1.0.0' },
      }),
    );
    const referrers = Array.from({ length: 40 }, (_, i) => ({
      mediaType: OCI_MANIFEST,
      artifactType: PROVENANCE_ARTIFACT_TYPE,
      digest: digestOf(Buffer.from(`referrer ${i}`)),
      size: 100,
    }));
    let inFlight = 0;
    let most = 0;
    let read = 0;
    const repo = {
      client: {},
      registry: 'stub.example',
      name: 'charts/many',
      toString: () => 'stub.example/charts/many',
      probeReferrers: async () => 'supported' as const,
      fetchReferrersIndex: async () => ({ manifests: referrers, filtered: true }),
      fetchManifest: async (reference: string) => {
        if (reference === '1.0.0') return { digest: digestOf(manifest), bytes: manifest, mediaType: OCI_MANIFEST };
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inFlight--;
        read++;
        throw new VersionNotFoundError(`${reference} is gone`);
      },
    } as unknown as Repository;
    const requirement: TrustRequirement = { rule: 'defaults', keys: [], requireSigners: 1, allowUnsigned: true };
    const row = await auditVersion(
      {
        repo,
        tags: new Set(['1.0.0']),
        requirement,
        judge: () => ({ allowed: true, rule: 'defaults', reason: 'unsigned allowed', signers: [], signatures: [] }),
      },
      '1.0.0',
    );
    assert.equal(row.status, 'unsigned', JSON.stringify(row.error));
    assert.equal(read, 40);
    assert.ok(most <= 8 && most > 1, `at most 8 at once, in parallel: ${most}`);
  });
});

describe('audit --html: the destination', () => {
  it('a missing folder fails before any request', async () => {
    const fake = await fakeServer(notHarbor(['proj/a']));
    try {
      const out = join(work, 'no-such-folder', 'report.html');
      const res = await runCli(['audit', `oci://${fake.host}/proj`, '--plain-http', '--keyring', KEYRINGS[0]!, '--html', out]);
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /error\[FILE_NOT_FOUND\]: destination folder not found: .*no-such-folder/);
      assert.match(res.stderr, /hint: create the folder first/);
      assert.equal(fake.seen.length, 0, 'no network before the check');
      const folder = await runCli(['audit', `oci://${fake.host}/proj`, '--plain-http', '--keyring', KEYRINGS[0]!, '--html', work]);
      assert.match(folder.stderr, /error\[FILE_WRITE_FAILED\]/);
      assert.equal(fake.seen.length, 0);
    } finally {
      await fake.close();
    }
  });

  it('a page that cannot be written at the end: the report is still printed, then the error', async () => {
    const folder = join(work, 'vanishing');
    const fake = await fakeServer(notHarbor(['proj/a'], () => rm(folder, { recursive: true, force: true })));
    try {
      for (const json of [false, true]) {
        await mkdir(folder, { recursive: true });
        const res = await runCli([
          'audit',
          `oci://${fake.host}/proj`,
          '--plain-http',
          '--keyring',
          KEYRINGS[0]!,
          '--html',
          join(folder, 'report.html'),
          ...(json ? ['-o', 'json'] : []),
        ]);
        assert.equal(res.code, 1, res.stderr);
        assert.match(res.stderr, /error\[FILE_NOT_FOUND\]: destination folder not found/);
        if (json) assert.equal((JSON.parse(res.stdout) as AuditReport).summary.repositories, 1, 'one JSON document: the report');
        else assert.match(res.stdout, /0 versions in 1 repository: .* — PASS/);
      }
    } finally {
      await fake.close();
    }
  });
});
