/**
 * `chartprov demo`: the whole tutorial, end to end, on a fresh machine with
 * nothing but chartprov — a key, a chart, the embedded registry, push,
 * attach, discover, pull and verify, and the two failures verification is
 * for (a tampered chart, an unknown signer). Everything happens in a private
 * temp workspace: the user's keyrings, Helm and Docker logins are never read
 * nor written. The registry is closed and the workspace removed (unless
 * kept) whether the demo succeeds or not.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChartprovError, DemoFailedError, UsageError } from '../errors.js';
import { demoCommands } from './demo-commands.js';
import { DEMO_CHART, DEMO_KEY, DEMO_PROJECT, DEMO_USER, paths, type DemoContext, type DemoStepId } from './demo-context.js';
import { DEMO_STEPS } from './demo-steps.js';

export type { DemoStepId } from './demo-context.js';

export interface DemoStep {
  /** 1-based position in the run. */
  index: number;
  /** Stable identifier, e.g. `push-signed`, `reject-tampered`. */
  id: DemoStepId;
  /** What the step does, e.g. `package and sign hello-world 0.1.0`. */
  name: string;
  /** The step did what it should (for the rejection steps: verification refused the chart with the expected code). */
  ok: boolean;
  /** Wall time of the step, milliseconds. */
  ms: number;
  /** Nothing ran: `helm-pull-verify` when helm is not installed. */
  skipped: boolean;
  /** One line saying what happened. */
  summary: string;
  /** The facts behind the summary (digests, references, error codes of the rejections). */
  details: Record<string, unknown>;
  /** Set when `ok` is false. */
  error?: { code: string; message: string; hint: string };
}

export interface DemoOptions {
  /** Keep the workspace (keys, charts, registry data) instead of removing it. */
  keep?: boolean;
  /** Port of the embedded registry on 127.0.0.1; default 0: a free port. */
  port?: number;
  /** Folder the workspace is created in; default the system temp folder. */
  tmpDir?: string;
  /** The helm binary for the `helm pull --verify` step; `false` skips it; default: `helm` on `searchPath`. */
  helm?: string | false;
  /** The PATH helm is looked up in (no shell is involved); default process.env.PATH. */
  searchPath?: string;
  /** Called with the workspace path as soon as it exists (before any step). */
  onStart?: (info: { workspace: string }) => void;
  /** Called as each step finishes, in order, also for the step that fails. */
  onStep?: (step: DemoStep) => void;
  /**
   * Called before each step runs, with the workspace: throwing fails that
   * step. For tests and embedders that need to stop a run at a given point.
   */
  beforeStep?: (id: DemoStepId, workspace: string) => void | Promise<void>;
  /** Stops the run before the next step (Ctrl-C in the CLI); the cleanup still happens. */
  signal?: AbortSignal;
  /** Called with what went wrong that does not fail the demo: a workspace that could not be removed. */
  onWarning?: (message: string) => void;
}

export interface DemoTranscript {
  ok: true;
  steps: DemoStep[];
  /** What a user would type to do the same, in a folder of their own. */
  commands: string[];
  /** The workspace; it no longer exists unless `kept`. */
  workspace: string;
  kept: boolean;
  /** The registry as it ran (closed now). */
  registry: { url: string; port: number };
  /** Wall time of the whole run, milliseconds. */
  ms: number;
  /** What went wrong without failing the demo, e.g. a workspace left behind because it could not be removed. */
  warnings: string[];
}

/**
 * Runs the demo. Resolves with the transcript when every step did what it
 * should; otherwise rejects with DemoFailedError (`DEMO_FAILED`) naming the
 * step, with the step's own error code in `stepCode` and its hint.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoTranscript> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${opts.port} is not a port number`, { hint: 'give 1-65535, or leave it out to use a free port' });
  const started = performance.now();
  const workspace = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'chartprov-demo-'));
  const p = paths(workspace);
  const ctx: DemoContext = {
    workspace,
    // Only what the flows and helm need: no CHARTPROV_* credentials, proxies or
    // config locations of the user's reach the demo, and nothing it writes lands outside.
    env: {
      PATH: opts.searchPath ?? process.env.PATH ?? '',
      HOME: p.home,
      HELM_REGISTRY_CONFIG: p.credentials,
      HELM_CONFIG_HOME: join(p.home, '.config', 'helm'),
      HELM_CACHE_HOME: join(p.home, '.cache', 'helm'),
      HELM_DATA_HOME: join(p.home, '.local', 'share', 'helm'),
      DOCKER_CONFIG: join(p.home, '.docker'),
      GNUPGHOME: join(p.home, '.gnupg'),
    },
    port,
    helm: opts.helm,
    searchPath: opts.searchPath ?? process.env.PATH,
  };
  const steps: DemoStep[] = [];
  const warnings: string[] = [];
  try {
    opts.onStart?.({ workspace });
    for (const def of DEMO_STEPS) {
      const index = steps.length + 1;
      const t0 = performance.now();
      try {
        if (opts.signal?.aborted) throw new DemoFailedError('interrupted', { hint: 'run chartprov demo again' });
        await opts.beforeStep?.(def.id, workspace);
        const outcome = await def.run(ctx);
        const step: DemoStep = {
          index,
          id: def.id,
          name: def.name,
          ok: true,
          ms: elapsed(t0),
          skipped: outcome.skipped ?? false,
          ...outcome,
        };
        steps.push(step);
        opts.onStep?.(step);
      } catch (err) {
        const failure = stepFailure(index, def.name, def.id, err);
        const step: DemoStep = {
          index,
          id: def.id,
          name: def.name,
          ok: false,
          ms: elapsed(t0),
          skipped: false,
          summary: failure.message,
          details: {},
          error: { code: failure.stepCode ?? failure.code, message: err instanceof Error ? err.message : String(err), hint: failure.hint },
        };
        steps.push(step);
        opts.onStep?.(step);
        throw failure;
      }
    }
    const registry = ctx.registry!;
    return {
      ok: true,
      steps,
      commands: demoCommands({
        host: registry.host,
        keyName: DEMO_KEY.name,
        keyEmail: DEMO_KEY.email,
        chart: DEMO_CHART,
        project: DEMO_PROJECT,
        user: DEMO_USER,
      }),
      workspace,
      kept: opts.keep ?? false,
      registry: { url: registry.url, port: registry.port },
      ms: elapsed(started),
      warnings,
    };
  } finally {
    await ctx.registry?.close().catch(() => undefined);
    if (!opts.keep) {
      try {
        await rm(workspace, { recursive: true, force: true, maxRetries: 3 });
      } catch (err) {
        // Never in place of the demo's own outcome (a step's DemoFailedError): said, and the folder named.
        const message = leftover(workspace, err);
        warnings.push(message);
        opts.onWarning?.(message);
      }
    }
  }
}

/** The warning for a workspace that could not be removed: it holds the demo's keys and registry password. */
export function leftover(workspace: string, err: unknown): string {
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `the demo workspace ${workspace} could not be removed (${why}); it holds the demo's keys and registry credentials: remove it by hand`;
}

const elapsed = (t0: number) => Math.round(performance.now() - t0);

/** The step's error as DEMO_FAILED, naming the step and keeping the step's own code and hint. */
function stepFailure(index: number, name: string, id: DemoStepId, err: unknown): DemoFailedError {
  const where = `step ${index} (${name})`;
  if (err instanceof DemoFailedError) {
    return new DemoFailedError(`${where}: ${err.message}`, {
      hint: err.hint,
      cause: err.cause ?? err,
      step: id,
      ...(err.stepCode ? { stepCode: err.stepCode } : {}),
    });
  }
  if (err instanceof ChartprovError) {
    return new DemoFailedError(`${where}: [${err.code}] ${err.message}`, { hint: err.hint, cause: err, step: id, stepCode: err.code });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DemoFailedError(`${where}: ${message}`, { cause: err, step: id });
}
