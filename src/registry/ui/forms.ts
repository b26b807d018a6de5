/**
 * Form posts (`application/x-www-form-urlencoded`), small and read whole:
 * a form of this UI is a few hundred bytes, so anything larger is refused.
 */
import type { IncomingMessage } from 'node:http';
import { readBodyLimited } from '../routes/context.js';
import { UiError } from './respond.js';

const MAX_FORM_BYTES = 16 * 1024;

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new UiError(415, 'Forms must be sent as application/x-www-form-urlencoded.');
  }
  const body = await readBodyLimited(req, MAX_FORM_BYTES, () => new UiError(413, 'The form is too large.'));
  return new URLSearchParams(body.toString('utf8'));
}

/** One field's value; a missing field is ''. */
export function field(form: URLSearchParams, name: string): string {
  return form.get(name) ?? '';
}
