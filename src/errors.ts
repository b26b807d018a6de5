/**
 * Every failure a user can hit is a ChartprovError with a stable `code`, a
 * one-line `message` saying what is wrong and a `hint` saying what to do.
 * The CLI prints `error[CODE]: message` and `hint: …`; library callers switch
 * on `code`, which never changes once released (see README, "Error codes").
 */
export * from './errors/base.js';
export * from './errors/files.js';
export * from './errors/chart.js';
export * from './errors/keys.js';
export * from './errors/signatures.js';
export * from './errors/registry-client.js';
export * from './errors/serve.js';
export * from './errors/demo.js';
