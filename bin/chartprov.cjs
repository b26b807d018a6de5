#!/usr/bin/env node
'use strict';
// Start-up matters for one-shot commands (`chartprov verify x.tgz` is measured
// against `helm verify`). Node 20 has no compile cache for modules, so we
// compile the single-file bundle through vm.Script with V8's code cache.
// A cache file is code we run: it is used only from a folder and file the
// current user owns and nobody else can write, and it is keyed by the bundle's
// sha256 (written by the build), Node's version and the command. Any problem
// means a plain compile, never a failure.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const command = /^[a-z]+$/.test(process.argv[2] || '') ? process.argv[2] : 'other';

// Registry commands parse HTTP with undici's WebAssembly build of llhttp. V8
// compiles it with Liftoff, then again with TurboFan on background threads,
// and a process that is about to exit waits for those compiles (~80 ms a
// registry command, measured). Liftoff code is plenty for a CLI's headers.
// Only for those commands: changing a V8 flag makes Node recompile its own
// internal modules instead of using their built-in code cache (~10 % of verify).
if (['push', 'pull', 'show', 'versions', 'registry', 'attach', 'discover', 'copy', 'demo', 'mirror', 'audit'].includes(command)) {
  require('node:v8').setFlagsFromString('--liftoff-only');
}

const bundle = path.join(__dirname, '..', 'dist', 'cli-bundle', 'chartprov.cjs');
const source = fs.readFileSync(bundle, 'utf8');

function privateToUs(p, wantDir) {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  return !!st && (wantDir ? st.isDirectory() : st.isFile()) && st.uid === uid && (st.mode & 0o022) === 0;
}

let cacheDir;
let cacheFile;
let cached;
if (process.env.CHARTPROV_NO_COMPILE_CACHE !== '1' && typeof process.getuid === 'function') {
  try {
    const id = fs.readFileSync(`${bundle}.id`, 'utf8').trim();
    const base = process.env.XDG_CACHE_HOME || path.join(require('node:os').homedir(), '.cache');
    // One cache per command: each holds the functions its command compiled.
    cacheDir = path.join(base, 'chartprov');
    cacheFile = path.join(cacheDir, `compile-${id.slice(0, 16)}-${process.version}-${command}.v8`);
    if (privateToUs(cacheDir, true) && privateToUs(cacheFile, false)) cached = fs.readFileSync(cacheFile);
  } catch {
    cacheFile = undefined;
  }
}

const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cached });
if (cacheFile && (cached === undefined || script.cachedDataRejected)) {
  // Written after a successful run, so the functions the command used are in it.
  process.once('exit', (code) => {
    if (code !== 0) return;
    try {
      // ~/.cache and its chartprov folder are made one level at a time (never
      // recursively: Node 20 spins forever on a recursive mkdir under /proc).
      const base = path.dirname(cacheDir);
      if (!fs.existsSync(base)) fs.mkdirSync(base, { mode: 0o700 });
      if (!fs.existsSync(cacheDir)) fs.mkdirSync(cacheDir, { mode: 0o700 });
      if (!privateToUs(cacheDir, true)) return;
      const name = path.basename(cacheFile);
      const stale = name.slice(0, 'compile-'.length + 16);
      for (const f of fs.readdirSync(cacheDir)) {
        if (f.startsWith('compile-') && !f.startsWith(stale)) fs.rmSync(path.join(cacheDir, f), { force: true });
      }
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600, flag: 'wx' });
      fs.renameSync(tmp, cacheFile);
    } catch {
      // No cache only costs start-up time.
    }
  });
}
const mod = { exports: {}, filename: bundle, id: bundle, paths: [] };
script.runInThisContext()(mod.exports, require, mod, bundle, path.dirname(bundle));
