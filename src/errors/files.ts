/** Files the user names: missing, unreadable, not writable. */
import { ChartprovError, type ErrorDetails } from './base.js';

export class FileNotFoundError extends ChartprovError {
  readonly code = 'FILE_NOT_FOUND';
  protected get defaultHint(): string {
    return 'check the path and try again';
  }
  constructor(
    readonly path: string,
    what = 'file',
    details: ErrorDetails = {},
  ) {
    super(`${what} not found: ${path}`, details);
  }
}

/** The path exists but cannot be read as the file it should be (a folder, no permission). */
export class FileReadError extends ChartprovError {
  readonly code = 'FILE_UNREADABLE';
  protected get defaultHint(): string {
    return 'check that it is a readable file';
  }
  constructor(
    readonly path: string,
    what = 'file',
    details: ErrorDetails = {},
  ) {
    super(`cannot read ${what} ${path}${reasonOf(details.cause)}`, details);
  }
}

function reasonOf(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR' ? ': it is a folder' : code === 'EACCES' ? ': permission denied' : code ? `: ${code}` : '';
}

export class FileWriteError extends ChartprovError {
  readonly code = 'FILE_WRITE_FAILED';
  protected get defaultHint(): string {
    return 'check that the folder exists and is writable';
  }
  constructor(
    readonly path: string,
    details: ErrorDetails = {},
  ) {
    super(`cannot write ${path}`, details);
  }
}
