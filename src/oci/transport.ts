/**
 * The HTTP connection pool every registry request goes through: keep-alive,
 * parallel connections per registry, and the TLS settings a user can give
 * (CA file, client certificate, skip verification).
 */
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { Agent, envHttpProxyAgent } from './undici.js';
import { FileNotFoundError, FileReadError } from '../errors.js';

export interface TlsOptions {
  /** PEM file of extra CAs to trust for the registry (in addition to the system's). */
  caFile?: string;
  /** Client certificate (PEM) for registries that require mutual TLS. */
  certFile?: string;
  /** Key of the client certificate (PEM). */
  keyFile?: string;
  /** Accept any server certificate. For test registries only. */
  insecureSkipTlsVerify?: boolean;
}

export interface TransportOptions extends TlsOptions {
  /** Connections kept per registry (default 16: parallel transfers, each on its own socket). */
  connections?: number;
  /** Seconds allowed to establish a connection (default 15). */
  connectTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * The CA list for a custom `ca`. Passing `ca` to TLS replaces the default
 * trust store, NODE_EXTRA_CA_CERTS included, so we add the system roots and
 * the extra bundles back. bin/chartprov moves NODE_EXTRA_CA_CERTS to
 * CHARTPROV_EXTRA_CA_CERTS (Node parses it eagerly at start-up), so both are read.
 */
async function trustedCas(caFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string[] | undefined> {
  const extra = [env.CHARTPROV_EXTRA_CA_CERTS, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => Boolean(f));
  if (!caFile && extra.length === 0) return undefined;
  const cas = [...rootCertificates];
  for (const file of new Set(extra)) {
    // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; do the same by skipping it.
    const pem = await readFile(file, 'utf8').catch(() => undefined);
    if (pem) cas.push(pem);
  }
  if (caFile) cas.push(await readPem(caFile, 'CA file'));
  return cas;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (!text.includes('-----BEGIN ')) {
      throw new FileReadError(path, what, { hint: `${what} must be PEM (-----BEGIN …-----)` });
    }
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, what, { cause: err });
    if (err instanceof FileReadError) throw err;
    throw new FileReadError(path, what, { cause: err });
  }
}

/** A pooled dispatcher for registry traffic; close it when done. */
export async function createTransport(opts: TransportOptions = {}): Promise<Dispatcher> {
  const env = opts.env ?? process.env;
  const ca = await trustedCas(opts.caFile, env);
  const cert = opts.certFile ? await readPem(opts.certFile, 'client certificate') : undefined;
  const key = opts.keyFile ? await readPem(opts.keyFile, 'client key') : undefined;
  const connect = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: !opts.insecureSkipTlsVerify,
    timeout: opts.connectTimeoutMs ?? 15_000,
  };
  const agentOptions = {
    connections: opts.connections ?? 16,
    keepAliveTimeout: 30_000,
    connect,
  };
  // Registries behind a corporate proxy: HTTPS_PROXY / HTTP_PROXY / NO_PROXY as Helm (Go's net/http) reads them,
  // from our env (an empty lower-case variable does not hide the upper-case one). Unlike Go, undici sends
  // https through HTTP_PROXY when HTTPS_PROXY is unset (as curl does).
  const httpProxy = env.http_proxy || env.HTTP_PROXY;
  const httpsProxy = env.https_proxy || env.HTTPS_PROXY;
  if (!httpProxy && !httpsProxy) return new Agent(agentOptions);
  return envHttpProxyAgent({
    ...agentOptions,
    requestTls: connect,
    httpProxy: httpProxy ?? '',
    httpsProxy: httpsProxy ?? '',
    // Go never proxies loopback: a local registry (the embedded one, a test one) stays direct.
    noProxy: [env.no_proxy || env.NO_PROXY, 'localhost', '127.0.0.1', '::1', '[::1]'].filter(Boolean).join(','),
  });
}
