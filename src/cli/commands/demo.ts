import { rmSync } from 'node:fs';
import { DemoFailedError, UsageError } from '../../errors.js';
import { leftover, runDemo, type DemoStep } from '../../flows/demo.js';
import { printFailure, printJson, println } from '../output.js';
import type { OutputFormat } from '../output.js';

interface DemoFlags {
  keep?: boolean;
  port?: string;
  output: OutputFormat;
}

const WIDTH = 56;

/** One line per step as it finishes (a transcript: the same on a terminal and in a pipe), then the commands. */
export async function demoCommand(flags: DemoFlags): Promise<number> {
  const port = parsePort(flags.port);
  const json = flags.output === 'json';
  const steps: DemoStep[] = [];
  let workspace: string | undefined;
  const warnings: string[] = [];
  // Ctrl-C stops after the step in flight, so the registry is closed and the
  // workspace removed; a second Ctrl-C leaves at once, removing the workspace
  // first (it holds the demo's keys and registry password) unless --keep.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (!interrupt.signal.aborted) return interrupt.abort();
    if (workspace && !flags.keep) {
      try {
        rmSync(workspace, { recursive: true, force: true });
      } catch (err) {
        process.stderr.write(`warning: ${leftover(workspace, err)}\n`);
      }
    } else if (workspace) process.stderr.write(`workspace kept: ${workspace}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  if (!json) println('chartprov demo: sign a Helm chart, push it to a registry, pull it back verified (nothing else needed)');
  try {
    const t = await runDemo({
      keep: flags.keep ?? false,
      port,
      signal: interrupt.signal,
      onStart: (info) => (workspace = info.workspace),
      onWarning: (message) => {
        warnings.push(message);
        process.stderr.write(`warning: ${message}\n`);
      },
      onStep: (step) => {
        steps.push(step);
        if (!json) printStep(step);
      },
    });
    if (json) {
      printJson({
        ok: true,
        ms: t.ms,
        registry: t.registry,
        steps: t.steps,
        commands: t.commands,
        ...(t.kept ? { workspace: t.workspace } : {}),
        ...(t.warnings.length > 0 ? { warnings: t.warnings } : {}),
      });
      return 0;
    }
    const skipped = t.steps.filter((s) => s.skipped).length;
    println();
    println(`All ${t.steps.length - skipped} steps passed${skipped ? ` (${skipped} skipped)` : ''} in ${seconds(t.ms)}.`);
    println();
    println('The same by hand, in a folder of your own:');
    for (const c of t.commands) println(`  ${c}`);
    if (t.kept) {
      println();
      println(`Workspace kept: ${t.workspace}`);
    }
    return 0;
  } catch (err) {
    if (flags.keep && workspace && !json) process.stderr.write(`workspace kept: ${workspace}\n`);
    if (!json || !(err instanceof DemoFailedError)) throw err;
    // One JSON document: the steps so far with the error, as other commands print theirs.
    printJson({
      ok: false,
      steps,
      ...(flags.keep && workspace ? { workspace } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      error: err.toJSON(),
    });
    printFailure(err.toJSON());
    return err.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new UsageError(`--port ${value} is not a port number`, { hint: 'give 1-65535, or leave --port out to use a free port' });
  return port;
}

function printStep(step: DemoStep): void {
  const n = `${String(step.index).padStart(2)}.`;
  if (step.skipped) {
    println(`${n} ${step.name}: ${step.summary}`);
    return;
  }
  const status = step.ok ? `${step.ms} ms` : `FAILED after ${step.ms} ms`;
  println(`${n} ${`${step.name} `.padEnd(WIDTH, '.')} ${status.padStart(8)}`);
  if (step.ok) println(`    ${step.summary}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
