/**
 * The UI's one stylesheet, served from the server itself (the CSP allows
 * nothing else, and registries often run where no CDN can be reached).
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './respond.js';

export const STYLESHEET = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dde6; --bg: #f6f7fa; --accent: #2456a6; --ok: #1c7a3a; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #1d2330; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; }
header.top nav { display: flex; gap: 1rem; flex: 1; }
header.top form { margin: 0; }
header.top .who { color: #c9d1e0; }
main { max-width: 1100px; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; word-break: break-all; }
h2 { font-size: 1.15rem; margin: 1.8rem 0 .6rem; }
a { color: var(--accent); }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; word-break: break-word; }
th { background: #eef1f6; font-weight: 600; white-space: nowrap; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; }
pre { background: #fff; border: 1px solid var(--line); padding: .8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; background: #fff; border: 1px solid var(--line); padding: .8rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
.status { font-weight: 700; padding: .05rem .45rem; border-radius: .3rem; white-space: nowrap; }
.status-valid { color: var(--ok); background: #e3f4e8; }
.status-invalid { color: var(--bad); background: #fbe6e4; }
.status-unknown-key { color: var(--warn); background: #fbf1dc; }
.muted { color: var(--muted); }
.flash { padding: .6rem .9rem; border-radius: .3rem; margin-bottom: 1rem; border: 1px solid; }
.flash-ok { background: #e3f4e8; border-color: #a9d9b7; }
.flash-error { background: #fbe6e4; border-color: #eab0aa; }
.secret { font-size: 1rem; background: #fff; border: 1px dashed var(--warn); padding: .4rem .6rem; display: inline-block; user-select: all; }
form.card, div.card { background: #fff; border: 1px solid var(--line); padding: 1rem; margin: .6rem 0 1rem; }
form.card label { display: block; margin: .4rem 0; }
form.card input[type=text], form.card input[type=password], form.card input[type=number], form.card select { padding: .35rem .5rem; min-width: 16rem; border: 1px solid var(--line); border-radius: .25rem; font: inherit; }
form.inline { display: inline; margin: 0; }
button { font: inherit; padding: .35rem .9rem; border-radius: .25rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.link { background: none; border: none; color: inherit; padding: 0; text-decoration: underline; }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
.login { max-width: 24rem; margin: 4rem auto; }
.crumbs { color: var(--muted); margin-bottom: .5rem; word-break: break-all; }
`;

const BODY = Buffer.from(STYLESHEET.trimStart(), 'utf8');

/** Part of the stylesheet's URL, so a new version of the server is never served an old cached copy. */
export const STYLESHEET_VERSION = createHash('sha256').update(BODY).digest('hex').slice(0, 12);

export const STYLESHEET_PATH = `/ui/assets/style-${STYLESHEET_VERSION}.css`;

export function sendStylesheet(res: ServerResponse, head: boolean): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/css; charset=utf-8',
    'Cache-Control': 'public, max-age=31536000, immutable',
    'Content-Length': String(BODY.length),
  });
  res.end(head ? undefined : BODY);
}
