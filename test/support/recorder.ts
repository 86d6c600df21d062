import { build } from 'esbuild';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/render/browser.js';

/**
 * Records real rrweb sessions: rrweb's own recorder (@posthog/rrweb, the fork our users' sessions
 * come from) runs in Chromium on pages we serve, while a scripted journey drives the page and takes
 * screenshots at known moments. The screenshots are the ground truth a render is compared with.
 */

export interface Shot {
  label: string;
  /** Wall-clock ms (the same clock as the recorder's event timestamps) in the middle of the capture. */
  ts: number;
  png: Buffer;
}

export interface Recording {
  events: unknown[];
  shots: Shot[];
  viewport: { width: number; height: number };
}

export interface JourneyContext {
  page: Page;
  origin: string;
  /** Waits for the page to be still (fonts, images), then takes a screenshot labelled `label`. */
  shot(label: string): Promise<void>;
  idle(ms: number): Promise<void>;
  /** Scrolls with the mouse wheel in small steps, as a person does. */
  wheel(dy: number, steps?: number): Promise<void>;
  type(selector: string, text: string): Promise<void>;
  moveTo(selector: string): Promise<void>;
}

export type Journey = (ctx: JourneyContext) => Promise<void>;

let recorderJs: Promise<string> | undefined;

/** rrweb's recorder bundled for the page; events go to Node as JSON strings (Playwright's serializer overflows on deep snapshots). */
function recorderScript(): Promise<string> {
  recorderJs ??= build({
    stdin: {
      // about:blank (the page before the first navigation) is not part of the session.
      contents: `import { record } from '@posthog/rrweb';
        const send = (e) => window.__rrEmit(JSON.stringify(e));
        if (location.protocol.startsWith('http')) {
          record({ emit: send, maskAllInputs: false, inlineStylesheet: true, recordCanvas: false, collectFonts: true,
                   sampling: { mousemove: 20, scroll: 50 } });
        }`,
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'iife',
    target: 'chrome120',
    minify: true,
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return recorderJs;
}

/** The recorded browser draws on its own, as a user's does: the render's flags without begin-frame control. */
export const RECORDER_ARGS = CHROMIUM_ARGS;

export async function recordJourney(
  origin: string,
  journey: Journey,
  opts: { viewport?: { width: number; height: number }; browser?: Browser; colorScheme?: 'light' | 'dark' } = {},
): Promise<Recording> {
  const viewport = opts.viewport ?? { width: 1280, height: 800 };
  const browser = opts.browser ?? (await chromium.launch({ executablePath: chromiumPath(), args: RECORDER_ARGS, headless: true }));
  const events: unknown[] = [];
  const shots: Shot[] = [];
  try {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: opts.colorScheme ?? 'light' });
    await context.exposeBinding('__rrEmit', (_source, json: string) => {
      events.push(JSON.parse(json));
    });
    await context.addInitScript({ content: await recorderScript() });
    const page = await context.newPage();
    let cdp: CDPSession = await context.newCDPSession(page);
    const settle = async () => {
      await page.waitForLoadState('load');
      await page.evaluate('document.fonts.ready.then(() => undefined)');
      // Two animation frames: layout, paint and the recorder's mutation batch have all happened.
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())))');
    };
    const ctx: JourneyContext = {
      page,
      origin,
      async shot(label) {
        await settle();
        await page.waitForTimeout(300);
        const before = Date.now();
        const r = (await cdp.send('Page.captureScreenshot', { format: 'png' }).catch(async () => {
          cdp = await context.newCDPSession(page);
          return cdp.send('Page.captureScreenshot', { format: 'png' });
        })) as { data: string };
        const after = Date.now();
        shots.push({ label, ts: (before + after) / 2, png: Buffer.from(r.data, 'base64') });
        // Stay still a while after the shot, so the moment it shows lasts on both sides.
        await page.waitForTimeout(300);
      },
      idle: (ms) => page.waitForTimeout(ms),
      async wheel(dy, steps = Math.max(1, Math.round(Math.abs(dy) / 100))) {
        for (let i = 0; i < steps; i++) {
          await page.mouse.wheel(0, dy / steps);
          await page.waitForTimeout(60);
        }
      },
      async type(selector, text) {
        await page.click(selector);
        await page.keyboard.type(text, { delay: 70 });
      },
      async moveTo(selector) {
        const box = await page.locator(selector).first().boundingBox();
        if (!box) throw new Error(`no box for ${selector}`);
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 12 });
      },
    };
    await journey(ctx);
    // Let the last binding calls arrive.
    await page.waitForTimeout(200);
    await context.close();
  } finally {
    if (!opts.browser) await browser.close();
  }
  return { events, shots, viewport };
}
