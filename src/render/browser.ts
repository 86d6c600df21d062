import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { existsSync } from 'node:fs';
import { FrameStalled, probeBeginFrame, setCaptureMode, type CaptureMode } from './frame-source.js';
import { settlesWithin } from '../util/deadline.js';
import { browserEnv } from './keep-pages.js';

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
  // The display compositor in the browser process: every frame's picture crosses one process less
  // (measured 2026-12-01: 30 s moments 4-9 % faster, the same GIFs; BENCHMARKS.md).
  '--in-process-gpu',
];

/**
 * Frames are drawn only when the renderer asks (begin-frame control), with every compositor stage
 * run before the draw and no threaded animation: a frame depends on replay time, not on load. In a
 * browser started with these, pages not under begin-frame control never draw (a plain screenshot
 * waits forever), so the screenshot fallback needs a browser started without them.
 */
export const BEGIN_FRAME_ARGS = [
  '--enable-begin-frame-control',
  '--run-all-compositor-stages-before-draw',
  '--disable-threaded-animation',
  '--disable-threaded-scrolling',
  '--disable-checker-imaging',
];

/**
 * Starts Chromium for rendering. Begin-frame capture is used when the binary is a headless shell and
 * a probe shows it works; otherwise the browser is (re)started for screenshot capture. `overrides`
 * are Playwright launch options (a worker keeps its browsers through SIGTERM); their `args` are added to ours.
 *
 * `probe: false` is for a browser that serves one render: the probe opens a context and a
 * begin-frame page only to close them, and the render then opens its own (300-350 ms of a render's
 * setup, measured 2026-12-01). A headless shell is then taken to draw under begin-frame control;
 * when the render's own page shows it does not (openFrameSource throws BeginFrameUnavailable), the
 * render starts Chromium again for screenshots (ReplayPage.open). A probe whose frame stalled is
 * this browser stuck, not one without begin-frame control: another is started and probed once.
 * `probeWith` replaces the probe (tests).
 */
export async function launchBrowser(
  overrides: Partial<LaunchOptions> = {},
  prefer: CaptureMode = 'begin-frame',
  { probe = true, probeWith = probeBeginFrame }: { probe?: boolean; probeWith?: (browser: Browser) => Promise<true | Error> } = {},
): Promise<Browser> {
  const executablePath = chromiumPath();
  // Extra args (a net log in tests, say) add to ours rather than replace them.
  const { args: extra = [], ...rest } = overrides;
  const base = { executablePath, headless: true, env: await browserEnv(), ...rest };
  if (prefer === 'begin-frame' && /headless[-_]shell/.test(executablePath)) {
    for (let attempt = 1; ; attempt++) {
      const browser = await launch({ ...base, args: [...CHROMIUM_ARGS, ...BEGIN_FRAME_ARGS, ...extra] });
      const probed = probe ? await probeWith(browser) : true;
      if (probed === true) {
        setCaptureMode(browser, 'begin-frame');
        return browser;
      }
      // A probe frame that stalled is this browser stuck (about 1 render in 100 under load), not a
      // Chromium without begin-frame control: one stuck at the pool's launch would otherwise serve
      // every render it lends with screenshots, whose animations follow the clock. Its close is not
      // waited for (10 s when its renderer stopped).
      const closing = settlesWithin(browser.close(), BROWSER_CLOSE_MS);
      if (probed instanceof FrameStalled && attempt < PROBE_STALL_LAUNCHES) continue;
      await closing;
      break;
    }
  }
  const browser = await launch({ ...base, args: [...CHROMIUM_ARGS, ...extra] });
  setCaptureMode(browser, 'screenshot');
  return browser;
}

/** Begin-frame browsers started for one launchBrowser whose probe frames stalled, before it gives up on begin-frame. */
const PROBE_STALL_LAUNCHES = 2;
/** How long a browser we close gets before we stop waiting for it: one whose renderer stopped takes all of it (measured). */
export const BROWSER_CLOSE_MS = 10_000;

/**
 * Chromium, started once more when it dies while starting: seen once on 2026-12-01 (a segfault at
 * launch, exit code 139, among some fifty launches; 40 launches after it all started). A browser
 * that cannot start for good (a missing binary, a bad flag) fails the same way twice.
 */
async function launch(options: LaunchOptions): Promise<Browser> {
  try {
    return await chromium.launch(options);
  } catch (err) {
    if (!/exitCode=|signal=SIG/.test(String((err as Error).message ?? err))) throw err;
    return chromium.launch(options);
  }
}

/**
 * A browser for one render, started now: hand it to renderRecording as `ownBrowser` (RenderContext),
 * which closes it. What ReplayPage.open starts when given none. The plain baseline screenshots every
 * frame, so its browser draws on its own.
 */
export function launchOwnBrowser(method: 'fast' | 'plain' = 'fast'): Promise<Browser> {
  return launchBrowser({}, method === 'plain' ? 'screenshot' : 'begin-frame', { probe: false });
}
