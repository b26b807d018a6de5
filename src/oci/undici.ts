/**
 * The parts of undici the registry client uses: the connection pool (Agent)
 * and its request API. undici's index also loads fetch, WebSocket, caches and
 * mocks, about 50 ms of module evaluation on every registry command; loading
 * the pieces directly skips that. The proxy agent is loaded only when a proxy
 * is configured.
 */
import type { Dispatcher, EnvHttpProxyAgent } from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import api from 'undici/lib/api/index.js';
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js';

// What undici's index does at load: give every dispatcher the request API.
Object.assign(DispatcherClass.prototype, api);

export const Agent = AgentClass;

export async function envHttpProxyAgent(opts: EnvHttpProxyAgent.Options): Promise<Dispatcher> {
  const { default: ProxyAgent } = await import('undici/lib/dispatcher/env-http-proxy-agent.js');
  return new ProxyAgent(opts);
}

/** undici's `request(url, opts)` bound to a dispatcher. */
export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** undici's `request(url, opts)` on the given dispatcher. */
export function request(url: URL, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = opts;
  return dispatcher.request({ ...rest, origin: url.origin, path: `${url.pathname}${url.search}` });
}
