// Build: tsc for the library (+ .d.ts) and the tests, then one esbuild bundle
// for the CLI, because Node's start-up is dominated by module loading
// (../shared/docs/performance.md): one file, lightweight openpgp, lazy chunks.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  stdio: 'inherit',
  cwd: root,
});

const esbuild = await import('esbuild');
// openpgp's package exports do not list the lightweight build; alias it so the
// CLI loads the small core and pulls curve code only when a key needs it.
const openpgpLight = join(root, 'node_modules/openpgp/dist/lightweight/openpgp.min.mjs');
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { chartprov: 'src/cli/main.ts' },
  outdir: 'dist/cli-bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  alias: { openpgp: openpgpLight },
  define: { __CHARTPROV_VERSION__: JSON.stringify(pkg.version) },
  banner: {
    js: "import { createRequire as __cpCreateRequire } from 'node:module'; const require = __cpCreateRequire(import.meta.url);",
  },
});
