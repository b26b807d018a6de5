/** The embedded registry (`chartprov serve`): accounts, its config, its data folder. */
import { ChartprovError } from './base.js';

/** A project, user or robot name the embedded registry cannot accept. */
export class AccountNameInvalidError extends ChartprovError {
  readonly code = 'ACCOUNT_NAME_INVALID';
  protected get defaultHint(): string {
    return 'use lower-case letters, digits and . _ - (a letter or digit first and last)';
  }
}

/** Creating a project, user or robot that already exists. */
export class AccountExistsError extends ChartprovError {
  readonly code = 'ACCOUNT_EXISTS';
  protected get defaultHint(): string {
    return 'choose another name, or list what exists with chartprov serve project list / user list';
  }
}

/** A project, user or robot the embedded registry does not have. */
export class AccountNotFoundError extends ChartprovError {
  readonly code = 'ACCOUNT_NOT_FOUND';
  protected get defaultHint(): string {
    return 'check the name; chartprov serve project list / user list show what exists';
  }
}

/** Deleting a project that still holds repositories (Harbor refuses it too). */
export class ProjectNotEmptyError extends ChartprovError {
  readonly code = 'PROJECT_NOT_EMPTY';
  protected get defaultHint(): string {
    return 'delete its repositories first, or pass --force to delete them with it';
  }
}

/** A password the embedded registry refuses (Harbor's rule: 8-128 characters with upper, lower case and a digit). */
export class PasswordPolicyError extends ChartprovError {
  readonly code = 'PASSWORD_POLICY';
  protected get defaultHint(): string {
    return 'use 8 to 128 characters with at least one upper-case letter, one lower-case letter and one digit';
  }
}

/** `chartprov serve --config` file (or a flag) that cannot be used. */
export class ServeConfigError extends ChartprovError {
  readonly code = 'SERVE_CONFIG_INVALID';
  protected get defaultHint(): string {
    return 'fix the file given with --config; chartprov serve --help lists every setting';
  }
}

// ---- embedded registry ----------------------------------------------------

/** Another live process (a running registry, a gc) holds the registry's data folder. */
export class DataLockedError extends ChartprovError {
  readonly code = 'REGISTRY_DATA_LOCKED';
  protected get defaultHint(): string {
    return 'stop the registry server using this data folder (or wait for the other command to finish), then try again';
  }
}
