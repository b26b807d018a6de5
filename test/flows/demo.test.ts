// runDemo (issue 8, item 1): the whole tutorial in a temp workspace, every
// step checked; the workspace removed and the registry closed afterwards,
// also when a step fails.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, readdir, rm } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChartprovError, DemoFailedError } from '../../src/errors.js';
import { runDemo, type DemoStep } from '../../src/flows/demo.js';
import { packageChartFlow } from '../../src/flows/package-chart.js';
import { pushCharts } from '../../src/flows/push-charts.js';
import { tempDir } from '../peers/tmp.js';

const fsPromises = createRequire(import.meta.url)('node:fs/promises') as { rm: typeof rm };

/**
 * Makes fs/promises rm fail with EBUSY for `path` (a mount point, a file
 * held open on some systems) until the returned function is called; other
 * paths are removed as usual. The ES module bindings of node:fs/promises
 * follow the CommonJS object after syncBuiltinESMExports.
 */
function rmBusy(path: () => string): () => void {
  const real = fsPromises.rm;
  fsPromises.rm = (async (target: string, opts?: Parameters<typeof rm>[1]) => {
    if (target === path()) throw Object.assign(new Error(`EBUSY: resource busy or locked, rmdir '${target}'`), { code: 'EBUSY' });
    return real(target, opts);
  }) as typeof rm;
  syncBuiltinESMExports();
  return () => {
    fsPromises.rm = real;
    syncBuiltinESMExports();
  };
}

let parent: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: parent, cleanup } = await tempDir('chartprov-demo-test-'));
});
after(() => cleanup());

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = await listening(0);
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listening(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Whether something accepts connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const serverHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

const STEP_IDS = [
  'generate-key',
  'create-chart',
  'package-sign',
  'start-registry',
  'create-accounts',
  'login',
  'push-signed',
  'push-unsigned',
  'sign-in-registry',
  'discover',
  'pull-verify-layer',
  'pull-verify-referrer',
  'verify-remote',
  'helm-pull-verify',
  'reject-tampered',
  'reject-unknown-key',
];

describe('runDemo', () => {
  test('runs every step on the given port, rejects the tampered and unknown-key charts, then cleans up', async () => {
    const handlesBefore = serverHandles();
    const port = await freePort();
    const seen: DemoStep[] = [];
    let workspace = '';
    let portInUse = false;
    const t = await runDemo({
      port,
      tmpDir: parent,
      helm: false,
      onStart: (info) => (workspace = info.workspace),
      onStep: (s) => seen.push(s),
      beforeStep: async (id) => {
        if (id === 'login') portInUse = await accepts(port);
      },
    });
    assert.equal(t.ok, true);
    assert.deepEqual(
      t.steps.map((s) => s.id),
      STEP_IDS,
    );
    assert.deepEqual(seen, t.steps, 'onStep saw each step as it finished, in order');
    t.steps.forEach((s, i) => {
      assert.equal(s.index, i + 1);
      assert.equal(s.ok, true, `${s.id}: ${s.summary}`);
      assert.ok(s.name.length > 0 && s.summary.length > 0);
      assert.ok(Number.isInteger(s.ms) && s.ms >= 0);
      assert.equal(s.error, undefined);
    });
    const byId = new Map(t.steps.map((s) => [s.id, s]));
    assert.equal(byId.get('helm-pull-verify')!.skipped, true);
    assert.equal(t.steps.filter((s) => s.skipped).length, 1);
    assert.equal(byId.get('reject-tampered')!.details.code, 'CHART_TAMPERED');
    assert.equal(byId.get('reject-unknown-key')!.details.code, 'SIGNER_UNKNOWN');
    assert.equal(byId.get('pull-verify-layer')!.details.source, 'provenance-layer');
    assert.equal(byId.get('pull-verify-referrer')!.details.source, 'referrer');
    assert.equal(byId.get('sign-in-registry')!.details.mode, 'api');

    assert.ok(portInUse, 'the registry listened on --port');
    assert.equal(t.registry.port, port);
    assert.equal(t.registry.url, `http://127.0.0.1:${port}`);
    assert.ok(t.commands.some((c) => c.startsWith('helm pull ') && c.includes('--verify')));
    assert.ok(
      t.commands.every((c) => !c.includes(workspace)),
      'commands use relative paths',
    );
    assert.equal(t.kept, false);
    assert.deepEqual(t.warnings, []);
    assert.equal(t.workspace, workspace);
    assert.equal(existsSync(workspace), false, 'workspace removed');
    assert.equal(await accepts(port), false, 'registry closed');
    assert.equal(serverHandles(), handlesBefore, 'no listening socket left');
  });

  test('a failing step: DEMO_FAILED naming the step, registry closed, workspace removed', async () => {
    let workspace = '';
    let port = 0;
    const seen: DemoStep[] = [];
    const err = await runDemo({
      tmpDir: parent,
      helm: false,
      onStart: (info) => (workspace = info.workspace),
      onStep: (s) => {
        seen.push(s);
        if (s.id === 'start-registry') port = s.details.port as number;
      },
      beforeStep: (id) => {
        if (id === 'pull-verify-layer') throw new DemoFailedError('stopped by the test', { hint: 'the test hint' });
      },
    }).then(
      () => assert.fail('the demo should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DemoFailedError);
    assert.equal(err.code, 'DEMO_FAILED');
    assert.equal(err.step, 'pull-verify-layer');
    assert.match(err.message, /^step 11 \(pull --verify hello-world 0\.1\.0 \(provenance layer\)\): stopped by the test$/);
    assert.equal(err.hint, 'the test hint');
    const last = seen.at(-1)!;
    assert.equal(last.id, 'pull-verify-layer');
    assert.equal(last.ok, false);
    assert.equal(last.error?.message, 'stopped by the test');
    assert.equal(seen.filter((s) => !s.ok).length, 1);
    assert.ok(port > 0);
    assert.equal(await accepts(port), false, 'registry closed');
    assert.equal(existsSync(workspace), false, 'workspace removed');
  });

  test('a taken port fails the registry step with its own code, before anything is left behind', async () => {
    const blocker = await listening(0);
    const port = (blocker.address() as { port: number }).port;
    try {
      let workspace = '';
      const err = await runDemo({ port, tmpDir: parent, helm: false, onStart: (i) => (workspace = i.workspace) }).then(
        () => assert.fail('the demo should have failed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DemoFailedError);
      assert.equal(err.step, 'start-registry');
      assert.equal(err.stepCode, 'SERVE_CONFIG_INVALID');
      assert.match(
        err.message,
        new RegExp(
          `step 4 \\(start the embedded registry\\): \\[SERVE_CONFIG_INVALID\\] cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`,
        ),
      );
      assert.match(err.hint, /--port/);
      assert.equal(existsSync(workspace), false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('keep leaves the workspace with the keys, charts and pulled files', async () => {
    const t = await runDemo({ tmpDir: parent, helm: false, keep: true });
    assert.equal(t.kept, true);
    assert.ok(existsSync(t.workspace));
    assert.deepEqual((await readdir(`${t.workspace}/pulled`)).sort(), [
      'hello-world-0.1.0.tgz',
      'hello-world-0.1.0.tgz.prov',
      'hello-world-0.2.0.tgz',
      'hello-world-0.2.0.tgz.prov',
    ]);
    assert.ok(existsSync(`${t.workspace}/keys/pubring.gpg`));
    assert.deepEqual(await readdir(`${t.workspace}/refused/tampered`), [], 'a refused pull writes nothing');
    assert.equal(await accepts(t.registry.port), false, 'registry closed even when the workspace is kept');
  });

  test('a chart whose digest changes before it is signed in the registry fails the step that says it is unchanged', async () => {
    let registry = '';
    const err = await runDemo({
      tmpDir: parent,
      helm: false,
      onStep: (s) => {
        if (s.id === 'start-registry') registry = new URL(s.details.url as string).host;
      },
      beforeStep: async (id, workspace) => {
        if (id !== 'sign-in-registry') return;
        // Another 0.2.0 pushed over the tag between the unsigned push and the signing.
        const chartDir = join(workspace, 'charts', 'hello-world');
        await appendFile(join(chartDir, 'values.yaml'), "\n# changed behind the demo's back\n");
        const other = await packageChartFlow({ chartDir, destination: join(workspace, 'other'), version: '0.2.0' });
        const pushed = await pushCharts({
          charts: [other.path],
          destination: `oci://${registry}/helm-charts`,
          plainHttp: true,
          registryConfig: join(workspace, 'registry-config.json'),
        });
        assert.equal(pushed.failed, 0);
      },
    }).then(
      () => assert.fail('the demo should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DemoFailedError, String(err));
    assert.equal(err.step, 'sign-in-registry');
    assert.match(err.message, /the chart digest changed/);
  });

  test('a workspace that cannot be removed is reported, never in place of the outcome', async () => {
    let workspace = '';
    const warned: string[] = [];
    const restore = rmBusy(() => workspace);
    try {
      const err = await runDemo({
        tmpDir: parent,
        helm: false,
        onStart: (info) => (workspace = info.workspace),
        onWarning: (m) => warned.push(m),
        beforeStep: (id) => {
          if (id === 'push-signed') throw new DemoFailedError('stopped by the test');
        },
      }).then(
        () => assert.fail('the demo should have failed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DemoFailedError, `the step's failure, not the rm's: ${String(err)}`);
      assert.equal(err.step, 'push-signed');
      assert.equal(warned.length, 1);
      assert.ok(warned[0]!.includes(workspace) && /EBUSY/.test(warned[0]!), warned[0]);

      warned.length = 0;
      const t = await runDemo({
        tmpDir: parent,
        helm: false,
        onStart: (info) => (workspace = info.workspace),
        onWarning: (m) => warned.push(m),
      });
      assert.equal(t.ok, true);
      assert.equal(t.warnings.length, 1);
      assert.match(t.warnings[0]!, /could not be removed/);
      assert.ok(t.warnings[0]!.includes(t.workspace));
      assert.deepEqual(warned, t.warnings);
    } finally {
      restore();
    }
    assert.ok(existsSync(workspace), 'left where the warning says');
    await rm(workspace, { recursive: true, force: true });
  });

  test('a bad port is a usage error, before any workspace exists', async () => {
    const before = await readdir(parent);
    await assert.rejects(runDemo({ port: 70000, tmpDir: parent }), (e: unknown) => e instanceof ChartprovError && e.code === 'USAGE');
    assert.deepEqual(await readdir(parent), before);
  });
});
