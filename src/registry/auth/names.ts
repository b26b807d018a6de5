import { AccountNameInvalidError, PasswordPolicyError } from '../../errors.js';
import { ROBOT_PREFIX } from './model.js';

// Harbor's project-name rule, which is also a valid first path component of
// a distribution-spec repository name.
const PROJECT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
// `$` is reserved for robot accounts and `:` would break Basic auth.
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

export function checkProjectName(name: string): string {
  if (name.length === 0 || name.length > 255 || !PROJECT_NAME.test(name))
    throw new AccountNameInvalidError(`invalid project name ${JSON.stringify(name)}`);
  return name;
}

export function checkUserName(name: string): string {
  if (name.length === 0 || name.length > 255 || !USER_NAME.test(name))
    throw new AccountNameInvalidError(`invalid user name ${JSON.stringify(name)}`, {
      hint: 'use letters, digits and . _ @ - (starting with a letter or digit); names starting with robot$ are robot accounts',
    });
  return name;
}

/** Accepts `name` or `robot$name` and returns the full `robot$name`. */
export function robotAccountName(name: string): string {
  const short = name.startsWith(ROBOT_PREFIX) ? name.slice(ROBOT_PREFIX.length) : name;
  if (short.length === 0 || short.length > 255 || !PROJECT_NAME.test(short))
    throw new AccountNameInvalidError(`invalid robot name ${JSON.stringify(name)}`);
  return ROBOT_PREFIX + short;
}

/** Harbor's password rule, so that accounts made here can move to Harbor. */
export function checkPassword(password: string): string {
  if (password.length < 8 || password.length > 128 || !/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password))
    throw new PasswordPolicyError('the password does not meet the policy (8-128 characters, upper and lower case, a digit)');
  return password;
}
