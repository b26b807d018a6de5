/**
 * What the forms change (POST, each answered by a redirect to a page that
 * shows the result: POST-redirect-GET). Refusals the user can fix (a name
 * taken, a weak password) come back as a message on that page; the account
 * code does every check, as for `chartprov serve user add` and friends.
 */
import { isChartprovError } from '../../errors.js';
import { PROJECT_ROLES, type ProjectRole, type RegistryAction } from '../auth/model.js';
import type { SignedIn } from './context.js';
import { field } from './forms.js';
import { uiPath } from './html.js';
import { readableProject } from './catalog.js';
import { forbidden, redirect, UiError } from './respond.js';
import { managesMembers, requireSystemAdmin } from './views.js';

/** Runs a change; a ChartprovError becomes an error message on `back`, anything else is a bug and propagates. */
async function change(
  r: SignedIn,
  back: string,
  run: () => Promise<{ text: string; to?: string; secret?: { name: string; secret: string } }>,
) {
  try {
    const done = await run();
    r.session.flash = { kind: 'ok', text: done.text, ...(done.secret ? { secret: done.secret } : {}) };
    redirect(r.res, done.to ?? back);
  } catch (err) {
    if (!isChartprovError(err)) throw err;
    r.session.flash = { kind: 'error', text: err.message };
    redirect(r.res, back);
  }
}

export async function createProjectAction(r: SignedIn, form: URLSearchParams): Promise<void> {
  requireSystemAdmin(r);
  const name = field(form, 'name').trim();
  await change(r, '/ui/admin', async () => {
    // The creator becomes its project admin, as with Harbor's API.
    await r.server.access.accounts.createProject({ name, public: field(form, 'public') === 'true', owner: r.viewer.user });
    return { text: `Project ${name} created.`, to: uiPath('projects', name) };
  });
}

export async function createUserAction(r: SignedIn, form: URLSearchParams): Promise<void> {
  requireSystemAdmin(r);
  const name = field(form, 'name').trim();
  await change(r, '/ui/admin', async () => {
    await r.server.access.accounts.addUser({ name, password: field(form, 'password'), admin: field(form, 'admin') === 'true' });
    return { text: `User ${name} created.` };
  });
}

const ACTIONS: readonly RegistryAction[] = ['pull', 'push', 'delete'];

export async function createRobotAction(r: SignedIn, form: URLSearchParams): Promise<void> {
  requireSystemAdmin(r);
  const actions = form.getAll('actions').filter((a): a is RegistryAction => (ACTIONS as readonly string[]).includes(a));
  const days = field(form, 'expires_days').trim();
  if (days !== '' && !/^\d{1,5}$/.test(days)) throw new UiError(400, 'Expires in days must be a whole number.');
  await change(r, '/ui/admin', async () => {
    const { robot, secret } = await r.server.access.accounts.createRobot({
      name: field(form, 'name').trim(),
      permissions: actions.length > 0 ? [{ project: field(form, 'project'), actions }] : [],
      ...(days !== '' ? { expiresInDays: Number(days) } : {}),
    });
    return { text: `Robot ${robot.name} created.`, secret: { name: robot.name, secret } };
  });
}

export async function memberAction(r: SignedIn, projectName: string, form: URLSearchParams): Promise<void> {
  const project = readableProject(r.identity, projectName);
  if (!managesMembers(r, project.name)) throw forbidden('Only the project’s admins and system admins may change its members.');
  const user = field(form, 'user').trim();
  const role = field(form, 'role');
  if (role !== 'none' && !(PROJECT_ROLES as readonly string[]).includes(role)) throw new UiError(400, 'Unknown role.');
  const back = uiPath('projects', project.name);
  await change(r, back, async () => {
    await r.server.access.accounts.setMember(project.name, user, role === 'none' ? undefined : (role as ProjectRole));
    return { text: role === 'none' ? `${user} removed from ${project.name}.` : `${user} is now ${role} of ${project.name}.` };
  });
}
