// marshalChartMetadata and buildProvenanceMessage against the bytes real
// Helm 3 and Helm 4 sign, for charts full of values the YAML writer has to
// decide something about; plus unit checks that pin yaml.v2's quirks.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCleartextMessage } from 'openpgp';
import { parse as parseYaml } from 'yaml';
import type { ChartMetadata } from '../../src/chart/metadata-types.js';
import { buildProvenanceMessage, marshalChartMetadata, sanitizeString, verifyProvenance } from '../../src/provenance/index.js';
import type { HelmMajor } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { TRICKY_CHARTS } from './charts.js';
import { helmPackageSigned, publicKeys, sha256Hex, writeChart } from './helpers.js';

interface HelmOutput {
  fileName: string;
  sha256: string;
  prov: string;
  /** The signed text as openpgp.js reads it. */
  signedText: string;
}

describe('marshalChartMetadata vs real Helm', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const outputs = new Map<string, Record<HelmMajor, HelmOutput>>();

  before(async () => {
    tmp = await tempDir('chartprov-goyaml-');
    await Promise.all(
      TRICKY_CHARTS.map(async (c) => {
        const src = join(tmp.dir, 'src', c.name);
        await writeChart(src, c.chartYaml, c.dependencies);
        const byMajor = {} as Record<HelmMajor, HelmOutput>;
        await Promise.all(
          ([3, 4] as const).map(async (major) => {
            const tgzPath = await helmPackageSigned(major, src, join(tmp.dir, `out${major}`, c.name));
            const prov = await readFile(`${tgzPath}.prov`, 'utf8');
            const signedText = (await readCleartextMessage({ cleartextMessage: prov })).getText();
            byMajor[major] = { fileName: basename(tgzPath), sha256: sha256Hex(await readFile(tgzPath)), prov, signedText };
          }),
        );
        outputs.set(c.name, byMajor);
      }),
    );
  });
  after(() => tmp?.cleanup());

  for (const chart of TRICKY_CHARTS) {
    it(`${chart.name}: metadata YAML is byte-identical to Helm 4's and Helm 3's`, async () => {
      const md = parseYaml(chart.chartYaml) as ChartMetadata;
      const ours = marshalChartMetadata(md);
      const { 3: h3, 4: h4 } = outputs.get(chart.name)!;
      const metaOf = (t: string): string => t.slice(0, t.indexOf('\n...\n'));
      assert.equal(ours, metaOf(h4.signedText));
      // Observed: Helm 3.17 and 4.1 marshal metadata identically.
      assert.equal(metaOf(h3.signedText), metaOf(h4.signedText));
    });

    it(`${chart.name}: the whole message is what Helm signs, and we verify Helm's prov`, async () => {
      const md = parseYaml(chart.chartYaml) as ChartMetadata;
      const keys = await publicKeys('john');
      for (const major of [3, 4] as const) {
        const h = outputs.get(chart.name)![major];
        const ours = buildProvenanceMessage(md, h.fileName, h.sha256);
        // Helm 3's clearsign leaves the final newline out of the signed text; Helm 4 signs it.
        assert.equal(major === 4 ? ours : ours.replace(/\n$/, ''), h.signedText, `helm ${major}`);
        const r = await verifyProvenance({ provenance: h.prov, fileName: h.fileName, sha256: h.sha256, keys });
        assert.equal(r.metadata.name, md.name);
      }
    });
  }
});

describe('marshalChartMetadata unit behaviour (yaml.v2 quirks)', () => {
  const base = { apiVersion: 'v2', name: 'demo', version: '0.1.0' } as const;

  it('sorts keys naturally, quotes what would not read back as a string, leaves lists unindented', () => {
    const out = marshalChartMetadata({
      ...base,
      appVersion: '1.10',
      kubeVersion: '>=1.20.0-0',
      keywords: ['yes', 'plain', '- dash', 'a: b', ''],
      annotations: { z10: 'x', z9: 'x', z09: 'x', A: 'x', '1': 'x', _u: 'x', 'a/b': 'x' },
      description: 'A Helm chart for Kubernetes',
      type: 'application',
    });
    assert.equal(
      out,
      [
        'annotations:',
        '  _u: x',
        '  "1": x',
        '  A: x',
        '  a/b: x',
        '  z9: x',
        '  z09: x',
        '  z10: x',
        'apiVersion: v2',
        'appVersion: "1.10"',
        'description: A Helm chart for Kubernetes',
        'keywords:',
        '- "yes"',
        '- plain',
        "- '- dash'",
        "- 'a: b'",
        '- ""',
        "kubeVersion: '>=1.20.0-0'",
        'name: demo',
        'type: application',
        'version: 0.1.0',
        '',
      ].join('\n'),
    );
  });

  it('folds long plain strings at the first space past column 80', () => {
    const words = 'This is a very long description of the chart that certainly exceeds eighty columns of text, and it keeps going.';
    assert.equal(
      marshalChartMetadata({ ...base, description: words }),
      'apiVersion: v2\n' +
        'description: This is a very long description of the chart that certainly exceeds eighty\n' +
        '  columns of text, and it keeps going.\n' +
        'name: demo\nversion: 0.1.0\n',
    );
  });

  it('writes multi-line annotation values as literal blocks with the right chomping', () => {
    const out = marshalChartMetadata({ ...base, annotations: { a: 'l1\nl2', b: 'l1\n', c: 'x\n\n', d: 'sp \nx' } });
    assert.equal(
      out,
      'annotations:\n  a: |-\n    l1\n    l2\n  b: |\n    l1\n  c: |+\n    x\n\n  d: "sp \\nx"\napiVersion: v2\nname: demo\nversion: 0.1.0\n',
    );
  });

  it('drops empty fields and unknown keys, keeps name/repository of dependencies, sanitizes like Validate', () => {
    const md = {
      ...base,
      description: 'two\nlines\twith\u200btab',
      deprecated: false,
      keywords: [],
      extra: 'not in helm struct',
      maintainers: [{}],
      dependencies: [{ name: 'sub', enabled: true, 'import-values': [] }],
    } as unknown as ChartMetadata;
    assert.equal(
      marshalChartMetadata(md),
      'apiVersion: v2\ndependencies:\n- enabled: true\n  name: sub\n  repository: ""\ndescription: two lines withtab\nmaintainers:\n- {}\nname: demo\nversion: 0.1.0\n',
    );
    assert.equal(sanitizeString('a\tb\u00a0c\u200bd\u0085e'), 'a b cd e');
  });

  it('escapes characters outside the BMP and unprintables in double quotes', () => {
    const out = marshalChartMetadata({ ...base, annotations: { e: 'smile 😀', c: 'bell\u0007' } });
    assert.match(out, /^ {2}c: "bell\\a"$/m);
    assert.match(out, /^ {2}e: "smile \\U0001F600"$/m);
  });
});
