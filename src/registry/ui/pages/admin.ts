/** System administration: projects, users and robot accounts (system admins only). */
import type { RobotInfo, UserInfo } from '../../auth/accounts.js';
import type { ProjectRecord } from '../../auth/model.js';
import { html, type SafeHtml } from '../html.js';
import type { Flash } from '../session.js';
import { csrfField, page, type Viewer } from './layout.js';

export interface AdminPageData {
  projects: ProjectRecord[];
  users: UserInfo[];
  robots: RobotInfo[];
}

export function adminPage(viewer: Viewer, d: AdminPageData, flash?: Flash): SafeHtml {
  const csrf = csrfField(viewer.csrf);
  return page({
    title: 'Administration',
    viewer,
    ...(flash ? { flash } : {}),
    body: html`<h1>Administration</h1>
      <h2>New project</h2>
      <form class="card" method="post" action="/ui/admin/projects" data-testid="create-project">
        ${csrf}
        <label>Name <br /><input type="text" name="name" required /></label>
        <label><input type="checkbox" name="public" value="true" /> Public (anyone may pull)</label>
        <button type="submit">Create project</button>
      </form>

      <h2>Users</h2>
      <table data-testid="users">
        <thead>
          <tr>
            <th>User</th>
            <th>System admin</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          ${d.users.map(
            (u) =>
              html`<tr>
                <td>${u.name}</td>
                <td>${u.admin ? 'yes' : ''}</td>
                <td>${u.createdAt}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <form class="card" method="post" action="/ui/admin/users" data-testid="create-user">
        ${csrf}
        <label>Name <br /><input type="text" name="name" required /></label>
        <label
          >Password (8–128 characters, upper and lower case, a digit) <br /><input
            type="password"
            name="password"
            autocomplete="new-password"
            required
        /></label>
        <label><input type="checkbox" name="admin" value="true" /> System admin</label>
        <button type="submit">Create user</button>
      </form>

      <h2>Robot accounts</h2>
      <table data-testid="robots">
        <thead>
          <tr>
            <th>Robot</th>
            <th>Permissions</th>
            <th>Expires</th>
          </tr>
        </thead>
        <tbody>
          ${d.robots.map(
            (r) =>
              html`<tr>
                <td>${r.name}</td>
                <td>${r.permissions.map((p) => `${p.project}: ${p.actions.join(', ')}`).join('; ')}</td>
                <td>${r.expiresAt ?? 'never'}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <form class="card" method="post" action="/ui/admin/robots" data-testid="create-robot">
        ${csrf}
        <label>Name <br /><input type="text" name="name" required /></label>
        <label
          >Project <br /><select name="project">
            <option value="*">* (every project)</option>
            ${d.projects.map((p) => html`<option value="${p.name}">${p.name}</option>`)}
          </select></label
        >
        <label><input type="checkbox" name="actions" value="pull" checked /> pull</label>
        <label><input type="checkbox" name="actions" value="push" /> push</label>
        <label><input type="checkbox" name="actions" value="delete" /> delete</label>
        <label>Expires in days (empty: never) <br /><input type="number" name="expires_days" min="1" max="36500" /></label>
        <button type="submit">Create robot</button>
      </form>`,
  });
}
