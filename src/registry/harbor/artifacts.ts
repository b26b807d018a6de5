/**
 * `/api/v2.0/projects/{p}/repositories/{r}/artifacts[/{reference}]`: list,
 * get and delete, with tags and (`with_accessory=true`) the accessories:
 * the manifests whose `subject` is the artifact, i.e. its signatures and
 * provenance attached through the referrers API.
 */
import { isDigest } from '../../oci/digest.js';
import type { RegistryStorage } from '../storage/index.js';
import { isTag } from '../storage/names.js';
import type { ApiContext } from './api.js';
import { artifactJson, extraAttrsOf } from './artifact-json.js';
import type { ApiIdentity } from './identity.js';
import { badRequest, boolParam, notFound, precondition, sendApiEmpty, sendApiJson } from './json.js';
import { pageHeaders, pageOf, pageRequest } from './pagination.js';
import { fullRepositoryName } from './repositories.js';
import { RepositoryView, type ManifestFacts } from './repository-view.js';

export async function listArtifacts(ctx: ApiContext, who: ApiIdentity, projectName: string, repository: string): Promise<void> {
  const project = who.requireProject(projectName, 'read');
  const name = fullRepositoryName(project, repository);
  const page = pageRequest(ctx.url);
  const withTags = boolParam(ctx.url.searchParams.get('with_tag'), 'with_tag', true);
  const withAccessories = boolParam(ctx.url.searchParams.get('with_accessory'), 'with_accessory', false);
  // Harbor answers an unknown repository with an empty list, not a 404.
  const view = await RepositoryView.load(ctx.storage, name);
  const filter = queryFilter(ctx.url.searchParams.get('q'), view);
  // Without push times in storage, digest order is the stable order we can offer.
  const artifacts = view
    .artifacts()
    .filter(filter)
    .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const items = [];
  for (const m of pageOf(artifacts, page)) {
    const extraAttrs = await extraAttrsOf(ctx.storage, m);
    items.push(artifactJson(view, m, { projectId: project.id, withTags, withAccessories, ...(extraAttrs ? { extraAttrs } : {}) }));
  }
  sendApiJson(ctx.res, 200, items, pageHeaders(ctx.url, artifacts.length, page));
}

export async function artifactRoute(
  ctx: ApiContext,
  who: ApiIdentity,
  projectName: string,
  repository: string,
  reference: string,
): Promise<void> {
  const deleting = ctx.req.method === 'DELETE';
  const project = who.requireProject(projectName, deleting ? 'delete' : 'read');
  const name = fullRepositoryName(project, repository);
  if (reference.includes(':') ? !isDigest(reference) : !isTag(reference))
    throw badRequest(`invalid reference ${JSON.stringify(reference.slice(0, 200))}: use a tag or a digest`);
  const view = await RepositoryView.load(ctx.storage, name);
  const digest = view.resolve(reference);
  const m = digest === undefined ? undefined : view.manifests.get(digest);
  if (!m) throw notFound(`artifact ${name}${isDigest(reference) ? '@' : ':'}${reference} not found`);
  if (deleting) {
    await deleteArtifactDeeply(ctx.storage, view, m.digest);
    sendApiEmpty(ctx.res, 200);
    return;
  }
  const withTags = boolParam(ctx.url.searchParams.get('with_tag'), 'with_tag', true);
  const withAccessories = boolParam(ctx.url.searchParams.get('with_accessory'), 'with_accessory', false);
  const extraAttrs = await extraAttrsOf(ctx.storage, m);
  sendApiJson(
    ctx.res,
    200,
    artifactJson(view, m, { projectId: project.id, withTags, withAccessories, ...(extraAttrs ? { extraAttrs } : {}) }),
  );
}

/**
 * Deletes an artifact as Harbor does: with all its tags (even when named by
 * one tag), its accessories, and the children of an index that nothing else
 * holds; refused while an index in the repository still lists it.
 */
export async function deleteArtifactDeeply(storage: RegistryStorage, view: RepositoryView, digest: string): Promise<void> {
  await deleteDeeply(storage, view, digest, true, new Set());
}

async function deleteDeeply(
  storage: RegistryStorage,
  view: RepositoryView,
  digest: string,
  root: boolean,
  deleting: Set<string>,
): Promise<void> {
  if (deleting.has(digest)) return;
  const m = view.manifests.get(digest);
  if (!m) return;
  if (!root && view.tagsOf(digest).length > 0) return;
  if (view.parentsOf(digest).some((p) => !deleting.has(p))) {
    if (root) throw precondition('the deleting artifact is referenced by others', 'VIOLATE_FOREIGN_KEY_CONSTRAINT');
    return;
  }
  deleting.add(digest);
  // Accessories go first and whatever their tags (Harbor's hard references): a crash midway leaves the subject, not orphans.
  for (const accessory of view.accessoriesOf(digest)) {
    const held = view.parentsOf(accessory.digest).some((p) => !deleting.has(p));
    await deleteDeeply(storage, view, accessory.digest, !held, deleting);
  }
  await storage.deleteManifest(view.name, digest);
  for (const child of m.children) await deleteDeeply(storage, view, child.digest, false, deleting);
}

/**
 * The part of Harbor's `q` the chart flow uses: `tags=*` (tagged),
 * `tags=nil` (untagged), `tags=v`, `tags=~v` (contains) and `digest=d`.
 * Other keys are ignored, as Harbor's ORM ignores keys it cannot filter on.
 */
function queryFilter(q: string | null, view: RepositoryView): (m: ManifestFacts) => boolean {
  const tests: ((m: ManifestFacts) => boolean)[] = [];
  let text = q ?? '';
  try {
    // Harbor unescapes q once more, for clients that send `q=tags%3Dnil` already escaped.
    text = decodeURIComponent(text);
  } catch {
    // not escaped twice: use as is
  }
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    const fuzzy = value.startsWith('~');
    if (fuzzy) value = value.slice(1);
    if (key === 'tags' || key === 'Tags') {
      if (fuzzy) tests.push((m) => view.tagsOf(m.digest).some((t) => t.includes(value)));
      else if (value === '*') tests.push((m) => view.tagsOf(m.digest).length > 0);
      else if (value === 'nil') tests.push((m) => view.tagsOf(m.digest).length === 0);
      else tests.push((m) => view.tagsOf(m.digest).includes(value));
    } else if (key === 'digest') {
      tests.push((m) => (fuzzy ? m.digest.includes(value) : m.digest === value));
    }
  }
  return (m) => tests.every((t) => t(m));
}
