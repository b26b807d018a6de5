// Headless Chromium for the web UI's browser test: Debian's `chromium`
// package (scripts/pretest.mjs installs it), driven by playwright-core, which
// ships no browser of its own. CI runs as root, where Chromium's sandbox
// cannot start: --no-sandbox (the pages are our own test server's).
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Browser } from 'playwright-core';

/** `CHARTPROV_CHROMIUM`, else `chromium` on PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  const given = process.env.CHARTPROV_CHROMIUM;
  if (given) return given;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'chromium'))) return join(dir, 'chromium');
  return '/usr/bin/chromium';
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath))
    throw new Error(
      `chromium not found at ${executablePath}: run  apt-get install -y chromium  (or npm test as root, whose pretest installs it)`,
    );
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: ['--no-sandbox'], timeout: 60_000 });
}
