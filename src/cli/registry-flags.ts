// The connection flags every registry command takes, turned into the flows' RegistryOptions.
import { UsageError } from '../errors.js';
import type { CopySideOptions } from '../flows/copy-charts.js';
import type { RegistryOptions } from '../flows/registry-client.js';

export interface RegistryFlags {
  plainHttp?: boolean;
  insecureSkipTlsVerify?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  registryConfig?: string;
  /** `--timeout`: how long a registry may stay silent (`30s`, `5m`, `1m30s`, `500ms`; a bare number is seconds). */
  timeout?: string;
  debug?: boolean;
}

export function registryOptionsFromFlags(flags: RegistryFlags): RegistryOptions {
  const timeoutMs = timeoutFrom(flags);
  const trace = flags.debug || process.env.CHARTPROV_DEBUG === '1' ? (line: string) => process.stderr.write(`debug: ${line}\n`) : undefined;
  return {
    plainHttp: flags.plainHttp,
    insecureSkipTlsVerify: flags.insecureSkipTlsVerify,
    caFile: flags.caFile,
    certFile: flags.certFile,
    keyFile: flags.keyFile,
    registryConfig: flags.registryConfig,
    // --debug shows each HTTP exchange (never headers, so never a credential).
    clientOptions:
      trace || timeoutMs !== undefined ? { ...(trace ? { trace } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) } : undefined,
  };
}

/** `--timeout`, else `CHARTPROV_TIMEOUT`, in ms; undefined for the client's default (5 min). */
export function timeoutFrom(flags: { timeout?: string }, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (flags.timeout !== undefined) return parseTimeout(flags.timeout, '--timeout');
  const fromEnv = env.CHARTPROV_TIMEOUT;
  return fromEnv === undefined || fromEnv.trim() === '' ? undefined : parseTimeout(fromEnv, 'CHARTPROV_TIMEOUT');
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's duration syntax as Helm's --timeout takes it (`90s`, `5m`, `1m30s`, `1.5s`, `500ms`), or bare seconds. */
export function parseTimeout(value: string, name: string): number {
  const text = value.trim();
  let ms = Number.NaN;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  }
  ms = Math.round(ms);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a duration`, {
      hint: 'write it as 30s, 5m, 1m30s or 500ms (a bare number is seconds)',
    });
  }
  return ms;
}

/** One side's `--from-*` / `--to-*` connection flags (copy, mirror): only those given. */
export function sideOptions(flags: {
  plainHttp?: boolean | undefined;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
}): CopySideOptions {
  const o: CopySideOptions = {};
  if (flags.plainHttp) o.plainHttp = true;
  if (flags.caFile) o.caFile = flags.caFile;
  if (flags.certFile) o.certFile = flags.certFile;
  if (flags.keyFile) o.keyFile = flags.keyFile;
  if (flags.insecureSkipTlsVerify) o.insecureSkipTlsVerify = true;
  return o;
}
