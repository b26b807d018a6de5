// The README's TypeScript examples compile against the library's published
// types (dist/src/index.d.ts, what `import … from 'chartprov'` resolves to),
// so the guide cannot drift from the API.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repoRoot } from './peers/paths.js';

test("README's ts examples type-check against the package's .d.ts", async () => {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 2, 'the README shows the library API');
  const files = new Map(blocks.map((code, i) => [join(repoRoot, `readme-example-${i}.mts`), `${code}\nexport {};\n`]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    paths: { chartprov: [join(repoRoot, 'dist', 'src', 'index.d.ts')] },
  };
  const host = ts.createCompilerHost(options);
  const readOriginal = host.readFile.bind(host);
  const existsOriginal = host.fileExists.bind(host);
  host.readFile = (name) => files.get(name) ?? readOriginal(name);
  host.fileExists = (name) => files.has(name) || existsOriginal(name);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    files.has(name) ? ts.createSourceFile(name, files.get(name)!, version, true) : getSource(name, version, onError, create);
  const program = ts.createProgram([...files.keys()], options, host);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file || files.has(d.file.fileName))
    .map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => repoRoot, getNewLine: () => '\n' }));
  assert.deepEqual(problems, []);
});
