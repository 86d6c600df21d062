import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/lib/chromium/headless_shell', '/usr/bin/chromium'];

/** The Chromium binary: CHROMIUM_PATH, else Debian's headless shell, else Debian's chromium. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      'no Chromium found: install Debian\'s chromium-headless-shell (apt-get install chromium-headless-shell) or set CHROMIUM_PATH',
    );
  }
  return found;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--mute-audio',
  '--font-render-hinting=none',
  // Frames are drawn only when the renderer asks (begin-frame control), with every compositor stage
  // run before the draw and no threaded animation: a frame depends on replay time, not on load.
  '--enable-begin-frame-control',
  '--run-all-compositor-stages-before-draw',
  '--disable-threaded-animation',
  '--disable-threaded-scrolling',
  '--disable-checker-imaging',
];

/** Starts Chromium for rendering; `overrides` are Playwright launch options (a worker keeps its browsers through SIGTERM). */
export async function launchBrowser(overrides: Partial<LaunchOptions> = {}): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true, ...overrides });
}
