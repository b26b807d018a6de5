import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ChartMetadata } from '../../src/chart/metadata-types.js';
import { NotAChartArtifactError } from '../../src/errors.js';
import { descriptorOf } from '../../src/oci/descriptor.js';
import {
  descriptorJson,
  formatRfc3339,
  helmConfigJson,
  helmManifestAnnotations,
  helmManifestJson,
  parseHelmManifest,
} from '../../src/oci/helm-artifact.js';
import {
  HELM_CHART_LAYER,
  HELM_CONFIG,
  HELM_LEGACY_CHART_LAYER,
  HELM_PROV_LAYER,
  MANIFEST_ACCEPT,
  OCI_EMPTY_BYTES,
  OCI_EMPTY_CONFIG,
} from '../../src/oci/helm-media.js';
import { sharedFixtures } from '../peers/paths.js';

const fixture = (...p: string[]) => readFileSync(join(sharedFixtures, ...p));

const HELLO: ChartMetadata = {
  apiVersion: 'v2',
  name: 'hello-world',
  description: 'A Helm chart for Kubernetes',
  type: 'application',
  version: '0.1.0',
  appVersion: '1.16.0',
};
const CREATED = '2026-11-25T07:57:03Z';

describe('helm push blobs, byte for byte', () => {
  for (const helm of ['helm3', 'helm4']) {
    it(`config and manifest equal ${helm}'s`, () => {
      const configJson = helmConfigJson(HELLO);
      assert.equal(configJson, fixture('oci', `${helm}-config.json`).toString('utf8'));
      const config = descriptorOf(HELM_CONFIG, configJson);
      const chart = descriptorOf(HELM_CHART_LAYER, fixture(helm, 'hello-world-0.1.0.tgz'));
      const prov = descriptorOf(HELM_PROV_LAYER, fixture(helm, 'hello-world-0.1.0.tgz.prov'));
      const annotations = helmManifestAnnotations(HELLO, { created: CREATED });
      const manifest = helmManifestJson({ config, chart, prov, annotations });
      assert.equal(manifest, fixture('oci', `${helm}-manifest.json`).toString('utf8'));
      // The same with a Date for created.
      assert.equal(
        helmManifestJson({ config, chart, prov, annotations: helmManifestAnnotations(HELLO, { created: new Date(CREATED) }) }),
        manifest,
      );
    });
  }

  it('sorts layers by digest, so a .prov can come first', () => {
    const config = descriptorOf(HELM_CONFIG, '{}');
    const chart = { mediaType: HELM_CHART_LAYER, digest: `sha256:${'f'.repeat(64)}`, size: 10 };
    const prov = { mediaType: HELM_PROV_LAYER, digest: `sha256:${'0'.repeat(64)}`, size: 5 };
    const json = JSON.parse(helmManifestJson({ config, chart, prov }));
    assert.deepEqual(
      json.layers.map((l: { mediaType: string }) => l.mediaType),
      [HELM_PROV_LAYER, HELM_CHART_LAYER],
    );
    assert.equal('annotations' in json, false, 'empty annotations are omitted');
    assert.equal(
      helmManifestJson({ config, chart }),
      `{"schemaVersion":2,"config":${descriptorJson(config)},"layers":[${descriptorJson(chart)}]}`,
    );
  });

  it('descriptor fields in image-spec order', () => {
    const d = { artifactType: 'a/b', annotations: { z: '1', a: '<' }, size: 2, digest: OCI_EMPTY_CONFIG.digest, mediaType: 'x/y' };
    assert.equal(
      descriptorJson(d),
      `{"mediaType":"x/y","digest":"${OCI_EMPTY_CONFIG.digest}","size":2,"annotations":{"a":"\\u003c","z":"1"},"artifactType":"a/b"}`,
    );
    assert.deepEqual(descriptorOf(OCI_EMPTY_CONFIG.mediaType, OCI_EMPTY_BYTES), OCI_EMPTY_CONFIG);
  });
});

describe('helmConfigJson: Go json.Marshal of chart.Metadata', () => {
  it('field order of the Go struct, not alphabetical', () => {
    const md: ChartMetadata = {
      type: 'library',
      dependencies: [
        {
          name: 'dep',
          version: '1.0.0',
          repository: 'oci://r/c',
          alias: 'd',
          'import-values': ['a'],
          enabled: true,
          tags: ['t'],
          condition: 'c.enabled',
        },
      ],
      kubeVersion: '>=1.20.0',
      annotations: { 'z.io/b': '2', 'a.io/a': '1', '10': 'ten', '9': 'nine' },
      deprecated: true,
      appVersion: '2.0',
      tags: 'legacy',
      condition: 'x.enabled',
      apiVersion: 'v2',
      icon: 'https://i/x.png',
      maintainers: [{ url: 'https://u', email: 'e@x', name: 'N' }],
      keywords: ['k1', 'k2'],
      description: 'd',
      version: '1.0.0',
      sources: ['https://s'],
      home: 'https://h',
      name: 'all',
    };
    assert.equal(
      helmConfigJson(md),
      '{"name":"all","home":"https://h","sources":["https://s"],"version":"1.0.0","description":"d","keywords":["k1","k2"],' +
        '"maintainers":[{"name":"N","email":"e@x","url":"https://u"}],"icon":"https://i/x.png","apiVersion":"v2","condition":"x.enabled",' +
        '"tags":"legacy","appVersion":"2.0","deprecated":true,"annotations":{"10":"ten","9":"nine","a.io/a":"1","z.io/b":"2"},' +
        '"kubeVersion":"\\u003e=1.20.0","dependencies":[{"name":"dep","version":"1.0.0","repository":"oci://r/c","condition":"c.enabled",' +
        '"tags":["t"],"enabled":true,"import-values":["a"],"alias":"d"}],"type":"library"}',
    );
  });
  it('omitempty, except a dependency name and repository', () => {
    const md: ChartMetadata = {
      ...HELLO,
      home: '',
      sources: [],
      keywords: [],
      maintainers: [{ name: 'Only Name' }, { email: 'only@mail' }],
      deprecated: false,
      annotations: {},
      dependencies: [{ name: 'sub' }],
    };
    assert.equal(
      helmConfigJson(md),
      '{"name":"hello-world","version":"0.1.0","description":"A Helm chart for Kubernetes","maintainers":[{"name":"Only Name"},{"email":"only@mail"}],' +
        '"apiVersion":"v2","appVersion":"1.16.0","dependencies":[{"name":"sub","repository":""}],"type":"application"}',
    );
  });
  it("Go's string escaping: HTML characters, U+2028/9, control characters", () => {
    const md: ChartMetadata = {
      ...HELLO,
      description: 'a <b> & "c" \\ é 😀',
      annotations: { 'x<y': 'line\nbreak\ttab\u2028sep\u2029\u0001\u007f\b\f\r' },
    };
    const json = helmConfigJson(md);
    assert.ok(json.includes('"description":"a \\u003cb\\u003e \\u0026 \\"c\\" \\\\ é 😀"'), json);
    assert.ok(json.includes('"annotations":{"x\\u003cy":"line\\nbreak\\ttab\\u2028sep\\u2029\\u0001\u007f\\b\\f\\r"}'), json);
    assert.deepEqual(JSON.parse(json).annotations, md.annotations);
  });
  it('sanitizes strings as Helm’s Validate does (but not annotation values)', () => {
    const json = JSON.parse(helmConfigJson({ ...HELLO, description: 'two\nlines\u0007', annotations: { a: 'x\ny' } }));
    assert.equal(json.description, 'two lines');
    assert.equal(json.annotations.a, 'x\ny');
  });
  it('map keys sorted by UTF-8 bytes', () => {
    const json = helmConfigJson({ ...HELLO, annotations: { '\uff5e': '1', '😀': '2', b: '3', B: '4' } });
    assert.ok(json.includes('"annotations":{"B":"4","b":"3","\uff5e":"1","😀":"2"}'), json);
  });
  it('import-values maps are sorted too', () => {
    const md = { ...HELLO, dependencies: [{ name: 'd', 'import-values': [{ parent: 'p', child: 'c' }, 'x'] }] } as ChartMetadata;
    assert.ok(helmConfigJson(md).includes('"import-values":[{"child":"c","parent":"p"},"x"]'));
  });
});

describe('helmManifestAnnotations: generateOCIAnnotations', () => {
  it('from the metadata fields', () => {
    const md: ChartMetadata = {
      ...HELLO,
      home: 'https://home',
      sources: ['https://src/1', 'https://src/2'],
      maintainers: [{ name: 'Ann', email: 'ann@x' }, { name: 'Bob' }, { email: 'c@x' }],
    };
    assert.deepEqual(helmManifestAnnotations(md, { created: CREATED }), {
      'org.opencontainers.image.description': 'A Helm chart for Kubernetes',
      'org.opencontainers.image.title': 'hello-world',
      'org.opencontainers.image.version': '0.1.0',
      'org.opencontainers.image.url': 'https://home',
      'org.opencontainers.image.created': CREATED,
      'org.opencontainers.image.source': 'https://src/1',
      'org.opencontainers.image.authors': 'Ann (ann@x), Bob,  (c@x)',
    });
  });
  it('chart annotations override all but title and version, even when empty', () => {
    const md: ChartMetadata = {
      ...HELLO,
      annotations: {
        'org.opencontainers.image.title': 'nope',
        'org.opencontainers.image.version': '9.9.9',
        'org.opencontainers.image.description': 'from annotations',
        'org.opencontainers.image.created': '2000-01-01T00:00:00Z',
        'org.opencontainers.image.url': '',
        'example.com/x': 'y',
      },
    };
    assert.deepEqual(helmManifestAnnotations(md, { created: CREATED }), {
      'org.opencontainers.image.description': 'from annotations',
      'org.opencontainers.image.title': 'hello-world',
      'org.opencontainers.image.version': '0.1.0',
      'org.opencontainers.image.created': '2000-01-01T00:00:00Z',
      'org.opencontainers.image.url': '',
      'example.com/x': 'y',
    });
  });
  it('blank values are left out, kept ones are not trimmed', () => {
    const a = helmManifestAnnotations({ ...HELLO, description: '  ', home: ' https://h ' }, { created: CREATED });
    assert.equal('org.opencontainers.image.description' in a, false);
    assert.equal(a['org.opencontainers.image.url'], ' https://h ');
  });
  it('created: now in UTC when not given, RFC3339 whole seconds', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const created = helmManifestAnnotations(HELLO)['org.opencontainers.image.created']!;
    assert.match(created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Date.parse(created) >= before);
    assert.equal(helmManifestAnnotations(HELLO, { created: '' })['org.opencontainers.image.created']!.endsWith('Z'), true);
  });
  it('formatRfc3339 like Go, with a zone offset', () => {
    const d = new Date('2026-11-25T07:57:03.987Z');
    assert.equal(formatRfc3339(d), '2026-11-25T07:57:03Z');
    assert.equal(formatRfc3339(d, 60), '2026-11-25T08:57:03+01:00');
    assert.equal(formatRfc3339(d, -330), '2026-11-25T02:27:03-05:30');
  });
  it('a __proto__ annotation stays data', () => {
    const md = { ...HELLO, annotations: JSON.parse('{"__proto__":"x"}') } as ChartMetadata;
    const a = helmManifestAnnotations(md, { created: CREATED });
    assert.equal(Object.getPrototypeOf(a), Object.prototype);
    assert.ok(Object.hasOwn(a, '__proto__'));
  });
});

describe('parseHelmManifest', () => {
  const manifest = fixture('oci', 'helm3-manifest.json');
  const base = JSON.parse(manifest.toString('utf8'));
  const withChanges = (change: (m: Record<string, any>) => void): string => {
    const m = structuredClone(base);
    change(m);
    return JSON.stringify(m);
  };
  function assertNotChart(json: string, part: string): void {
    assert.throws(
      () => parseHelmManifest(json),
      (err: unknown) => {
        assert.ok(err instanceof NotAChartArtifactError, String(err));
        assert.ok(err.message.includes(part), `${err.message} should say ${part}`);
        return true;
      },
    );
  }

  it("reads helm push's manifest", () => {
    const m = parseHelmManifest(manifest);
    assert.equal(m.config.mediaType, HELM_CONFIG);
    assert.equal(m.chart.digest, 'sha256:19665ccdab7b4d35f9a3e1ef742bc13e856adffb92de3698ac06ebfadca4c3ba');
    assert.equal(m.chart.size, 4926);
    assert.equal(m.prov?.size, 738);
    assert.equal(m.annotations['org.opencontainers.image.title'], 'hello-world');
    assert.equal(m.subject, undefined);
    assert.deepEqual(parseHelmManifest(manifest.toString('utf8')), m);
  });
  it('no prov layer, legacy chart layer, other layers and a subject', () => {
    const m = parseHelmManifest(
      withChanges((x) => {
        x.mediaType = 'application/vnd.oci.image.manifest.v1+json';
        x.layers = [
          { ...x.layers[0], mediaType: HELM_LEGACY_CHART_LAYER },
          { ...x.layers[1], mediaType: 'application/x-other' },
        ];
        x.subject = { ...x.config, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
        delete x.annotations;
      }),
    );
    assert.equal(m.chart.mediaType, HELM_LEGACY_CHART_LAYER);
    assert.equal(m.prov, undefined);
    assert.deepEqual(m.annotations, {});
    assert.equal(m.subject?.digest, base.config.digest);
  });
  it('says what it is instead', () => {
    assertNotChart('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}', 'image index');
    assertNotChart('{"schemaVersion":2,"manifests":[]}', 'image index');
    assertNotChart(
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}',
      'image index',
    );
    assertNotChart('{"schemaVersion":1,"name":"x","fsLayers":[]}', 'schema 1');
    assertNotChart(
      withChanges((x) => (x.config.mediaType = 'application/vnd.oci.image.config.v1+json')),
      'container image',
    );
    assertNotChart(
      withChanges((x) => (x.config.mediaType = 'application/vnd.docker.container.image.v1+json')),
      'container image',
    );
    assertNotChart(
      withChanges((x) => {
        x.config = { ...OCI_EMPTY_CONFIG };
        x.artifactType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
      }),
      'artifact of type application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    assertNotChart(
      withChanges((x) => (x.config.mediaType = 'application/vnd.unknown.config.v1+json')),
      'config type application/vnd.unknown.config.v1+json',
    );
    assertNotChart(
      withChanges((x) => (x.layers = [x.layers[1]])),
      'no chart layer',
    );
    assertNotChart(
      withChanges((x) => x.layers.push({ ...x.layers[0] })),
      '2 chart layers',
    );
    assertNotChart(
      withChanges((x) => x.layers.push({ ...x.layers[1] })),
      '2 provenance layers',
    );
    assertNotChart(
      withChanges((x) => (x.mediaType = 'application/vnd.oci.artifact.manifest.v1+json')),
      'its media type is application/vnd.oci.artifact.manifest.v1+json',
    );
  });
  it('malformed manifests', () => {
    assertNotChart('not json', 'not valid JSON');
    assertNotChart('[]', 'not a JSON object');
    assertNotChart(
      withChanges((x) => (x.schemaVersion = 3)),
      'schemaVersion is 3',
    );
    assertNotChart(
      withChanges((x) => delete x.config),
      'config descriptor is missing',
    );
    assertNotChart(
      withChanges((x) => delete x.layers),
      'no layers',
    );
    assertNotChart(
      withChanges((x) => (x.layers[0].digest = 'sha256:abc')),
      'layer 1 digest "sha256:abc"',
    );
    assertNotChart(
      withChanges((x) => (x.layers[1].size = -1)),
      'layer 2 size -1',
    );
    assertNotChart(
      withChanges((x) => (x.annotations = { a: 1 })),
      'not a map of strings',
    );
  });
});

describe('helm media types', () => {
  it('Accept lists every manifest type we read', () => {
    assert.deepEqual([...MANIFEST_ACCEPT].sort(), [
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
    ]);
  });
});
