/**
 * The parts of undici the registry client uses: the connection pool (Agent)
 * and its request API. undici's index also loads fetch, WebSocket, caches and
 * mocks, about 50 ms of module evaluation on every registry command; loading
 * the pieces directly skips that (the proxy agent costs ~2 ms more).
 */
import type { Dispatcher, EnvHttpProxyAgent } from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import api from 'undici/lib/api/index.js';
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js';
import ProxyAgentClass from 'undici/lib/dispatcher/env-http-proxy-agent.js';

// What undici's index does at load: give every dispatcher the request API.
Object.assign(DispatcherClass.prototype, api);

export const Agent = AgentClass;

export function envHttpProxyAgent(opts: EnvHttpProxyAgent.Options): Dispatcher {
  return new ProxyAgentClass(opts);
}

/** undici's `request(url, opts)` bound to a dispatcher. */
export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** undici's `request(url, opts)` on the given dispatcher. */
export function request(url: URL, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = opts;
  return dispatcher.request({ ...rest, origin: url.origin, path: `${url.pathname}${url.search}` });
}
