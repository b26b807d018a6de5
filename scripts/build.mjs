// Build: tsc for the library (+ .d.ts) and the tests, then one esbuild bundle
// for the CLI, because Node's start-up is dominated by module loading
// (../shared/docs/performance.md): one file, lightweight openpgp, lazy chunks.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// openpgp's package exports do not list the lightweight build; alias it so the
// CLI carries the small core and pulls curve code only when a key needs it.
const openpgpLight = join(root, 'node_modules/openpgp/dist/lightweight/openpgp.min.mjs');
// One CommonJS file: bin/chartprov.cjs compiles it with a V8 code cache (Node 20
// has no module compile cache), and esbuild keeps each lazily imported module
// behind an init function, so a command evaluates only what it uses.
// commander loads child_process (and with it net, dgram…) at start-up only to
// run external sub-command binaries, which chartprov never does: hand it a
// proxy that loads the real module on first use.
const esbuild = await import('esbuild');

// undici (registry commands only) is 400 KB that every command's code cache
// would carry (~5 % of verify's start-up). It goes into its own file,
// dist/cli-bundle/undici.cjs, which only registry commands load; the main
// bundle sees each undici module it imports as a property of that file.
const UNDICI_PARTS = {
  'undici/lib/dispatcher/dispatcher.js': 'Dispatcher',
  'undici/lib/api/index.js': 'api',
  'undici/lib/dispatcher/agent.js': 'Agent',
  'undici/lib/dispatcher/env-http-proxy-agent.js': 'EnvHttpProxyAgent',
};
const undiciApart = {
  name: 'undici-apart',
  setup(build) {
    build.onResolve({ filter: /^undici(\/|$)/ }, (args) => {
      if (!(args.path in UNDICI_PARTS))
        throw new Error(`${args.importer} imports ${args.path}: add it to UNDICI_PARTS in scripts/build.mjs`);
      return { path: args.path, namespace: 'undici-part' };
    });
    build.onLoad({ filter: /.*/, namespace: 'undici-part' }, (args) => ({
      // __dirname is the bundle's folder (bin/chartprov.cjs passes it).
      contents: `module.exports = require(require('node:path').join(__dirname, 'undici.cjs')).${UNDICI_PARTS[args.path]};`,
      loader: 'js',
    }));
  },
};
const undiciEntry = join(root, 'dist', 'undici-parts-entry.cjs');
writeFileSync(
  undiciEntry,
  `module.exports = { ${Object.entries(UNDICI_PARTS)
    .map(([path, name]) => `${name}: require(${JSON.stringify(path.replace(/\.js$/, ''))})`)
    .join(', ')} };\n`,
);
await esbuild.build({
  absWorkingDir: root,
  entryPoints: [undiciEntry],
  outfile: 'dist/cli-bundle/undici.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  logLevel: 'warning',
});
rmSync(undiciEntry);

const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { chartprov: 'src/cli/main.ts' },
  plugins: [lazyChildProcess, undiciApart],
  outdir: 'dist/cli-bundle',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  alias: { openpgp: openpgpLight },
  // ajv (the trust policy's schema validator, --policy only) is 220 KB every
  // command would parse at start-up; left out, it is required from the
  // package's node_modules when a policy is read.
  external: ['ajv', 'ajv/*'],

  define: { __CHARTPROV_VERSION__: JSON.stringify(pkg.version) },
});

// The bundle's identity for bin/chartprov.cjs's code cache: a cache made for
// other bytes is never used, whatever the file's size or mtime.
const bundlePath = join(root, 'dist', 'cli-bundle', 'chartprov.cjs');
writeFileSync(`${bundlePath}.id`, `${createHash('sha256').update(readFileSync(bundlePath)).digest('hex')}\n`);
