// chartprov audit against both kinds of registry: docker-registry 2.8 (no
// referrers API: signatures attached later live under the fallback tag; the
// catalog lists repositories) and the embedded registry (referrers API;
// listed through Harbor's API by a project member, for whom the catalog is
// refused). Every case the audit tells apart is built with the library (see
// audit-fixture.ts), then the library's report, the CLI's exit codes, its
// JSON and a trust policy are checked against what was built.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditRegistry, type AuditOptions, type AuditReport } from '../../src/flows/audit.js';
import { RegistryClient } from '../../src/oci/client.js';
import { listCatalog } from '../../src/oci/catalog.js';
import { OCI_MANIFEST } from '../../src/oci/helm-media.js';
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
