/** What every UI handler gets: the request, the server's parts, and who is asking. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../auth/control.js';
import type { ApiIdentity } from '../harbor/identity.js';
import type { RegistryStorage } from '../storage/index.js';
import type { LoginCsrf } from './csrf.js';
import type { UiKeyring } from './keyring.js';
import type { Viewer } from './pages/layout.js';
import type { Session, SessionStore } from './session.js';

export interface UiServer {
  access: AccessControl;
  storage: RegistryStorage;
  sessions: SessionStore;
  loginCsrf: LoginCsrf;
  keyring?: UiKeyring;
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

/** Origins a form of ours is posted from. */
export function ownOrigins(r: UiRequest): string[] {
  const origins: string[] = [];
  if (r.server.externalUrl) origins.push(new URL(r.server.externalUrl).origin.toLowerCase());
  const host = r.req.headers.host;
  if (host && HOST.test(host)) origins.push(`${r.server.scheme}://${host}`.toLowerCase());
  return origins;
}

/** Cookies are Secure when the browser reaches us over TLS (directly, or through an https proxy). */
export function secureCookies(server: UiServer): boolean {
  return server.scheme === 'https' || (server.externalUrl?.startsWith('https:') ?? false);
}

/** The registry speaks plain HTTP to clients: pull commands need --plain-http. */
export function plainHttp(server: UiServer): boolean {
  return !secureCookies(server);
}
