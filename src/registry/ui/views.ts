/** The pages a signed-in user reads (GET): projects, a project, a repository, a chart version, administration. */
import { chartVersion, chartVersions, readableProject, repositoriesOf, repositoryName, visibleProjects } from './catalog.js';
import { chartYamlOf } from './chart-yaml.js';
import { plainHttp, publicHost, type SignedIn } from './context.js';
import { adminPage } from './pages/admin.js';
import { projectPage, projectsPage } from './pages/projects.js';
import { repositoryPage, versionPage, type RepositoryRef } from './pages/versions.js';
import { forbidden, sendHtml } from './respond.js';
import type { Flash } from './session.js';
import { storedChartSignatures } from './signatures.js';

/** Signatures verified for one view of a chart version; the others are counted. */
export const MAX_SIGNATURES_PER_VIEW = 20;

/**
 * The one-time message of the previous POST, taken out of the session by a
 * GET only: a HEAD (a link checker, a prefetch) shows nothing, so it must
 * not use up a robot's secret that is shown only once.
 */
function takeFlash(r: SignedIn): Flash | undefined {
  const flash = r.session.flash;
  if (r.method === 'GET') delete r.session.flash;
  return flash;
}

function send(r: SignedIn, page: Parameters<typeof sendHtml>[2]): void {
  sendHtml(r.res, 200, page, {}, r.method === 'HEAD');
}

export async function homeView(r: SignedIn): Promise<void> {
  send(r, projectsPage(r.viewer, await visibleProjects(r.server.storage, r.identity), takeFlash(r)));
}

/** Whether this viewer manages the project's members: its project admins and system admins. */
export function managesMembers(r: SignedIn, projectName: string): boolean {
  const project = r.identity.state.projects.find((p) => p.name === projectName);
  return project !== undefined && (r.identity.systemAdmin || r.identity.roleIn(project) === 'projectAdmin');
}

export async function projectView(r: SignedIn, name: string): Promise<void> {
  const project = readableProject(r.identity, name);
  const repositories = await repositoriesOf(r.server.storage, project);
  const members = managesMembers(r, project.name) ? project.members : undefined;
  send(
    r,
    projectPage(
      r.viewer,
      { name: project.name, public: project.public, host: publicHost(r), repositories, ...(members ? { members } : {}) },
      takeFlash(r),
    ),
  );
}

function repositoryRef(r: SignedIn, projectName: string, rest: string): RepositoryRef {
  const project = readableProject(r.identity, projectName);
  return { project: project.name, repository: repositoryName(project, rest), host: publicHost(r), plainHttp: plainHttp(r.server) };
}

export async function repositoryView(r: SignedIn, projectName: string, rest: string): Promise<void> {
  const ref = repositoryRef(r, projectName, rest);
  send(r, repositoryPage(r.viewer, ref, await chartVersions(r.server.storage, ref.repository)));
}

export async function versionView(r: SignedIn, projectName: string, rest: string, reference: string): Promise<void> {
  const ref = repositoryRef(r, projectName, rest);
  const storage = r.server.storage;
  const version = await chartVersion(storage, ref.repository, reference);
  const keyring = r.server.keyring ? await r.server.keyring.snapshot() : undefined;
  const signed = await storedChartSignatures({
    storage,
    repository: ref.repository,
    digest: version.digest,
    manifest: version.manifest,
    ...(keyring ? { keys: keyring.keys, keyringStamp: keyring.stamp } : {}),
    // Anyone who may push can attach referrers: a page verifies a bounded number, and remembers what it verified.
    maxChecked: MAX_SIGNATURES_PER_VIEW,
    cache: r.server.signatureCache,
  });
  const chartYaml = await chartYamlOf(storage, version.manifest.chart, version.config, r.server.chartYamlCache);
  send(
    r,
    versionPage(r.viewer, {
      ref,
      version,
      chartYaml,
      signatures: signed?.signatures ?? [],
      unchecked: signed?.unchecked ?? 0,
      keyring: keyring !== undefined,
    }),
  );
}

export function requireSystemAdmin(r: SignedIn): void {
  if (!r.identity.systemAdmin) throw forbidden('Only system admins may open the administration pages.');
}

export function adminView(r: SignedIn): void {
  requireSystemAdmin(r);
  const accounts = r.server.access.accounts;
  const projects = accounts.listProjects().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  send(r, adminPage(r.viewer, { projects, users: accounts.listUsers(), robots: accounts.listRobots() }, takeFlash(r)));
}
