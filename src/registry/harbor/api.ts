import type { AccessControl, Caller } from '../auth/control.js';
import type { RouteContext } from '../routes/context.js';
import { HttpError } from '../routes/errors.js';

export interface ApiContext extends RouteContext {
  access: AccessControl;
  caller: Caller;
}

// The Harbor API subset is being written; until then every path is unknown.
export async function harborApiRoute(ctx: ApiContext): Promise<void> {
  ctx.req.resume();
  throw new HttpError(404, 'NOT_FOUND', `no API at ${ctx.url.pathname}`);
}
