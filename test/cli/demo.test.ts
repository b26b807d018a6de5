// `chartprov demo` from the built CLI: with Helm 4 on PATH the helm pull
// --verify step runs and passes; without it the step says it was skipped.
// HOME is a fresh folder each time, to prove the demo writes nothing there
// (no Helm or Docker login), and TMPDIR one too, to see the workspace go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../peers/cli.js';
import { helmBinary } from '../peers/helm.js';
import { cliPath } from '../peers/paths.js';
import { assertNoSecrets } from '../peers/secrets.js';
import { tempDir } from '../peers/tmp.js';

let work: string;
let cleanup: () => Promise<void>;
let withHelm: string;
let withoutHelm: string;

before(async () => {
  ({ dir: work, cleanup } = await tempDir('chartprov-demo-cli-'));
  withHelm = join(work, 'bin-with-helm');
  withoutHelm = join(work, 'bin-empty');
  await mkdir(withHelm);
  await mkdir(withoutHelm);
  await symlink(await helmBinary(4), join(withHelm, 'helm'));
});
after(() => cleanup());

/** A fresh HOME and TMPDIR for one run. */
async function sandbox(name: string): Promise<{ home: string; tmp: string }> {
  const home = join(work, name, 'home');
  const tmp = join(work, name, 'tmp');
  await mkdir(home, { recursive: true });
  await mkdir(tmp, { recursive: true });
  return { home, tmp };
}

/** What the demo left in HOME; the CLI's own compile cache lives elsewhere (XDG_CACHE_HOME). */
async function homeEntries(home: string): Promise<string[]> {
  return (await readdir(home)).sort();
}

describe('chartprov demo', () => {
  test('with helm on PATH: every step passes, helm pull --verify included, nothing written to HOME', async () => {
    const { home, tmp } = await sandbox('helm');
    const r = await runCli(['demo'], { env: { PATH: withHelm, HOME: home, TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    for (let i = 1; i <= 16; i++)
      assert.ok(
        lines.some((l) => new RegExp(`^ ?${i}\\. .+ \\.+ +\\d+ ms$`).test(l)),
        `step ${i} line:\n${r.stdout}`,
      );
    assert.match(r.stdout, /^14\. helm pull --verify hello-world 0\.1\.0 \.+ +\d+ ms\n {4}v4\.\S+ verified it/m);
    assert.match(r.stdout, /^15\. a tampered chart is rejected .*\n.*refused, CHART_TAMPERED/m);
    assert.match(r.stdout, /^16\. a chart signed by an unknown key is rejected .*\n.*refused, SIGNER_UNKNOWN/m);
    assert.match(r.stdout, /All 16 steps passed in /);
    assert.match(r.stdout, /^ {2}helm pull oci:\/\/127\.0\.0\.1:\d+\/helm-charts\/hello-world --version 0\.1\.0 --verify/m);
    assert.doesNotMatch(r.stdout, /Workspace kept/);
    assert.deepEqual(await homeEntries(home), [], 'no ~/.config/helm, ~/.docker or anything else');
    assert.deepEqual(await readdir(tmp), [], 'workspace removed');
  });

  test('without helm: one line says the step was skipped; --output json --keep keeps the workspace', async () => {
    const { home, tmp } = await sandbox('nohelm');
    const r = await runCli(['demo', '--output', 'json', '--keep'], { env: { PATH: withoutHelm, HOME: home, TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout) as {
      ok: boolean;
      steps: Array<{ id: string; ok: boolean; ms: number; skipped: boolean; summary: string; details: Record<string, unknown> }>;
      commands: string[];
      workspace: string;
    };
    assert.equal(t.ok, true);
    assert.equal(t.steps.length, 16);
    assert.ok(t.steps.every((s) => s.ok && typeof s.ms === 'number' && typeof s.details === 'object'));
    const helm = t.steps.find((s) => s.id === 'helm-pull-verify')!;
    assert.equal(helm.skipped, true);
    assert.match(helm.summary, /helm is not installed/);
    assert.equal(t.steps.find((s) => s.id === 'reject-tampered')!.details.code, 'CHART_TAMPERED');
    assert.ok(t.commands.length > 10);
    assert.ok(t.workspace.startsWith(tmp), t.workspace);
    assert.ok(existsSync(join(t.workspace, 'keys', 'pubring.gpg')), 'workspace kept');
    assert.deepEqual(await homeEntries(home), []);

    const text = await runCli(['demo'], { env: { PATH: withoutHelm, HOME: home, TMPDIR: tmp } });
    assert.equal(text.code, 0, text.stderr);
    const skipped = text.stdout.split('\n').filter((l) => /helm/.test(l) && /skipped/.test(l));
    assert.deepEqual(skipped, ['14. helm pull --verify hello-world 0.1.0: skipped, helm is not installed (not found on PATH)']);
    assert.match(text.stdout, /All 15 steps passed \(1 skipped\)/);
    assert.deepEqual(await readdir(tmp), [basename(t.workspace)], 'only the kept one');
  });

  test('a taken --port: DEMO_FAILED naming the step, exit 1, workspace removed', async () => {
    const { home, tmp } = await sandbox('taken');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['demo', '--port', String(port)], { env: { PATH: withoutHelm, HOME: home, TMPDIR: tmp } });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^ 4\. start the embedded registry \.+ FAILED after \d+ ms$/m);
      assert.match(
        r.stderr,
        new RegExp(
          `^error\\[DEMO_FAILED\\]: step 4 \\(start the embedded registry\\): \\[SERVE_CONFIG_INVALID\\] cannot listen on 127\\.0\\.0\\.1:${port}`,
          'm',
        ),
      );
      assert.match(r.stderr, /^hint: .*--port/m);
      assert.deepEqual(await readdir(tmp), [], 'workspace removed');

      const json = await runCli(['demo', '--port', String(port), '-o', 'json'], { env: { PATH: withoutHelm, HOME: home, TMPDIR: tmp } });
      assert.equal(json.code, 1);
      const doc = JSON.parse(json.stdout) as { ok: boolean; steps: Array<{ id: string; ok: boolean }>; error: { code: string } };
      assert.equal(doc.ok, false);
      assert.equal(doc.error.code, 'DEMO_FAILED');
      assert.deepEqual(doc.steps.at(-1), { ...doc.steps.at(-1), id: 'start-registry', ok: false });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('a second Ctrl-C leaves at once, and removes the workspace with its keys and credentials', async () => {
    const { home, tmp } = await sandbox('sigint');
    // A helm that hangs (until the demo is gone): the step in flight when Ctrl-C comes.
    const slowHelm = join(work, 'bin-slow-helm');
    await mkdir(slowHelm);
    const sleep = ['/bin/sleep', '/usr/bin/sleep'].find((p) => existsSync(p))!;
    await writeFile(join(slowHelm, 'helm'), `#!/bin/sh\nfor i in $(seq 600); do kill -0 $PPID 2>/dev/null || exit 1; ${sleep} 0.1; done\n`);
    await chmod(join(slowHelm, 'helm'), 0o755);
    const child = spawn(process.execPath, [cliPath, 'demo'], {
      env: { ...process.env, PATH: `${slowHelm}:/usr/bin:/bin`, HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: join(work, 'sigint', 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (/^13\. /m.test(stdout)) resolve();
      });
      void exited.then(() => reject(new Error(`the demo ended early:\n${stdout}\n${stderr}`)));
    });
    // Step 14 (helm) hangs: the first Ctrl-C waits for it, the second does not.
    assert.equal((await readdir(tmp)).length, 1, 'the workspace exists');
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(child.exitCode, null, 'still waiting for the step in flight');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assertNoSecrets('chartprov demo', stdout, stderr);
    assert.deepEqual(await readdir(tmp), [], 'workspace removed');
    assert.deepEqual(await readdir(home), []);
  });

  test('--port that is not a port is a usage error', async () => {
    const r = await runCli(['demo', '--port', 'http']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error\[USAGE\]: --port http is not a port number/m);
  });
});
