/** Which form a signed-in POST is, by its path (the CSRF and origin checks are done by then). */
import { createProjectAction, createRobotAction, createUserAction, memberAction } from './actions.js';
import type { SignedIn } from './context.js';
import { notFound } from './respond.js';

export async function createMemberOrAdminAction(s: SignedIn, seg: string[], form: URLSearchParams): Promise<void> {
  const [first, second, third] = seg;
  if (first === 'admin' && seg.length === 2) {
    if (second === 'projects') return createProjectAction(s, form);
    if (second === 'users') return createUserAction(s, form);
    if (second === 'robots') return createRobotAction(s, form);
  }
  if (first === 'projects' && third === 'members' && seg.length === 3) return memberAction(s, second!, form);
  throw notFound();
}
