/** The login form and the error page. */
import { CSRF_FIELD } from '../csrf.js';
import { html, type SafeHtml } from '../html.js';
import { page, type Viewer } from './layout.js';

export function loginPage(opts: { csrf: string; error?: string; user?: string }): SafeHtml {
  return page({
    title: 'Log in',
    body: html`<div class="login">
      <h1>Log in</h1>
      ${opts.error ? html`<div class="flash flash-error" role="alert" data-testid="login-error">${opts.error}</div>` : ''}
      <form class="card" method="post" action="/ui/login">
        <input type="hidden" name="${CSRF_FIELD}" value="${opts.csrf}" />
        <label>User <br /><input type="text" name="username" autocomplete="username" required value="${opts.user ?? ''}" /></label>
        <label>Password <br /><input type="password" name="password" autocomplete="current-password" required /></label>
        <button type="submit">Log in</button>
      </form>
      <p class="muted">Use an account of this registry (<code>chartprov serve user add</code>). Robot accounts cannot log in here.</p>
    </div>`,
  });
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Too large',
  415: 'Unsupported form',
  429: 'Too many attempts',
  500: 'Internal error',
};

export function errorPage(status: number, message: string, viewer?: Viewer): SafeHtml {
  const title = TITLES[status] ?? 'Error';
  return page({
    title,
    ...(viewer ? { viewer } : {}),
    body: html`<h1>${title}</h1>
      <p data-testid="error">${message}</p>
      <p><a href="/ui/">Back to the projects</a></p>`,
  });
}
