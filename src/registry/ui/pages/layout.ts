/** The frame every page shares: header with navigation and logout, the flash message, the content. */
import { CSRF_FIELD } from '../csrf.js';
import { html, safeHref, type HtmlValue, type SafeHtml } from '../html.js';
import type { Flash } from '../session.js';
import { STYLESHEET_PATH } from '../assets.js';

/** Who is looking, as the pages need it. */
export interface Viewer {
  user: string;
  systemAdmin: boolean;
  csrf: string;
}

export interface PageOptions {
  title: string;
  viewer?: Viewer;
  flash?: Flash;
  body: SafeHtml;
}

export function page(opts: PageOptions): SafeHtml {
  const v = opts.viewer;
  return html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${opts.title} · chartprov registry</title>
      <link rel="stylesheet" href="${STYLESHEET_PATH}" />
    </head>
    <body>
      <header class="top">
        <a class="brand" href="/ui/">chartprov registry</a>
        <nav>${v ? html`<a href="/ui/">Projects</a>` : ''} ${v?.systemAdmin ? html`<a href="/ui/admin">Administration</a>` : ''}</nav>
        ${
          v
            ? html`<span class="who">Signed in as <strong data-testid="user">${v.user}</strong></span>
                <form method="post" action="/ui/logout">${csrfField(v.csrf)}<button class="link" type="submit">Log out</button></form>`
            : ''
        }
      </header>
      <main>${opts.flash ? flashBox(opts.flash) : ''} ${opts.body}</main>
    </body>
  </html>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
}

function flashBox(flash: Flash): SafeHtml {
  return html`<div class="flash flash-${flash.kind === 'ok' ? 'ok' : 'error'}" role="status">
    ${flash.text}
    ${
      flash.secret
        ? html`<p>
            Secret of <code>${flash.secret.name}</code>, shown only this once:<br /><code class="secret" data-testid="robot-secret"
              >${flash.secret.secret}</code
            >
          </p>`
        : ''
    }
  </div>`;
}

/** A link to a path of this UI; anything else renders as `#`. */
export function link(path: string, text: HtmlValue, attrs: { testid?: string } = {}): SafeHtml {
  return html`<a href="${safeHref(path)}" ${attrs.testid ? html` data-testid="${attrs.testid}"` : ''}>${text}</a>`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes / 1024;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}
