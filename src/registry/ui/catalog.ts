/**
 * What the UI shows, read from the registry's storage and accounts with the
 * registry's own visibility rules (harbor/identity.ts): a user sees public
 * projects, the ones they are a member of, and everything when a system
 * admin. A project they cannot see is answered exactly like one that does
 * not exist (404), and so is anything inside it.
 */
import type { ApiIdentity } from '../harbor/identity.js';
import type { ProjectRecord, ProjectRole } from '../auth/model.js';
import { artifactKind, extraAttrsOf } from '../harbor/artifact-json.js';
import { projectRepositories } from '../harbor/repositories.js';
import { RepositoryView, type ManifestFacts } from '../harbor/repository-view.js';
import { parseHelmManifest, type HelmManifest } from '../../oci/helm-manifest-parse.js';
import { PROVENANCE_ARTIFACT_TYPE } from '../../oci/provenance-artifact.js';
import type { RegistryStorage } from '../storage/index.js';
import { checkRepoName } from '../storage/names.js';
import { notFound } from './respond.js';

export interface ProjectSummary {
  name: string;
  public: boolean;
  role?: ProjectRole;
  repositories: number;
}

export interface ChartVersionSummary {
  /** Tags naming this manifest (a chart's version, `+` written `_`). */
  tags: string[];
  digest: string;
  /** Manifest, config and layers, as Harbor counts an artifact's size. */
  size: number;
  /** The manifest's `org.opencontainers.image.created`, when set (the storage records no push time). */
  created?: string;
  version?: string;
  description?: string;
  /** Provenance layer and provenance referrers. */
  signatures: number;
}

export interface ChartVersionDetail extends ChartVersionSummary {
  manifest: HelmManifest;
  config: Record<string, unknown>;
}

const CREATED = 'org.opencontainers.image.created';

export async function visibleProjects(storage: RegistryStorage, who: ApiIdentity): Promise<ProjectSummary[]> {
  const projects = who.state.projects.filter((p) => who.sees(p)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const all = projects.length > 0 ? await storage.listRepositories() : [];
  const out: ProjectSummary[] = [];
  for (const p of projects) {
    const role = who.roleIn(p);
    out.push({
      name: p.name,
      public: p.public,
      ...(role ? { role } : {}),
      repositories: (await projectRepositories(storage, p.name, all)).length,
    });
  }
  return out;
}

/** The project when this viewer may read it; 404 otherwise, whether it exists or not. */
export function readableProject(who: ApiIdentity, name: string): ProjectRecord {
  const project = who.state.projects.find((p) => p.name === name);
  if (!project || !who.may(project, 'read')) throw notFound();
  return project;
}

/** `project/rest` checked as a repository name; 404 for anything that is not one. */
export function repositoryName(project: ProjectRecord, rest: string): string {
  try {
    return checkRepoName(`${project.name}/${rest}`);
  } catch {
    throw notFound();
  }
}

export async function repositoriesOf(storage: RegistryStorage, project: ProjectRecord): Promise<string[]> {
  return projectRepositories(storage, project.name);
}

/** Every chart in the repository, newest tag first where the manifests say when they were made. */
export async function chartVersions(storage: RegistryStorage, repository: string): Promise<ChartVersionSummary[]> {
  const view = await RepositoryView.load(storage, repository);
  if (!view.exists) throw notFound();
  const out: ChartVersionSummary[] = [];
  for (const m of view.artifacts()) {
    if (artifactKind(m) !== 'CHART') continue;
    const detail = await describe(storage, view, m);
    if (detail) out.push(summary(detail));
  }
  return out.sort(
    (a, b) => (b.created ?? '').localeCompare(a.created ?? '') || (a.tags[0] ?? a.digest).localeCompare(b.tags[0] ?? b.digest),
  );
}

/** One chart by tag or digest; 404 when the repository does not hold it or it is not a chart. */
export async function chartVersion(storage: RegistryStorage, repository: string, reference: string): Promise<ChartVersionDetail> {
  const view = await RepositoryView.load(storage, repository);
  const digest = view.resolve(reference);
  const m = digest === undefined ? undefined : view.manifests.get(digest);
  const detail = m && artifactKind(m) === 'CHART' ? await describe(storage, view, m) : undefined;
  if (!detail) throw notFound();
  return detail;
}

async function describe(storage: RegistryStorage, view: RepositoryView, m: ManifestFacts): Promise<ChartVersionDetail | undefined> {
  const stored = await storage.getManifest(view.name, m.digest);
  if (!stored) return undefined;
  let manifest: HelmManifest;
  try {
    manifest = parseHelmManifest(stored.bytes);
  } catch {
    return undefined;
  }
  const config = (await extraAttrsOf(storage, m)) ?? {};
  const referrers = view.accessoriesOf(m.digest).filter((a) => a.artifactType === PROVENANCE_ARTIFACT_TYPE).length;
  const created = m.annotations?.[CREATED];
  return {
    tags: view.tagsOf(m.digest).sort(),
    digest: m.digest,
    size: view.sizeOf(m.digest),
    ...(created ? { created } : {}),
    ...(typeof config.version === 'string' ? { version: config.version } : {}),
    ...(typeof config.description === 'string' ? { description: config.description } : {}),
    signatures: referrers + (manifest.prov ? 1 : 0),
    manifest,
    config,
  };
}

function summary(d: ChartVersionDetail): ChartVersionSummary {
  const { manifest: _m, config: _c, ...rest } = d;
  return rest;
}
