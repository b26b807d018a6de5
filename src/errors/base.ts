/**
 * Every failure a user can hit is a ChartprovError with a stable `code`, a
 * one-line `message` saying what is wrong and a `hint` saying what to do.
 * The CLI prints `error[CODE]: message` and `hint: …`; library callers switch
 * on `code`, which never changes once released (see README, "Error codes").
 */

export interface ErrorDetails {
  /** What to do about it, one line. */
  hint?: string;
  /** The underlying error, kept for `--debug`. */
  cause?: unknown;
}

export abstract class ChartprovError extends Error {
  abstract readonly code: string;
  /** Never empty: the hint given at the throw site, else the class's default. */
  readonly hint: string;
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number = 1;

  constructor(message: string, details: ErrorDetails = {}) {
    // The CLI prints `error[CODE]: message` as one line; messages that quote
    // tool output or file content must not break it.
    super(oneLine(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = oneLine(details.hint ?? '') || this.fallbackHint();
  }

  /**
   * What to do when the throw site has nothing more specific to say. Abstract
   * so that no error class can lack one. It is read during construction,
   * before the subclass's own fields exist, so it must not use them.
   */
  protected abstract get defaultHint(): string;

  // TypeScript forbids reading an abstract member in the constructor; a
  // prototype getter is safe to read there, through a method.
  private fallbackHint(): string {
    return this.defaultHint;
  }

  toJSON(): { code: string; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Bad flags or arguments. */
export class UsageError extends ChartprovError {
  readonly code = 'USAGE';
  override readonly exitCode = 2;
  protected get defaultHint(): string {
    return 'see chartprov --help, or chartprov COMMAND --help';
  }
}

export function isChartprovError(err: unknown): err is ChartprovError {
  return err instanceof ChartprovError;
}
