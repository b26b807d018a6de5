/**
 * Logging in and out. The password check is the registry's own
 * (AccessControl.login: bcrypt, and the same per-account and per-address
 * failure limits as Basic auth and the token service). A successful login
 * always starts a new session with a new id, so an id planted before login
 * is worth nothing after it.
 */
import { addressOf } from '../auth/control.js';
import { ROBOT_PREFIX } from '../auth/model.js';
import { CSRF_FIELD, LOGIN_FORM_MAX_AGE_SECONDS, sameOrigin } from './csrf.js';
import { ownOrigins, secureCookies, type SignedIn, type UiRequest } from './context.js';
import { field, readForm } from './forms.js';
import { loginPage } from './pages/login.js';
import { cookie, readCookie, redirect, sendHtml, UiError } from './respond.js';

export const SESSION_COOKIE = 'chartprov_session';
export const LOGIN_COOKIE = 'chartprov_login';

/** GET /ui/login: the form, with a fresh nonce cookie and its token. */
export function showLogin(r: UiRequest, status = 200, error?: string, user?: string, headers: Record<string, string> = {}): void {
  const nonce = r.server.loginCsrf.nonce();
  const setCookie = cookie(LOGIN_COOKIE, nonce, { maxAgeSeconds: LOGIN_FORM_MAX_AGE_SECONDS, secure: secureCookies(r.server) });
  r.res.setHeader('Set-Cookie', setCookie);
  sendHtml(
    r.res,
    status,
    loginPage({ csrf: r.server.loginCsrf.tokenFor(nonce), ...(error ? { error } : {}), ...(user ? { user } : {}) }),
    headers,
    r.method === 'HEAD',
  );
}

/** POST /ui/login. */
export async function doLogin(r: UiRequest): Promise<void> {
  if (!sameOrigin(r.req, ownOrigins(r))) {
    r.req.resume();
    throw new UiError(403, 'This form was not sent from this registry’s own page.');
  }
  const form = await readForm(r.req);
  if (!r.server.loginCsrf.check(readCookie(r.req, LOGIN_COOKIE), form.get(CSRF_FIELD) ?? undefined))
    throw new UiError(403, 'The login form has expired or was not sent from this registry’s own page. Reload the page and try again.');
  const name = field(form, 'username');
  const password = field(form, 'password');
  if (name.startsWith(ROBOT_PREFIX)) return showLogin(r, 401, 'Robot accounts cannot log in to the web UI.', name);
  const result = await r.server.access.login(name, password, addressOf(r.req));
  if (result && 'limited' in result)
    return showLogin(r, 429, `Too many failed logins. Try again in ${result.limited} seconds.`, name, {
      'Retry-After': String(result.limited),
    });
  const user = result?.kind === 'user' ? r.server.access.accounts.store.current().users.find((u) => u.name === result.name) : undefined;
  if (!user) return showLogin(r, 401, 'Invalid user name or password.', name);
  r.server.sessions.delete(readCookie(r.req, SESSION_COOKIE));
  const { id } = r.server.sessions.create(user);
  const secure = secureCookies(r.server);
  redirect(r.res, '/ui/', {
    'Set-Cookie': [cookie(SESSION_COOKIE, id, { secure }), cookie(LOGIN_COOKIE, '', { maxAgeSeconds: 0, secure })],
  });
}

/** POST /ui/logout (CSRF-checked by the router like every signed-in POST). */
export function doLogout(r: SignedIn): void {
  r.server.sessions.delete(r.sessionId);
  redirect(r.res, '/ui/login', { 'Set-Cookie': cookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure: secureCookies(r.server) }) });
}
