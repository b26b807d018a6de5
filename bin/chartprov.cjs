#!/usr/bin/env node
'use strict';
// Start-up matters for one-shot commands (`chartprov verify x.tgz` is measured
// against `helm verify`). Node 20 has no compile cache for modules, so we
// compile the single-file bundle through vm.Script with V8's code cache,
// kept per user, bundle, Node version and command; any problem → plain compile.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'cli-bundle', 'chartprov.cjs');
const source = fs.readFileSync(bundle, 'utf8');
const useCache = process.env.CHARTPROV_NO_COMPILE_CACHE !== '1';
let cacheFile;
let cached;
if (useCache) {
  try {
    const stat = fs.statSync(bundle);
    const base = process.env.XDG_CACHE_HOME || path.join(require('node:os').homedir(), '.cache');
    // One cache per command: each holds the functions its command compiled.
    const command = /^[a-z]+$/.test(process.argv[2] || '') ? process.argv[2] : 'other';
    const key = `${process.version}-${stat.size}-${Math.floor(stat.mtimeMs)}-${command}`;
    cacheFile = path.join(base, 'chartprov', `compile-${key}.v8`);
    cached = fs.readFileSync(cacheFile);
  } catch {
    cached = undefined;
  }
}
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cached });
if (cacheFile && (cached === undefined || script.cachedDataRejected)) {
  // Written after the command ran, so the functions it used are in the cache.
  process.once('exit', () => {
    try {
      fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, cacheFile);
    } catch {
      // A read-only home only costs start-up time.
    }
  });
}
const mod = { exports: {}, filename: bundle, id: bundle, paths: [] };
script.runInThisContext()(mod.exports, require, mod, bundle, path.dirname(bundle));
