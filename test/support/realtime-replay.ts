import { chromium, type Browser } from 'playwright-core';
import { chromiumPath } from '../../src/render/browser.js';
import { RECORDER_ARGS, type Shot } from './recorder.js';
import { bundleForPage } from '../../src/render/player-bundle.js';

/**
 * The reference a fixture is judged fair by: rrweb's own Replayer playing the recording in real time
 * (speed 1, not paused, so CSS animations and transitions run on the browser's clock) in a Chromium
 * that draws on its own, with a screenshot at each shot's moment. It is what the issue compares a GIF
 * with besides the live page; a moment the real-time replay cannot show (the recorder lost it, or an
 * animation started at another time than the snapshot) is not the engine's to get right.
 *
 * The replay page is served from the recorded site's origin (intercepted, never on the server), so
 * the recording's stylesheets, fonts and images load as they did for the user.
 */

let replayerJs: Promise<string> | undefined;

function replayerScript(): Promise<string> {
  replayerJs ??= bundleForPage({
    contents: `import { Replayer } from '@posthog/rrweb';
        import css from '@posthog/rrweb/dist/style.css';
        const style = document.createElement('style');
        style.textContent = css + ' .replayer-wrapper { position: absolute; left: 0; top: 0; } .replayer-wrapper > iframe { border: 0; }';
        document.head.appendChild(style);
        window.__play = (json) => {
          const events = JSON.parse(json);
          const r = new Replayer(events, { root: document.body, speed: 1, skipInactive: false, showWarning: false, mouseTail: false, UNSAFE_replayCanvas: false });
          r.play(0);
          return performance.timeOrigin + performance.now();
        };`,
    resolveDir: process.cwd(),
  });
  return replayerJs;
}

export interface RealtimeShot {
  label: string;
  png: Buffer;
  /** How late the capture started against its planned moment (ms): a loaded machine shows up here. */
  lateMs: number;
}

/**
 * Plays `events` (one window's, in time order) in real time and screenshots each of `shots` at its
 * moment (only the recorded viewport's area when the window was smaller then). `origin` is the site
 * the recording was made on; `viewport` the recording's first.
 */
export async function replayInRealTime(
  events: unknown[],
  shots: (Pick<Shot, 'label' | 'ts'> & { viewport?: Shot['viewport'] })[],
  origin: string,
  viewport: { width: number; height: number },
  opts: { browser?: Browser } = {},
): Promise<RealtimeShot[]> {
  const browser = opts.browser ?? (await chromium.launch({ executablePath: chromiumPath(), args: RECORDER_ARGS, headless: true }));
  const out: RealtimeShot[] = [];
  try {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'no-preference' });
    const js = await replayerScript();
    const url = `${origin}/__realtime_replay__.html`;
    await context.route(url, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><html><head><style>html,body{margin:0;overflow:hidden;background:#fff}</style></head><body><script>${js.replace(/<\/script/gi, '<\\/script')}</script></body></html>` }),
    );
    const page = await context.newPage();
    await page.goto(url);
    const cdp = await context.newCDPSession(page);
    const t0 = (events[0] as { timestamp: number }).timestamp;
    const startedAt = (await page.evaluate((json) => (globalThis as unknown as { __play(j: string): number }).__play(json), JSON.stringify(events))) as number;
    for (const s of [...shots].sort((a, b) => a.ts - b.ts)) {
      const at = startedAt + (s.ts - t0);
      const wait = at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const lateMs = Date.now() - at;
      // The Replayer draws a resized window at its new size in the page's top left corner.
      const v = s.viewport;
      const clip = v && (v.width < viewport.width || v.height < viewport.height) ? { x: 0, y: 0, width: Math.min(v.width, viewport.width), height: Math.min(v.height, viewport.height), scale: 1 } : undefined;
      const r = (await cdp.send('Page.captureScreenshot', { format: 'png', ...(clip ? { clip } : {}) })) as { data: string };
      out.push({ label: s.label, png: Buffer.from(r.data, 'base64'), lateMs });
    }
    await context.close();
  } finally {
    if (!opts.browser) await browser.close();
  }
  return out;
}
