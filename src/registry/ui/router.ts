/**
 * The web UI on the registry's own port: `/` redirects to `/ui/`, every
 * page under `/ui/` needs a signed-in registry user except the login form
 * and the stylesheet. On every request the session's account is looked up
 * again (deleted, re-created or re-passworded users lose their sessions, a
 * demoted admin loses the admin pages at once); every POST must come from
 * our own origin and carry the session's CSRF token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessControl } from '../auth/control.js';
import { ApiIdentity } from '../harbor/identity.js';
import type { RegistryStorage } from '../storage/index.js';
import { createMemberOrAdminAction } from './dispatch-post.js';
import { STYLESHEET_PATH, sendStylesheet } from './assets.js';
import { CSRF_FIELD, LoginCsrf, sameOrigin, tokensEqual } from './csrf.js';
import { ownOrigins, secureCookies, type SignedIn, type UiRequest, type UiServer } from './context.js';
import { ChartYamlCache } from './chart-yaml.js';
import { readForm } from './forms.js';
import { UiKeyring } from './keyring.js';
import { SESSION_COOKIE, doLogin, doLogout, showLogin } from './login.js';
import { errorPage } from './pages/login.js';
import { readCookie, redirect, sendHtml, securityHeaders, UiError, notFound, SECURITY_HEADERS } from './respond.js';
import { credentialStamp, DEFAULT_SESSION_LIMITS, SessionStore, type Clock, type SessionLimits } from './session.js';
import { SignatureCheckCache } from './signatures.js';
import { adminView, homeView, projectView, repositoryView, versionView } from './views.js';

export interface WebUiOptions {
  access: AccessControl;
  storage: RegistryStorage;
  scheme: 'http' | 'https';
  externalUrl?: string;
  /** Public keyring (any format gpg writes) signatures are verified against; without it none shows as valid. */
  keyring?: string;
  sessions?: Partial<SessionLimits>;
  /** For tests: the sessions' clock (ms). */
  clock?: Clock;
  log?: (line: string) => void;
}

export interface WebUi {
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  readonly sessions: SessionStore;
}

/** Paths the UI answers: `/`, `/ui` and everything under `/ui/`. */
export function isUiPath(path: string): boolean {
  return path === '/' || path === '/ui' || path.startsWith('/ui/');
}

export async function createWebUi(opts: WebUiOptions): Promise<WebUi> {
  const server: UiServer = {
    access: opts.access,
    storage: opts.storage,
    sessions: new SessionStore({ ...DEFAULT_SESSION_LIMITS, ...opts.sessions }, opts.clock),
    loginCsrf: new LoginCsrf(opts.clock),
    ...(opts.keyring !== undefined ? { keyring: await UiKeyring.open(opts.keyring) } : {}),
    signatureCache: new SignatureCheckCache(),
    chartYamlCache: new ChartYamlCache(),
    scheme: opts.scheme,
    ...(opts.externalUrl ? { externalUrl: opts.externalUrl.replace(/\/+$/, '') } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  };
  return {
    sessions: server.sessions,
    handle: (req, res, url) => handle(server, req, res, url),
  };
}

async function handle(server: UiServer, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const r: UiRequest = { server, req, res, url, method };
  let signedIn: SignedIn | undefined;
  // Every answer, whichever path writes it; with HSTS when the browser comes over https.
  for (const [name, value] of Object.entries(securityHeaders(secureCookies(server)))) res.setHeader(name, value);
  try {
    if (method !== 'POST') req.resume();
    signedIn = await route(r, (s) => (signedIn = s));
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!req.readableEnded) req.resume();
    const e = err instanceof UiError ? err : new UiError(500, 'Something went wrong on the server.');
    if (!(err instanceof UiError))
      server.log?.(`UI ${method} ${url.pathname} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    sendHtml(res, e.status, errorPage(e.status, e.message, signedIn?.viewer), e.headers, method === 'HEAD');
  }
}

function allow(r: UiRequest, ...methods: string[]): void {
  if (!methods.includes(r.method) && !(r.method === 'HEAD' && methods.includes('GET')))
    throw new UiError(405, 'This page does not take that method.', { Allow: methods.join(', ') });
}

/** Path segments after `/ui/`, each percent-decoded once; a trailing slash adds nothing. */
function segmentsOf(pathname: string): string[] {
  const parts = pathname.slice('/ui/'.length).split('/');
  if (parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    throw notFound();
  }
}

async function route(r: UiRequest, onSignedIn: (s: SignedIn) => void): Promise<SignedIn | undefined> {
  const path = r.url.pathname;
  if (path === '/' || path === '/ui') {
    allow(r, 'GET');
    r.res.writeHead(302, { ...SECURITY_HEADERS, Location: '/ui/', 'Content-Length': '0' });
    r.res.end();
    return undefined;
  }
  if (path === STYLESHEET_PATH) {
    allow(r, 'GET');
    sendStylesheet(r.res, r.method === 'HEAD');
    return undefined;
  }
  if (path === '/ui/login') {
    allow(r, 'GET', 'POST');
    if (r.method === 'POST') await doLogin(r);
    else if (signIn(r)) redirect(r.res, '/ui/');
    else showLogin(r);
    return undefined;
  }
  const s = signIn(r);
  if (!s) {
    // Not signed in (or the session ended): to the login form, whatever was asked.
    if (r.method === 'POST') r.req.resume();
    redirect(r.res, '/ui/login');
    return undefined;
  }
  onSignedIn(s);
  const seg = segmentsOf(path);
  if (r.method === 'POST') {
    const form = await checkedForm(s);
    if (seg.length === 1 && seg[0] === 'logout') doLogout(s);
    else await createMemberOrAdminAction(s, seg, form);
    return s;
  }
  allow(r, 'GET');
  const [first, project, sub, rest, leaf, reference] = seg;
  if (seg.length === 0) await homeView(s);
  else if (first === 'admin' && seg.length === 1) adminView(s);
  else if (first === 'projects' && seg.length === 2) await projectView(s, project!);
  else if (first === 'projects' && sub === 'repositories' && seg.length === 4) await repositoryView(s, project!, rest!);
  else if (first === 'projects' && sub === 'repositories' && leaf === 'versions' && seg.length === 6)
    await versionView(s, project!, rest!, reference!);
  else throw notFound();
  return s;
}

/** The session behind the cookie, if it is live and its account is still the one that logged in. */
function signIn(r: UiRequest): SignedIn | undefined {
  const sessionId = readCookie(r.req, SESSION_COOKIE);
  const session = r.server.sessions.get(sessionId);
  if (!session || !sessionId) return undefined;
  const state = r.server.access.accounts.store.current();
  const user = state.users.find((u) => u.name === session.user && u.id === session.userId);
  if (!user || credentialStamp(user.passwordHash) !== session.credentialStamp) {
    r.server.sessions.delete(sessionId);
    return undefined;
  }
  const identity = new ApiIdentity(state, { kind: 'user', name: user.name, admin: user.admin });
  return { ...r, sessionId, session, identity, viewer: { user: user.name, systemAdmin: identity.systemAdmin, csrf: session.csrf } };
}

/** A signed-in POST's form, once it is known to come from our own page: Origin first (before reading the body), then the token. */
async function checkedForm(s: SignedIn): Promise<URLSearchParams> {
  if (!sameOrigin(s.req, ownOrigins(s))) {
    s.req.resume();
    throw new UiError(403, 'This form was not sent from this registry’s own page.');
  }
  const form = await readForm(s.req);
  if (!tokensEqual(form.get(CSRF_FIELD) ?? undefined, s.session.csrf))
    throw new UiError(403, 'The form’s security token is missing or wrong. Reload the page and try again.');
  return form;
}
