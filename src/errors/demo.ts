/** `chartprov demo`. */
import { ChartprovError, type ErrorDetails } from './base.js';

/** A step of `chartprov demo` did not do what it should; the message names the step and what went wrong. */
export class DemoFailedError extends ChartprovError {
  readonly code = 'DEMO_FAILED';
  /** The step that failed (its id, e.g. `push-signed`), when known. */
  readonly step: string | undefined;
  /** The code of the error the step ran into, when it was a ChartprovError. */
  readonly stepCode: string | undefined;
  protected get defaultHint(): string {
    return 'run chartprov demo --keep --debug and look at the workspace it prints';
  }
  constructor(message: string, details: ErrorDetails & { step?: string; stepCode?: string } = {}) {
    super(message, details);
    this.step = details.step;
    this.stepCode = details.stepCode;
  }
}
