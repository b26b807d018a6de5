/** The project list (home page) and one project: its repositories and, for its admins, its members. */
import { PROJECT_ROLES, type MemberRecord, type ProjectRole } from '../../auth/model.js';
import type { ProjectSummary } from '../catalog.js';
import { html, uiPath, type SafeHtml } from '../html.js';
import { csrfField, link, page, type Viewer } from './layout.js';
import type { Flash } from '../session.js';

export function projectsPage(viewer: Viewer, projects: ProjectSummary[], flash?: Flash): SafeHtml {
  return page({
    title: 'Projects',
    viewer,
    ...(flash ? { flash } : {}),
    body: html`<h1>Projects</h1>
      ${
        projects.length === 0
          ? html`<p class="muted">No project you can see yet.</p>`
          : html`<table data-testid="projects">
              <thead>
                <tr>
                  <th>Project</th>
                  <th>Access</th>
                  <th>Your role</th>
                  <th>Repositories</th>
                </tr>
              </thead>
              <tbody>
                ${projects.map(
                  (p) =>
                    html`<tr>
                      <td>${link(uiPath('projects', p.name), p.name)}</td>
                      <td>${p.public ? 'public' : 'private'}</td>
                      <td>${p.role ?? (viewer.systemAdmin ? 'system admin' : '—')}</td>
                      <td>${p.repositories}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}

export interface ProjectPageData {
  name: string;
  public: boolean;
  /** `host:port` as clients write it in oci:// references. */
  host: string;
  repositories: string[];
  /** Shown (with the forms to change them) to the project's admins and system admins only. */
  members?: MemberRecord[];
}

export function projectPage(viewer: Viewer, data: ProjectPageData, flash?: Flash): SafeHtml {
  const prefix = `${data.name}/`;
  return page({
    title: data.name,
    viewer,
    ...(flash ? { flash } : {}),
    body: html`<div class="crumbs"><a href="/ui/">Projects</a> /</div>
      <h1>${data.name} <span class="muted">(${data.public ? 'public' : 'private'})</span></h1>
      <h2>Repositories</h2>
      ${
        data.repositories.length === 0
          ? html`<p class="muted">No repository yet. Push a chart: <code>helm push CHART.tgz oci://${data.host}/${data.name}</code></p>`
          : html`<table data-testid="repositories">
              <thead>
                <tr>
                  <th>Repository</th>
                </tr>
              </thead>
              <tbody>
                ${data.repositories.map(
                  (r) =>
                    html`<tr>
                      <td>${link(uiPath('projects', data.name, 'repositories', r.slice(prefix.length)), r)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      ${data.members ? membersSection(viewer, data.name, data.members) : ''}`,
  });
}

function roleOptions(selected?: ProjectRole): SafeHtml[] {
  return PROJECT_ROLES.map((r) => html`<option value="${r}" ${r === selected ? html` selected` : ''}>${r}</option>`);
}

function membersSection(viewer: Viewer, project: string, members: MemberRecord[]): SafeHtml {
  const action = uiPath('projects', project, 'members');
  return html`<h2>Members</h2>
    <table data-testid="members">
      <thead>
        <tr>
          <th>User</th>
          <th>Role</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${members.map(
          (m) =>
            html`<tr>
              <td>${m.user}</td>
              <td>${m.role}</td>
              <td>
                <form class="inline" method="post" action="${action}">
                  ${csrfField(viewer.csrf)}<input type="hidden" name="user" value="${m.user}" /><input
                    type="hidden"
                    name="role"
                    value="none"
                  /><button class="danger" type="submit">Remove</button>
                </form>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    <form class="card" method="post" action="${action}" data-testid="add-member">
      ${csrfField(viewer.csrf)}
      <label>User <br /><input type="text" name="user" required /></label>
      <label
        >Role <br /><select name="role">
          ${roleOptions('developer')}
        </select></label
      >
      <button type="submit">Add or change member</button>
    </form>`;
}
