// Property-based tests of the Go-compatible YAML (Chart.yaml as Helm reads
// and writes it): generated metadata round-trips through our marshalling,
// the real Helm reads our bytes — and any other YAML spelling of them — to
// exactly the bytes we write, Helm's own fixture Chart.yaml comes back byte
// for byte however it is re-spelled, and no text makes the decoder throw
// anything but its own errors. fast-check prints the seed of a failure.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify, type ToStringOptions } from 'yaml';
import { GoYamlError, decodeGoYaml, decodeGoYamlAll } from '../../src/chart/go-yaml-decode.js';
import { marshalChartYaml, marshalMetadata, normalizeMetadata, parseChartYaml, type ChartMetadata } from '../../src/chart/index.js';
import { ChartYamlError, ChartprovError } from '../../src/errors.js';
import { parseProvenance } from '../../src/provenance/index.js';
import { runHelm } from '../peers/helm.js';
import { tempDir } from '../peers/tmp.js';
import { tgzContents } from '../chart/support.js';
import { goldenPath } from '../provenance/helpers.js';
import { chartMetadata } from './arbitraries.js';

/** The metadata after Helm's Validate, or undefined where Helm could not write it back (a ChartYamlError naming the field). */
function normalized(md: ChartMetadata): ChartMetadata | undefined {
  try {
    return normalizeMetadata(md);
  } catch (err) {
    assert.ok(err instanceof ChartYamlError, String(err));
    return undefined;
  }
}

/** yaml's own writer with random choices: another spelling of the same document. */
const spelling: fc.Arbitrary<ToStringOptions & { version: '1.1' | '1.2'; shuffle: number }> = fc.record({
  version: fc.constantFrom('1.1', '1.2'),
  defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED'),
  defaultKeyType: fc.constantFrom(null, 'PLAIN', 'QUOTE_DOUBLE'),
  collectionStyle: fc.constantFrom('any', 'block', 'flow'),
  indent: fc.integer({ min: 1, max: 6 }),
  indentSeq: fc.boolean(),
  lineWidth: fc.constantFrom(0, 20, 80),
  minContentWidth: fc.constantFrom(0, 20),
  shuffle: fc.nat(),
});

/**
 * `value` written by the yaml package with those choices, or undefined when
 * that is not a faithful spelling: the writer refuses, or its own parser does
 * not read the text back as `value` (it has folding bugs at narrow widths).
 */
function respell(value: Record<string, unknown>, o: ToStringOptions & { version: '1.1' | '1.2'; shuffle: number }): string | undefined {
  const keys = Object.keys(value);
  // A rotation of the keys: Helm sorts them anyway.
  const order = keys.map((_, i) => keys[(i + o.shuffle) % keys.length]!);
  const { version, shuffle: _s, ...options } = o;
  const doc = Object.fromEntries(order.map((k) => [k, value[k]]));
  let text: string;
  try {
    text = stringify(doc, { version, ...options });
    assert.deepEqual(parse(text, { version }), doc);
  } catch {
    return undefined;
  }
  return text;
}

/**
 * NEL, LS and PS are line breaks to YAML 1.1 (go-yaml) and not to the yaml
 * package, which writes them raw: its "1.1" text is then another document.
 */
const hasYaml11Breaks = (v: unknown): boolean => /[\u0085\u2028\u2029]/.test(JSON.stringify(v));
/** Helm writes an annotation key "<<" plain and cannot read it back (go-yaml takes it for a merge); neither can we. */
const hasMergeKey = (md: ChartMetadata): boolean => md.annotations !== undefined && Object.hasOwn(md.annotations, '<<');

/** Sequences unless told otherwise: JSON-safe copies the yaml writer handles like any data. */
const plain = (md: ChartMetadata): Record<string, unknown> => JSON.parse(JSON.stringify(md)) as Record<string, unknown>;

describe('Go-compatible YAML: properties', () => {
  it("marshal → parse gives Helm's metadata back, and marshals again to the same bytes", () => {
    fc.assert(
      fc.property(chartMetadata, (md) => {
        const n = normalized(md);
        if (!n || hasMergeKey(n)) return;
        const text = marshalMetadata(n);
        const back = parseChartYaml(text);
        assert.equal(marshalMetadata(back), text);
        // Annotation values are not sanitized by Helm; a NEL in one is folded
        // by go-yaml on the way back (as Helm does), so only the bytes compare.
        if (!JSON.stringify(n.annotations ?? {}).includes('\u0085')) assert.deepEqual(back, n);
      }),
      { numRuns: 400 },
    );
  });

  it('the same metadata spelled any way the yaml package writes it reads back, stably, or is refused with a code', () => {
    fc.assert(
      fc.property(chartMetadata, spelling, (md, how) => {
        const n = normalized(md);
        if (!n || hasMergeKey(n)) return;
        const text = respell(plain(n), how);
        if (text === undefined) return;
        // The yaml package's idea of YAML 1.1 is not go-yaml's: it leaves
        // "0o17" or "1:20" plain, which go-yaml reads as the numbers 15 and
        // 4820 (and Helm then holds "15" and "4820"). Whether we read what
        // Helm reads is the differential test below; here, what was read
        // must be stable, and a refusal coded.
        let back: ChartMetadata;
        try {
          back = parseChartYaml(text);
        } catch (err) {
          assert.ok(err instanceof ChartprovError, `${String(err)}\n${text}`);
          return;
        }
        const bytes = marshalMetadata(back);
        assert.equal(marshalMetadata(parseChartYaml(bytes)), bytes, text);
        // Strings spelled the one way both agree on (no YAML 1.1 look-alikes) come back as they were.
        if (how.defaultStringType === 'QUOTE_DOUBLE' && how.defaultKeyType === 'QUOTE_DOUBLE' && !hasYaml11Breaks(n))
          assert.equal(bytes, marshalMetadata(n), text);
      }),
      { numRuns: 300 },
    );
  });

  it('any text: the decoder throws only GoYamlError, Chart.yaml parsing only coded errors', () => {
    const yamlish = fc.string({ unit: fc.constantFrom(...'ab1 :-?,[]{}&*!|>\'"#%@`\n\t\\.~<=+e0x\u0085\u2028\ufeff'), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
        for (const decode of [decodeGoYaml, decodeGoYamlAll]) {
          try {
            decode(text);
          } catch (err) {
            assert.ok(err instanceof GoYamlError, `${String(err)} for ${JSON.stringify(text)}`);
          }
        }
        try {
          parseChartYaml(text);
        } catch (err) {
          assert.ok(err instanceof ChartprovError, `${String(err)} for ${JSON.stringify(text)}`);
          assert.ok(!err.message.includes('\n'));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('Go-compatible YAML against Helm', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir('chartprov-yaml-property-');
  });
  after(() => tmp?.cleanup());

  for (const major of [3, 4] as const) {
    it(`Helm ${major}'s fixture Chart.yaml and prov metadata are what we write, however the Chart.yaml is spelled`, async () => {
      const files = await tgzContents(goldenPath(major));
      const helmChartYaml = files.get('hello-world/Chart.yaml')!;
      const prov = parseProvenance(await readFile(goldenPath(major, 'hello-world-0.1.0.tgz.prov'), 'utf8'));
      const md = parseChartYaml(helmChartYaml);
      assert.equal(marshalChartYaml(md), helmChartYaml);
      assert.equal(marshalMetadata(md), prov.metadataYaml);
      const extra = fc.dictionary(
        fc.stringMatching(/^[a-z]{1,8}$/).filter((k) => !(k.toLowerCase() in md)),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 3 },
      );
      fc.assert(
        fc.property(spelling, extra, fc.boolean(), (how, unknown, comment) => {
          // Unknown fields are dropped by Helm's struct; comments and document markers by the parser.
          let text = respell({ ...plain(md), ...unknown }, how);
          if (text === undefined) return;
          if (comment) text = `# a comment\n---\n${text}# the end\n...\n# after the document\n`;
          assert.equal(marshalChartYaml(parseChartYaml(text)), helmChartYaml, text);
        }),
        { numRuns: 300 },
      );
    });
  }

  it("characters Unicode assigned after Go's 15.0 tables are what Helm makes of them: dropped, and sorted as non-letters", async () => {
    // U+2EBF0 (CJK Extension I, Unicode 15.1) and U+1FAE9 (an emoji of 16.0).
    const late = '\u{2EBF0}\u{1FAE9}';
    const text = `apiVersion: v2\nname: late\nversion: 1.0.0\ndescription: "a${late}b"\nkeywords: ["${late}"]\nannotations: {"${late}k": x, "b": y, "1": z, "\u00e9": w}\n`;
    const dir = join(tmp.dir, 'late');
    await mkdir(join(dir, 'templates'), { recursive: true });
    await writeFile(join(dir, 'Chart.yaml'), text);
    const ours = marshalMetadata(parseChartYaml(text));
    assert.match(ours, /^description: ab$/m);
    for (const major of [3, 4] as const) assert.equal(`${ours}\n`, (await runHelm(major, ['show', 'chart', dir])).stdout, `helm ${major}`);
  });

  // Our bytes, or the same metadata with every string double-quoted: the
  // spelling whose meaning the yaml package and go-yaml agree on. (In exotic
  // plain and flow syntax they do not — go-yaml refuses `{a ? b: c}`, the
  // yaml package reads a key "a ? b" — and that is the parser's, not the
  // marshalling's, business.)
  const quoted = spelling.map((o) => ({
    ...o,
    defaultStringType: 'QUOTE_DOUBLE' as const,
    defaultKeyType: 'QUOTE_DOUBLE' as const,
    collectionStyle: 'block' as const,
  }));

  it('helm show chart prints, for generated Chart.yaml (ours, or double-quoted), the bytes we write (or both refuse)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(chartMetadata, fc.option(quoted, { nil: undefined }), async (md, how) => {
        const norm = normalized(md);
        if (!norm) return;
        const text = how === undefined ? marshalMetadata(norm) : respell(plain(norm), how);
        if (text === undefined) return;
        const dir = join(tmp.dir, `c${++n}`);
        await mkdir(join(dir, 'templates'), { recursive: true });
        await writeFile(join(dir, 'Chart.yaml'), text);
        let ours: string | undefined;
        try {
          // What is on disk: a lone surrogate the writer left is U+FFFD there.
          ours = marshalMetadata(parseChartYaml(Buffer.from(text).toString('utf8')));
        } catch (err) {
          assert.ok(err instanceof ChartprovError, String(err));
        }
        const helm = await runHelm(n % 2 === 0 ? 4 : 3, ['show', 'chart', dir]);
        if (helm.code === 0) {
          assert.ok(ours !== undefined, `Helm reads it, we refuse it:\n${text}`);
          assert.equal(`${ours}\n`, helm.stdout, text);
        } else {
          assert.equal(ours, undefined, `Helm refuses it (${helm.stderr.trim()}), we read it:\n${text}`);
        }
      }),
      { numRuns: 24 },
    );
  });
});
