/**
 * Batch plumbing shared by the flows that handle many charts at once: a
 * bounded worker pool that keeps input order, and the coded error a single
 * item's failure is reported as (the batch itself goes on).
 */
import { ChartprovError } from '../errors.js';

export interface CodedError {
  code: string;
  message: string;
  hint?: string;
}

/** Runs `fn` over `items` with at most `concurrency` at once; results in input order. */
export async function runPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** A ChartprovError as JSON; anything else is a bug, reported as INTERNAL. */
export function toCodedError(err: unknown): CodedError {
  if (err instanceof ChartprovError) return err.toJSON();
  return {
    code: 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
    hint: 'this is a bug in chartprov: run again with --debug and report the output',
  };
}

/**
 * A batch where each item succeeds or fails on its own: `run` per item in the
 * pool, a throw turned into that item's failure by `failed`, `onResult`
 * called as each finishes (progress). Results in input order.
 */
export function runBatch<T, R>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<R>,
  failed: (item: T, error: CodedError) => R,
  onResult?: (result: R, done: number, total: number) => void,
): Promise<R[]> {
  let done = 0;
  return runPool(items, concurrency, async (item) => {
    let result: R;
    try {
      result = await run(item);
    } catch (err) {
      result = failed(item, toCodedError(err));
    }
    onResult?.(result, ++done, items.length);
    return result;
  });
}
