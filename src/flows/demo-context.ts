/**
 * What the steps of `chartprov demo` share: the names it uses, the
 * workspace layout, the state the steps build up, and small checks that turn
 * a flow's unexpected answer into a step failure.
 */
import { join } from 'node:path';
import { DemoFailedError } from '../errors.js';
import type { RunningRegistry } from '../registry/server.js';
import type { ProvenanceCheck } from './discover.js';
import type { PushResult } from './push-charts.js';
import type { RegistryOptions } from './registry-client.js';
import type { Signer } from './signer.js';

export const DEMO_CHART = 'hello-world';
export const DEMO_PROJECT = 'helm-charts';
export const DEMO_USER = 'demo';
export const DEMO_KEY = { name: 'Chartprov Demo', email: 'demo@example.com' };

/** The demo's state as the steps build it up. */
export interface DemoContext {
  workspace: string;
  /** Environment for every flow and for helm: HOME, Helm's and Docker's config all inside the workspace. */
  env: NodeJS.ProcessEnv;
  /** 0: any free port. */
  port: number;
  /** helm binary, false to skip, undefined to look it up on PATH. */
  helm: string | false | undefined;
  /** PATH to look helm up in. */
  searchPath: string | undefined;
  signer?: Signer;
  fingerprint?: string;
  registry?: RunningRegistry;
  password?: string;
  signedChart?: string;
  unsignedChart?: string;
  /** The manifest digest of the unsigned chart as pushed, which signing in the registry must not change. */
  unsignedDigest?: string;
}

/** What a step reports: one human line and the facts behind it. */
export interface StepOutcome {
  summary: string;
  details: Record<string, unknown>;
  skipped?: boolean;
}

export interface StepDefinition {
  id: DemoStepId;
  name: string;
  run(ctx: DemoContext): Promise<StepOutcome>;
}

export type DemoStepId =
  | 'generate-key'
  | 'create-chart'
  | 'package-sign'
  | 'start-registry'
  | 'create-accounts'
  | 'login'
  | 'push-signed'
  | 'push-unsigned'
  | 'sign-in-registry'
  | 'discover'
  | 'pull-verify-layer'
  | 'pull-verify-referrer'
  | 'verify-remote'
  | 'helm-pull-verify'
  | 'reject-tampered'
  | 'reject-unknown-key';

export const paths = (ws: string) => ({
  keys: join(ws, 'keys'),
  secring: join(ws, 'keys', 'secring.gpg'),
  pubring: join(ws, 'keys', 'pubring.gpg'),
  charts: join(ws, 'charts'),
  dist: join(ws, 'dist'),
  registryData: join(ws, 'registry'),
  credentials: join(ws, 'registry-config.json'),
  home: join(ws, 'home'),
  pulled: join(ws, 'pulled'),
  helmPulled: join(ws, 'helm-pulled'),
  tampered: join(ws, 'tampered'),
  stranger: join(ws, 'stranger'),
  refused: join(ws, 'refused'),
});

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new DemoFailedError(`${what} is missing: an earlier step did not run`);
  return value;
}

export function registryOpts(ctx: DemoContext): RegistryOptions {
  return { plainHttp: true, registryConfig: paths(ctx.workspace).credentials, env: ctx.env };
}

export function host(ctx: DemoContext): string {
  return need(ctx.registry, 'the registry').host;
}

export const repoRef = (ctx: DemoContext, tag?: string) => `oci://${host(ctx)}/${DEMO_PROJECT}/${DEMO_CHART}${tag ? `:${tag}` : ''}`;

/** A batch flow's single result, or its error as a step failure. */
export function single(result: PushResult | undefined): Extract<PushResult, { ok: true }> {
  if (!result) throw new DemoFailedError('nothing was pushed');
  if (!result.ok)
    throw new DemoFailedError(`[${result.error.code}] ${result.error.message}`, {
      ...(result.error.hint ? { hint: result.error.hint } : {}),
      stepCode: result.error.code,
    });
  return result;
}

export function checkValid(what: string, p: ProvenanceCheck | undefined): string {
  if (p?.status !== 'valid') throw new DemoFailedError(`${what}: ${p ? `${p.status}${p.reason ? ` (${p.reason})` : ''}` : 'not found'}`);
  return p.signer?.userId ?? '';
}
