// Property-based tests of the oci:// reference parser: every reference the
// grammar allows parses back from its formatted text to the same value, and
// no input at all — random text, or a valid reference with a few characters
// changed — makes it throw anything but ReferenceInvalidError, with a
// one-line message. fast-check prints the seed and the shrunk input of a
// failure; rerun with it to reproduce.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ReferenceInvalidError } from '../../src/errors.js';
import { chartRepository, formatOciReference, parseOciReference, parseRegistryHost, type OciReference } from '../../src/oci/reference.js';

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });

/** distribution's grammar: lowercase alphanumerics, single separators ("." "_" "__" "-"+) between them. */
const pathComponent = fc.stringMatching(/^[a-z0-9]{1,8}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,8}){0,3}$/);
const label = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const port = fc.integer({ min: 1, max: 65535 }).map(String);
const registry = fc
  .tuple(
    fc.oneof(
      hostName,
      fc.ipV4(),
      fc.ipV6().map((a) => `[${a}]`),
    ),
    fc.option(port, { nil: undefined }),
  )
  .filter(([h]) => !/^\[.*%/.test(h))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const repository = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('/'));
const tag = fc.stringMatching(/^\w[\w.-]{0,127}$/);
const digest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

const reference: fc.Arbitrary<OciReference> = fc
  .record({ registry, repository, tag: fc.option(tag, { nil: undefined }), digest: fc.option(digest, { nil: undefined }) })
  .filter((r) => r.registry.length + 1 + r.repository.length <= 255)
  .map((r) => {
    const ref: OciReference = { registry: r.registry, repository: r.repository };
    if (r.tag !== undefined) ref.tag = r.tag;
    if (r.digest !== undefined) ref.digest = r.digest;
    return ref;
  });

/** Runs `fn`; anything thrown must be a ReferenceInvalidError with a one-line message. */
function onlyOurError<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    assert.ok(err instanceof ReferenceInvalidError, `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.equal(err.code, 'REFERENCE_INVALID');
    assert.ok(!err.message.includes('\n') && err.hint.length > 0, err.message);
    return undefined;
  }
}

/** A few characters of `s` replaced, inserted or removed: near-misses of valid references. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('del', 'ins', 'set'), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })), {
        minLength: 1,
        maxLength: 3,
      }),
    )
    .map(([s, edits]) => {
      let out = s;
      for (const [at, op, text] of edits) {
        const i = out.length === 0 ? 0 : at % out.length;
        out =
          op === 'del'
            ? out.slice(0, i) + out.slice(i + 1)
            : op === 'ins'
              ? out.slice(0, i) + text + out.slice(i)
              : out.slice(0, i) + text + out.slice(i + 1);
      }
      return out;
    });

const RUNS = { numRuns: 2000 };

describe('parseOciReference: properties', () => {
  it('parse(format(ref)) is ref, for every reference the grammar allows', () => {
    fc.assert(
      fc.property(reference, (ref) => {
        const text = formatOciReference(ref);
        assert.deepEqual(parseOciReference(text, { requireScheme: true }), ref);
        // Without the scheme too, as Helm's `host/path` arguments.
        assert.deepEqual(parseOciReference(text.slice('oci://'.length)), ref);
      }),
      RUNS,
    );
  });

  it('a "+" typed in a tag is "_" in the registry, as Helm writes it', () => {
    fc.assert(
      fc.property(reference, fc.stringMatching(/^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\+[a-z0-9.]{1,10}$/), (ref, version) => {
        const { digest: _d, ...plain } = ref;
        const parsed = parseOciReference(`${formatOciReference({ ...plain, tag: undefined })}:${version}`);
        assert.equal(parsed.tag, version.replace('+', '_'));
      }),
      { numRuns: 300 },
    );
  });

  it('random text never throws anything but ReferenceInvalidError, and what it accepts formats back to itself', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom(...'oci:/@.-_+[]%:0123456789abcdefsha256ABC '), maxLength: 80 }),
      mutated(reference.map(formatOciReference)),
    );
    fc.assert(
      fc.property(text, fc.boolean(), fc.boolean(), (input, requireScheme, allowNoPath) => {
        const ref = onlyOurError(() => parseOciReference(input, { requireScheme, allowNoPath }));
        if (ref === undefined) return;
        // Whatever was accepted is a canonical reference: stable through format and parse again.
        assert.deepEqual(parseOciReference(formatOciReference(ref), { allowNoPath }), ref);
        assert.ok(ref.registry.length + 1 + ref.repository.length <= 255);
        if (ref.repository !== '') for (const c of ref.repository.split('/')) assert.match(c, /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/);
      }),
      RUNS,
    );
  });

  it('parseRegistryHost and chartRepository: random text never throws anything but ReferenceInvalidError', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), mutated(registry), mutated(registry.map((r) => `https://${r}/`)));
    fc.assert(
      fc.property(text, (input) => {
        const host = onlyOurError(() => parseRegistryHost(input));
        if (host !== undefined) assert.equal(parseRegistryHost(host), host);
        const repo = onlyOurError(() => chartRepository({ registry: 'h', repository: 'p' }, input));
        if (repo !== undefined) assert.equal(repo, `p/${input}`);
      }),
      RUNS,
    );
  });
});
