/**
 * An HTTP proxy on 127.0.0.1 that sits in front of a real registry (the
 * embedded one, docker-registry) and breaks chosen requests the way networks
 * and overloaded registries do: a status instead of the answer (503 k times,
 * 429 with Retry-After), a connection reset after N bytes of a response or of
 * an upload, answers held back or never sent, bodies trickling in. Everything
 * else passes through untouched — the Host header too, so the registry's token
 * realm and upload Locations point back at the proxy and the client under
 * test never talks to the registry directly.
 */
import { Agent, createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fault =
  /** Answer this instead of forwarding (the request body is read and dropped). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Answer `status` with a body that quotes the request's Authorization header, as some debugging proxies do. */
  | { kind: 'echo-authorization'; status: number }
  /** Forward, then reset the connection after `afterBytes` bytes of the response body. */
  | { kind: 'reset-response'; afterBytes: number }
  /** Forward the request body, and reset the connection after `afterBytes` bytes of it. */
  | { kind: 'reset-request'; afterBytes: number }
  /** Forward, but hold the response headers back for `ms`. */
  | { kind: 'delay-headers'; ms: number }
  /** Read the request and never answer (the connection stays open until the proxy closes). */
  | { kind: 'hang' }
  /** Forward, and send the response body `chunkBytes` at a time, one chunk every `intervalMs`. */
  | { kind: 'throttle'; chunkBytes: number; intervalMs: number }
  /** Forward without the Range header: a registry that ignores Range and always sends the whole blob. */
  | { kind: 'ignore-range' };

export interface FaultRule {
  /** For messages and counts. */
  name: string;
  /** Default: any method. */
  method?: string;
  /** Matched against the path with its query. Default: any. */
  path?: RegExp;
  /**
   * Only requests that carry credentials (`Authorization`): the real request
   * after the 401 challenge round, not the anonymous first try. Default: any.
   */
  authorized?: boolean;
  /** Which of the matching requests get the fault, 1-based (`[2]`: the second one). Default: every one. */
  nth?: readonly number[];
  /** At most this many faults, then the rule lets requests through (`503 k times`). */
  times?: number;
  fault: Fault;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  /** The Range header it carried (a resumed download). */
  range?: string;
  /** The status the client got, when it got one. */
  status?: number;
  /** The name of the rule that broke it. */
  fault?: string;
}

export interface RuleState {
  readonly rule: FaultRule;
  /** Requests the rule matched. */
  matched: number;
  /** Faults it injected. */
  injected: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, as in oci:// references. */
  host: string;
  port: number;
  /** Every request, in arrival order. */
  requests: ProxiedRequest[];
  /** Adds a rule; the first rule that matches a request and still has faults to give applies. Returns its live counts. */
  add(rule: FaultRule): RuleState;
  /** Removes every rule: requests pass through again. */
  clear(): void;
  /** Requests seen that match (method and path pattern). */
  count(method: string, path?: RegExp): number;
  close(): Promise<void>;
}

/** Hop-by-hop headers are the proxy's own business on each side. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const rules: RuleState[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const pick = (req: IncomingMessage): RuleState | undefined => {
    for (const state of rules) {
      const { rule } = state;
      if (rule.method && rule.method !== req.method) continue;
      if (rule.path && !rule.path.test(req.url ?? '')) continue;
      if (rule.authorized && !req.headers.authorization) continue;
      state.matched++;
      // A rule that lets this one through leaves it to the next rule.
      if (rule.nth && !rule.nth.includes(state.matched)) continue;
      if (rule.times !== undefined && state.injected >= rule.times) continue;
      state.injected++;
      return state;
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    const seen: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      ...(req.headers.range ? { range: req.headers.range } : {}),
    };
    requests.push(seen);
    const state = pick(req);
    if (state) seen.fault = state.rule.name;
    res.on('finish', () => (seen.status = res.statusCode));
    void handle(req, res, state?.rule.fault).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): Promise<void> {
    if (fault?.kind === 'status') {
      req.resume();
      const body = fault.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${fault.status}` }] });
      res.writeHead(fault.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...fault.headers });
      res.end(body);
      return;
    }
    if (fault?.kind === 'echo-authorization') {
      req.resume();
      const body = `<html><body><h1>${fault.status} upstream error</h1><pre>request headers:\nAuthorization: ${req.headers.authorization ?? '(none)'}\n</pre></body></html>`;
      res.writeHead(fault.status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (fault?.kind === 'hang') {
      req.resume();
      return;
    }
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    if (fault?.kind === 'ignore-range') delete headers.range;
    const up = forward({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      up.on('response', resolve);
      up.on('error', reject);
    });
    // The request body, upstream; cut off after N bytes for a reset mid-upload.
    let sent = 0;
    req.on('data', (chunk: Buffer) => {
      if (fault?.kind === 'reset-request' && sent + chunk.length >= fault.afterBytes) {
        const part = chunk.subarray(0, Math.max(0, fault.afterBytes - sent));
        sent += part.length;
        up.write(part, () => {
          up.destroy();
          req.socket.resetAndDestroy();
        });
        req.pause();
        return;
      }
      sent += chunk.length;
      if (!up.write(chunk)) {
        req.pause();
        up.once('drain', () => req.resume());
      }
    });
    req.on('end', () => up.end());
    req.on('error', () => up.destroy());
    const upRes = await answered;
    if (fault?.kind === 'delay-headers') await sleep(fault.ms);
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
    res.writeHead(upRes.statusCode ?? 502, outHeaders);
    if (fault?.kind === 'reset-response') return resetAfter(upRes, res, fault.afterBytes);
    if (fault?.kind === 'throttle') return trickle(upRes, res, fault.chunkBytes, fault.intervalMs);
    upRes.pipe(res);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    add(rule) {
      const state: RuleState = { rule, matched: 0, injected: 0 };
      rules.push(state);
      return state;
    },
    clear() {
      rules.length = 0;
    },
    count(method, path) {
      return requests.filter((r) => r.method === method && (!path || path.test(r.url))).length;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** Passes `afterBytes` bytes of the body on, lets them reach the client, then resets the connection (a TCP RST). */
function resetAfter(upRes: IncomingMessage, res: ServerResponse, afterBytes: number): void {
  let passed = 0;
  const cut = () => {
    upRes.destroy();
    // Give the bytes written so far a moment to leave, so the client sees a body that breaks off.
    setTimeout(() => res.socket?.resetAndDestroy(), 30);
  };
  if (afterBytes <= 0) {
    res.flushHeaders();
    return cut();
  }
  upRes.on('data', (chunk: Buffer) => {
    if (passed >= afterBytes) return;
    const part = chunk.subarray(0, afterBytes - passed);
    passed += part.length;
    res.write(part);
    if (passed >= afterBytes) cut();
  });
  upRes.on('end', () => {
    if (passed < afterBytes) res.end();
  });
}

/** A body that keeps coming, slowly: `chunkBytes` every `intervalMs`. */
async function trickle(upRes: IncomingMessage, res: ServerResponse, chunkBytes: number, intervalMs: number): Promise<void> {
  for await (const chunk of upRes) {
    const buf = chunk as Buffer;
    for (let i = 0; i < buf.length; i += chunkBytes) {
      if (res.destroyed) return;
      res.write(buf.subarray(i, i + chunkBytes));
      await sleep(intervalMs);
    }
  }
  res.end();
}

/**
 * Whether a Range header resumes a read that broke off after at most `cut`
 * bytes: the proxy's reset can take bytes still in flight with it, so the
 * client resumes from what it received, which is 0 < N <= cut.
 */
export function resumesWithin(range: string | undefined, cut: number): boolean {
  const m = /^bytes=(\d+)-$/.exec(range ?? '');
  return m !== null && Number(m[1]) > 0 && Number(m[1]) <= cut;
}
