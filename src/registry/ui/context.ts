/** What every UI handler gets: the request, the server's parts, and who is asking. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AccessControl } from '../auth/control.js';
import type { ApiIdentity } from '../harbor/identity.js';
import type { RegistryStorage } from '../storage/index.js';
import type { ChartYamlCache } from './chart-yaml.js';
import type { LoginCsrf } from './csrf.js';
import type { UiKeyring } from './keyring.js';
import type { Viewer } from './pages/layout.js';
import type { Session, SessionStore } from './session.js';
import type { SignatureCheckCache } from './signatures.js';

export interface UiServer {
  access: AccessControl;
  storage: RegistryStorage;
  sessions: SessionStore;
  loginCsrf: LoginCsrf;
  keyring?: UiKeyring;
  /** Signature checks and Chart.yaml texts of earlier page views. */
  signatureCache: SignatureCheckCache;
  chartYamlCache: ChartYamlCache;
  scheme: 'http' | 'https';
  /** Base URL clients use when a proxy is in front (no trailing slash). */
  externalUrl?: string;
  log?: (line: string) => void;
}

export interface UiRequest {
  server: UiServer;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** HEAD is served as GET without a body. */
  method: string;
}

export interface SignedIn extends UiRequest {
  sessionId: string;
  session: Session;
  identity: ApiIdentity;
  viewer: Viewer;
}

const HOST = /^[A-Za-z0-9.\-:[\]]{1,300}$/;

/** `host:port` as clients reach this server: the external URL's, else the Host header when it is well-formed. */
export function publicHost(r: UiRequest): string {
  if (r.server.externalUrl) return new URL(r.server.externalUrl).host;
  const host = r.req.headers.host;
  return host && HOST.test(host) ? host : 'localhost';
}

/**
 * Origins a form of ours is posted from: the external URL's, and the one the
 * Host header names. Without an external URL, a request that reached us on
 * a loopback address trusts only a Host that is an IP address or
 * `localhost`: a page of another site whose name was made to resolve to
 * 127.0.0.1 (DNS rebinding) sends its own name as Host and Origin, and must
 * not pass for us.
 */
export function ownOrigins(r: UiRequest): string[] {
  const origins: string[] = [];
  if (r.server.externalUrl) origins.push(new URL(r.server.externalUrl).origin.toLowerCase());
  const host = r.req.headers.host;
  if (host && HOST.test(host) && (r.server.externalUrl !== undefined || !isLoopback(r.req.socket?.localAddress) || addressHost(host)))
    origins.push(`${r.server.scheme}://${host}`.toLowerCase());
  return origins;
}

/** Whether a Host header names an IP address or localhost (a name no DNS answer can point elsewhere), with or without a port. */
export function addressHost(host: string): boolean {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:]+))(?::\d{1,5})?$/.exec(host);
  if (!m) return false;
  if (m[1] !== undefined) return isIP(m[1]) === 6;
  const name = m[2]!.toLowerCase();
  return isIP(name) === 4 || name === 'localhost';
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}

/** Cookies are Secure when the browser reaches us over TLS (directly, or through an https proxy). */
export function secureCookies(server: UiServer): boolean {
  return server.scheme === 'https' || (server.externalUrl?.startsWith('https:') ?? false);
}

/** The registry speaks plain HTTP to clients: pull commands need --plain-http. */
export function plainHttp(server: UiServer): boolean {
  return !secureCookies(server);
}
