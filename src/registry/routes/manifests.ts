/** `GET|HEAD|PUT|DELETE /v2/<name>/manifests/<reference>`. */
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../oci/json-depth.js';
import { digestOf, isDigest } from '../../oci/digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../../oci/helm-media.js';
import { isTag } from '../storage/names.js';
import { HttpError } from './errors.js';
import { readBodyLimited, sendEmpty, type RouteContext } from './context.js';
import { methodNotAllowed } from './blobs.js';

/** Distribution's default limit on a manifest PUT body. */
export const MANIFEST_MAX_BYTES = 4 << 20;

const MANIFEST_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);

interface ParsedManifest {
  mediaType?: unknown;
  config?: { digest?: unknown; mediaType?: unknown };
  layers?: unknown;
  manifests?: unknown;
  subject?: { digest?: unknown };
  artifactType?: unknown;
  annotations?: unknown;
}

function checkReference(reference: string): void {
  if (reference.includes(':')) {
    if (!isDigest(reference)) throw new HttpError(400, 'DIGEST_INVALID', 'invalid digest', { digest: reference.slice(0, 200) });
  } else if (!isTag(reference)) {
    throw new HttpError(400, 'TAG_INVALID', 'manifest tag did not match URI', { tag: reference.slice(0, 200) });
  }
}

/** Whether an Accept header admits `mediaType`; no header (or an empty one) admits anything. */
export function accepts(header: string | undefined, mediaType: string): boolean {
  const types = (header ?? '')
    .split(',')
    .map((t) => t.split(';')[0]!.trim().toLowerCase())
    .filter(Boolean);
  if (types.length === 0) return true;
  return types.some((t) => t === mediaType || t === '*/*' || (t.endsWith('/*') && mediaType.startsWith(t.slice(0, -1))));
}

function manifestUnknown(reference: string): HttpError {
  return new HttpError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference: reference.slice(0, 200) });
}

function invalid(message: string, detail?: unknown): HttpError {
  return new HttpError(400, 'MANIFEST_INVALID', message, detail);
}

export async function manifestRoute(ctx: RouteContext, name: string, reference: string): Promise<void> {
  const { req, res, storage } = ctx;
  checkReference(reference);
  switch (req.method) {
    case 'GET':
    case 'HEAD': {
      const m = await storage.getManifest(name, reference);
      if (!m) throw manifestUnknown(reference);
      // As distribution: a client that lists the types it reads gets none other (no conversion exists).
      if (!accepts(req.headers.accept, m.mediaType))
        throw new HttpError(404, 'MANIFEST_UNKNOWN', `manifest is ${m.mediaType}, which the Accept header does not list`, {
          reference: reference.slice(0, 200),
          mediaType: m.mediaType,
        });
      res.writeHead(200, {
        'Content-Type': m.mediaType,
        'Content-Length': String(m.bytes.length),
        'Docker-Content-Digest': m.digest,
        ETag: `"${m.digest}"`,
      });
      res.end(req.method === 'HEAD' ? undefined : m.bytes);
      return;
    }
    case 'PUT':
      await putManifest(ctx, name, reference);
      return;
    case 'DELETE': {
      const gone = isDigest(reference) ? await storage.deleteManifest(name, reference) : await storage.deleteTag(name, reference);
      if (!gone) throw manifestUnknown(reference);
      sendEmpty(res, 202);
      return;
    }
    default:
      throw methodNotAllowed('GET, HEAD, PUT, DELETE');
  }
}

async function putManifest(ctx: RouteContext, name: string, reference: string): Promise<void> {
  const { req, res, storage } = ctx;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const limit = ctx.limits.maxManifestBytes;
  const bytes = await readBodyLimited(req, limit, () => new HttpError(413, 'MANIFEST_INVALID', `manifest exceeds the limit of ${limit} bytes`, { limit }));
  if (contentType === '') throw invalid('manifest Content-Type is required');
  if (!MANIFEST_TYPES.has(contentType) && !INDEX_TYPES.has(contentType))
    throw invalid(`unsupported manifest media type ${contentType.slice(0, 200)}`, { mediaType: contentType.slice(0, 200) });
  if (jsonDepthExceeds(bytes)) throw invalid(`manifest is nested more than ${MAX_JSON_DEPTH} levels deep`);
  let parsed: ParsedManifest;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    parsed = value as ParsedManifest;
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (parsed.mediaType !== undefined && parsed.mediaType !== contentType)
    throw invalid('manifest mediaType does not match Content-Type', { mediaType: parsed.mediaType, contentType });
  // Manifests are stored under their sha256 (as distribution does); a sha512 name would be a 201 for a 404.
  if (reference.startsWith('sha512:'))
    throw new HttpError(400, 'DIGEST_INVALID', 'manifests are stored by sha256 digest; push by tag or by sha256', { digest: reference.slice(0, 200) });
  const digest = digestOf(bytes);
  if (isDigest(reference) && reference !== digest)
    throw new HttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { expected: reference, actual: digest });

  if (MANIFEST_TYPES.has(contentType)) {
    const config = parsed.config;
    if (typeof config !== 'object' || config === null || typeof config.digest !== 'string') throw invalid('manifest has no config');
    if (!Array.isArray(parsed.layers)) throw invalid('manifest has no layers array');
    const blobs = [config.digest, ...parsed.layers.map((l: unknown) => (l as { digest?: unknown } | null)?.digest)];
    for (const d of blobs) {
      if (typeof d !== 'string' || !isDigest(d)) throw invalid('manifest references an invalid digest', { digest: d ?? null });
      if (!(await storage.isLinked(name, d))) throw new HttpError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: d });
    }
  } else {
    if (!Array.isArray(parsed.manifests)) throw invalid('index has no manifests array');
    for (const child of parsed.manifests) {
      const d = (child as { digest?: unknown } | null)?.digest;
      if (typeof d !== 'string' || !isDigest(d)) throw invalid('index references an invalid digest', { digest: d ?? null });
      if (!(await storage.getManifest(name, d)))
        throw new HttpError(400, 'MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: d });
    }
  }
  let subject: string | undefined;
  if (parsed.subject !== undefined) {
    const s = parsed.subject;
    if (typeof s !== 'object' || s === null || typeof s.digest !== 'string' || !isDigest(s.digest))
      throw invalid('manifest subject is invalid');
    subject = s.digest;
  }
  const stored = await storage.putManifest(name, bytes, contentType, isDigest(reference) ? undefined : reference, subject);
  const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${stored}`, 'Docker-Content-Digest': stored };
  if (subject) headers['OCI-Subject'] = subject;
  sendEmpty(res, 201, headers);
}

/** `GET /v2/<name>/referrers/<digest>[?artifactType=T]`: an OCI index of the manifests whose subject is <digest>. */
export async function referrersRoute(ctx: RouteContext, name: string, digest: string): Promise<void> {
  const { req, res, url, storage } = ctx;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET, HEAD');
  if (!isDigest(digest)) throw new HttpError(400, 'DIGEST_INVALID', 'invalid digest', { digest: digest.slice(0, 200) });
  const filter = url.searchParams.get('artifactType');
  const manifests: Record<string, unknown>[] = [];
  for (const d of await storage.listReferrers(name, digest)) {
    const m = await storage.getManifest(name, d);
    if (!m) continue;
    let parsed: ParsedManifest;
    try {
      parsed = JSON.parse(m.bytes.toString('utf8')) as ParsedManifest;
    } catch {
      continue;
    }
    if (parsed?.subject?.digest !== digest) continue;
    const artifactType = typeof parsed.artifactType === 'string' ? parsed.artifactType : parsed.config?.mediaType;
    if (filter !== null && artifactType !== filter) continue;
    const desc: Record<string, unknown> = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    if (typeof artifactType === 'string') desc.artifactType = artifactType;
    if (parsed.annotations && typeof parsed.annotations === 'object') desc.annotations = parsed.annotations;
    manifests.push(desc);
  }
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  const headers: Record<string, string> = { 'Content-Type': OCI_INDEX, 'Content-Length': String(body.length) };
  if (filter !== null) headers['OCI-Filters-Applied'] = 'artifactType';
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
