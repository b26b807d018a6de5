/**
 * `GET /api/v2.0/ping` and `GET /api/v2.0/systeminfo`, which Harbor serves
 * to anyone; systeminfo adds the version and settings for a logged-in caller.
 */
import type { ApiContext } from './api.js';
import type { ApiIdentity } from './identity.js';
import { sendApiJson } from './json.js';

declare const __CHARTPROV_VERSION__: string;
const VERSION = typeof __CHARTPROV_VERSION__ === 'string' ? __CHARTPROV_VERSION__ : 'dev';

/**
 * Harbor's "v<version>-<build>" shape, so that clients gating features on the
 * version parse it: 2.8 is the first Harbor with the referrers API and
 * without ChartMuseum, the model this registry follows; the build part, semver
 * metadata, says what actually answers.
 */
export const HARBOR_VERSION = `v2.8.0+chartprov.${VERSION.replace(/[^0-9A-Za-z.-]/g, '-')}`;

export function pingRoute(ctx: ApiContext): void {
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '4' });
  ctx.res.end('Pong');
}

export function systemInfoRoute(ctx: ApiContext, who: ApiIdentity): void {
  const info: Record<string, unknown> = {
    auth_mode: 'db_auth',
    primary_auth_mode: false,
    self_registration: false,
    banner_message: '',
    oidc_provider_name: '',
  };
  if (!who.anonymous) {
    const host = ctx.req.headers.host;
    Object.assign(info, {
      harbor_version: HARBOR_VERSION,
      chartprov_version: VERSION,
      ...(host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? { registry_url: host } : {}),
      project_creation_restriction: 'adminonly',
      has_ca_root: false,
      read_only: false,
      registry_storage_provider_name: 'filesystem',
      notification_enable: false,
      current_time: new Date().toISOString(),
    });
  }
  sendApiJson(ctx.res, 200, info);
}
