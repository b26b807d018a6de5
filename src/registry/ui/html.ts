/**
 * HTML from TypeScript: the `html` tag escapes every interpolated value, so
 * text from charts (names, descriptions, Chart.yaml, annotations) can never
 * become markup. Only values already made by `html` (or wrapped in `raw`,
 * for markup written here, never for outside text) pass through unchanged.
 */

/** Markup that is safe to emit as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Interpolated values: text (escaped), numbers, markup, lists of those; null/undefined/false render as nothing. */
export type HtmlValue = string | number | SafeHtml | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Trusted markup written in this code base; never pass text that came from a request or a chart. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * A link target for an attribute: only paths of this UI (`/ui/…`) are
 * allowed, so a value that reached here from outside cannot become a
 * `javascript:` or off-site URL; anything else becomes `#`. The caller
 * builds paths with `uiPath`, which percent-encodes each segment.
 */
export function safeHref(path: string): string {
  return /^\/ui(?:\/|$)/.test(path) && !/^\/ui\/*\/\//.test(path) && !/[\\\s]/.test(path) ? path : '#';
}

/** `/ui/a/b` from segments, each percent-encoded (a segment holding `/` stays one segment). */
export function uiPath(...segments: string[]): string {
  return `/ui/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}
