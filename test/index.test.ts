// The published entry point: `import … from 'chartprov'` resolves through
// package.json "exports" to the built library and its type declarations.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './peers/paths.js';

describe('package entry point', () => {
  it('exports the documented library API', async () => {
    const lib = (await import('chartprov' as string)) as Record<string, unknown>;
    for (const name of [
      'packageAndSignChart',
      'signChart',
      'verifyCharts',
      'verifyChart',
      'createSigner',
      'loadKeyring',
      'generateKeyPair',
      'verifyProvenance',
    ]) {
      assert.equal(typeof lib[name], 'function', name);
    }
    assert.equal((lib.ChartTamperedError as { prototype: { code?: string } } | undefined)?.prototype instanceof Error, true);
  });

  it('ships type declarations where "exports" says', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const types = join(repoRoot, pkg.exports['.'].types);
    assert.ok(existsSync(types), types);
    assert.match(readFileSync(types, 'utf8'), /export \* from '\.\/flows|export \{ .*verifyCharts/);
  });
});
