/**
 * `/service/token`: the Docker token endpoint as Harbor serves it. GET with
 * optional Basic credentials (docker, Helm, skopeo, chartprov), or POST with
 * an OAuth2 password grant (oras-go with ForceAttemptOAuth2, containerd).
 */
import { parseScope, type AccessEntry } from '../auth/access.js';
import { addressOf, decodeBasic, type AccessControl } from '../auth/control.js';
import { ANONYMOUS, type Principal } from '../auth/model.js';
import { methodNotAllowed } from './blobs.js';
import { readBodyLimited, sendJson, type RouteContext } from './context.js';
import { HttpError } from './errors.js';

const MAX_FORM_BYTES = 64 * 1024;

export async function tokenRoute(ctx: RouteContext, access: AccessControl): Promise<void> {
  const { req, url } = ctx;
  let scopes: string[];
  let user: { user: string; password: string } | undefined;
  if (req.method === 'GET') {
    req.resume();
    scopes = url.searchParams.getAll('scope');
    const header = req.headers.authorization;
    if (header?.toLowerCase().startsWith('basic ')) {
      user = decodeBasic(header.slice(6).trim());
      if (!user) throw unauthorized('malformed Basic credentials');
    }
  } else if (req.method === 'POST') {
    const body = await readBodyLimited(req, MAX_FORM_BYTES, () => new HttpError(413, 'SIZE_INVALID', 'token request body too large'));
    const form = new URLSearchParams(body.toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType !== 'password')
      throw new HttpError(400, 'UNSUPPORTED', `grant_type ${JSON.stringify(grantType)} is not supported; use password`);
    user = { user: form.get('username') ?? '', password: form.get('password') ?? '' };
    scopes = form.getAll('scope');
  } else {
    throw methodNotAllowed('GET, POST');
  }

  let principal: Principal = ANONYMOUS;
  if (user) {
    const result = await access.login(user.user, user.password, addressOf(req));
    if (result && 'limited' in result)
      throw new HttpError(429, 'TOOMANYREQUESTS', 'too many failed logins; try again later', undefined, {
        'Retry-After': String(result.limited),
      });
    if (!result) throw unauthorized('invalid username or password');
    principal = result;
  }
  const requested = scopes
    .flatMap((s) => s.split(' '))
    .map(parseScope)
    .filter((s): s is AccessEntry => s !== undefined);
  const issued = await access.issueToken(principal, requested);
  // Both names: `token` per Docker's spec, `access_token` per OAuth2.
  sendJson(ctx.res, 200, {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt,
  });
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'UNAUTHORIZED', message);
}
