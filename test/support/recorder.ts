import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../src/render/browser.js';
import { bundleForPage } from '../../src/render/player-bundle.js';

/**
 * Records real rrweb sessions: rrweb's own recorder (@posthog/rrweb, the fork our users' sessions
 * come from) runs in Chromium on pages we serve, while a scripted journey drives the page and takes
 * screenshots at known moments. The screenshots are the ground truth a render is compared with.
 *
 * Every page (tab) of the journey is a window with its own id, as PostHog's snapshot lines carry
 * them; a journey can also reload a tab into a new window id, as happens to PostHog users.
 */

export interface Shot {
  label: string;
  /**
   * The moment the picture shows, in wall-clock ms (the recorder's event timestamps use the same
   * clock): Page.captureScreenshot draws the frame about 10 ms after it is asked for (measured with a
   * 1 px/ms animation); the rest of its 70-300 ms is encoding and transfer.
   */
  ts: number;
  /** When the capture was asked for and when the picture came back. */
  startTs: number;
  endTs: number;
  png: Buffer;
  /** The page's viewport when the picture was taken (it can differ from the recording's first). */
  viewport: { width: number; height: number };
  /** The window (tab) the picture is of. */
  windowId: string;
  /** 'settled': after the page was still (fonts, images, 300 ms); 'timed': at a set time, with nothing waited for. */
  kind: 'settled' | 'timed';
  /** ms from this window's last recorded event to the end of the capture (Infinity when it has none before). */
  quietMs: number;
}

export interface DroppedShot {
  label: string;
  ts: number;
  reason: string;
}

export interface Recording {
  events: unknown[];
  /** The window id of each event, index for index. */
  windowIds: string[];
  shots: Shot[];
  /** Shots left out by the quiet rule (an event too close before them) or taken too late for their schedule. */
  dropped: DroppedShot[];
  viewport: { width: number; height: number };
}

export interface JourneyContext {
  /** The tab the user is in (see switchTo). */
  readonly page: Page;
  origin: string;
  /** Waits for the page to be still (fonts, images), then takes a screenshot labelled `label`. */
  shot(label: string): Promise<void>;
  /**
   * Takes a screenshot at wall time `at` (ms, Date.now() clock) without waiting for anything: a moment
   * in the middle of an animation. Nothing may touch the page before it (keep the mouse still). A shot
   * whose time has already passed by more than 150 ms is dropped (the schedule no longer holds).
   */
  shotAt(label: string, at: number): Promise<void>;
  /**
   * Waits until the current tab has recorded nothing for `quietMs` (a page that changes itself on a
   * timer included), then takes a screenshot at once. Dropped if no such moment comes in `timeoutMs`.
   */
  shotWhenQuiet(label: string, quietMs?: number, timeoutMs?: number): Promise<void>;
  /**
   * The timestamp of the first full snapshot of the current tab recorded at or after `since` (wall ms):
   * when a replay builds the page, and so when its CSS animations start. Waits for it.
   */
  snapshotAfter(since: number, timeoutMs?: number): Promise<number>;
  /**
   * The time of the recording's first event (wall ms; waits for it): a render of the whole recording
   * starts its GIF there, so its frames are drawn at this time plus multiples of 1000 / fps.
   */
  firstEventTs(timeoutMs?: number): Promise<number>;
  idle(ms: number): Promise<void>;
  /** Scrolls with the mouse wheel in small steps, as a person does. */
  wheel(dy: number, steps?: number): Promise<void>;
  type(selector: string, text: string): Promise<void>;
  moveTo(selector: string): Promise<void>;
  /** Opens a second tab (a new window id) in the same browser context and switches to it. */
  newTab(url: string): Promise<Page>;
  /** The user turns to another tab: it comes to the front and later actions and shots are in it. */
  switchTo(page: Page): Promise<void>;
  /** Reloads the current tab; what it records afterwards carries a new window id. */
  reloadAsNewWindow(): Promise<void>;
  /** The current tab's window id. */
  windowId(): string;
}

export type Journey = (ctx: JourneyContext) => Promise<void>;

export interface RecordOptions {
  viewport?: { width: number; height: number };
  browser?: Browser;
  /**
   * The rule for shots between events: a shot with an event of its window in the `beforeMs` before
   * it (or during it) is dropped, or fails the recording. Without it every shot is kept, with its quietMs.
   */
  quiet?: { beforeMs: number; onNoisy: 'drop' | 'fail' };
  colorScheme?: 'light' | 'dark';
  /**
   * Canvas recording as PostHog's "capture canvas" setting does it: pictures of each canvas, this
   * many a second, as WebP at quality 0.4. 'calls': every 2D drawing call instead (rrweb's
   * recordCanvas without sampling). Without it, canvases are not recorded (rrweb's default).
   */
  canvas?: number | 'calls';
  /**
   * rrweb's pointer sampling interval (`sampling.mousemove`, default here 20 ms): a move within it of
   * the last one recorded is dropped. A longer one makes which moves are lost certain (a test of
   * where the pointer came to rest).
   */
  pointerSamplingMs?: number;
  /**
   * The recorder starts after the page's load event and its next frames, as PostHog's script
   * (loaded asynchronously) does: what the page did on load (an `autofocus`) is in no event.
   */
  startAfterLoad?: boolean;
}

const recorderJs = new Map<string, Promise<string>>();

/** rrweb's recorder bundled for the page; events go to Node as JSON strings (Playwright's serializer overflows on deep snapshots). */
function recorderScript(canvas: RecordOptions['canvas'], pointerSamplingMs = 20, startAfterLoad = false): Promise<string> {
  const canvasOptions =
    canvas === undefined
      ? 'recordCanvas: false'
      : canvas === 'calls'
        ? 'recordCanvas: true'
        : `recordCanvas: true, dataURLOptions: { type: 'image/webp', quality: 0.4 }`;
  const sampling = `{ mousemove: ${pointerSamplingMs}, scroll: 50${typeof canvas === 'number' ? `, canvas: ${canvas}` : ''} }`;
  const key = `${canvasOptions} ${sampling} ${startAfterLoad}`;
  let js = recorderJs.get(key);
  if (!js) {
    js = bundleForPage({
      contents: `import { record } from '@posthog/rrweb';
        const send = (e) => window.__rrEmit(JSON.stringify(e), performance.timeOrigin);
        const start = () => record({ emit: send, maskAllInputs: false, inlineStylesheet: true, ${canvasOptions}, collectFonts: true,
                   sampling: ${sampling} });
        // The page's own frame only, as PostHog's script runs: rrweb records same-origin iframes from
        // there, and a recorder in the iframe too would add its window's events (its Meta first).
        if (location.protocol.startsWith('http') && window === window.top) {
          if (${startAfterLoad}) addEventListener('load', () => requestAnimationFrame(() => setTimeout(start, 50)));
          else start();
        }`,
      resolveDir: process.cwd(),
    });
    recorderJs.set(key, js);
  }
  return js;
}

/** The recorded browser draws on its own, as a user's does: the render's flags without begin-frame control. */
export const RECORDER_ARGS = CHROMIUM_ARGS;

/** Which window each tab's events belong to: a new document after reloadAsNewWindow starts a new one. */
interface TabState {
  windowId: string;
  document: number | undefined;
  newWindowAtNextDocument: boolean;
  cdp: CDPSession | undefined;
}

/** How long after Page.captureScreenshot is sent the frame it returns is drawn (measured: 2-10 ms). */
const SHOT_FRAME_LAG_MS = 10;

/** rrweb's recorder sends pointer positions in batches, at most this long after the first of them. */
const MOVE_BATCH_MS = 500;

/**
 * When an event's content happened: [earliest, latest] ms. A batch of pointer positions is stamped
 * when it was sent, each position carrying its own (negative) offset from that.
 */
function eventSpan(e: unknown): [number, number] {
  const { timestamp, data } = e as { timestamp: number; data?: { positions?: { timeOffset?: number }[] } };
  const offsets = (Array.isArray(data?.positions) ? data.positions : []).map((p) => p?.timeOffset).filter((o): o is number => typeof o === 'number' && Number.isFinite(o));
  if (offsets.length === 0) return [timestamp, timestamp];
  return [timestamp + Math.min(...offsets), timestamp + Math.max(...offsets)];
}

/** How late a timed shot may be taken before its moment no longer means what the journey planned. */
const MAX_SHOT_LATENESS_MS = 150;

export async function recordJourney(origin: string, journey: Journey, opts: RecordOptions = {}): Promise<Recording> {
  const viewport = opts.viewport ?? { width: 1280, height: 800 };
  const browser = opts.browser ?? (await chromium.launch({ executablePath: chromiumPath(), args: RECORDER_ARGS, headless: true }));
  const events: { ts: number; windowId: string }[] = [];
  const raw: unknown[] = [];
  const shots: Shot[] = [];
  const dropped: DroppedShot[] = [];
  const tabs = new Map<Page, TabState>();
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: opts.colorScheme ?? 'light', reducedMotion: 'no-preference' });
    const ctxRef = context;
    const tab = (page: Page): TabState => {
      let s = tabs.get(page);
      if (!s) tabs.set(page, (s = { windowId: randomUUID(), document: undefined, newWindowAtNextDocument: false, cdp: undefined }));
      return s;
    };
    await context.exposeBinding('__rrEmit', (source, json: string, documentOrigin: number) => {
      const s = tab(source.page);
      if (s.document !== documentOrigin) {
        if (s.document !== undefined && s.newWindowAtNextDocument) {
          s.windowId = randomUUID();
          s.newWindowAtNextDocument = false;
        }
        s.document = documentOrigin;
      }
      const event = JSON.parse(json) as { timestamp: number };
      raw.push(event);
      events.push({ ts: event.timestamp, windowId: s.windowId });
    });
    await context.addInitScript({ content: await recorderScript(opts.canvas, opts.pointerSamplingMs, opts.startAfterLoad) });
    let current = await context.newPage();
    tab(current);
    const cdpOf = async (page: Page): Promise<CDPSession> => {
      const s = tab(page);
      s.cdp ??= await ctxRef.newCDPSession(page);
      return s.cdp;
    };
    const capture = async (page: Page): Promise<{ png: Buffer; startTs: number; endTs: number }> => {
      const startTs = Date.now();
      const r = (await (await cdpOf(page)).send('Page.captureScreenshot', { format: 'png' }).catch(async () => {
        // The session can go with a navigation: take a new one.
        tab(page).cdp = await ctxRef.newCDPSession(page);
        return tab(page).cdp!.send('Page.captureScreenshot', { format: 'png' });
      })) as { data: string };
      return { png: Buffer.from(r.data, 'base64'), startTs, endTs: Date.now() };
    };
    const settle = async () => {
      await current.waitForLoadState('load');
      await current.evaluate('document.fonts.ready.then(() => undefined)');
      // Two animation frames: layout, paint and the recorder's mutation batch have all happened.
      await current.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())))');
    };
    const keep = (label: string, kind: Shot['kind'], c: { png: Buffer; startTs: number; endTs: number }) => {
      shots.push({ label, kind, ts: c.startTs + SHOT_FRAME_LAG_MS, startTs: c.startTs, endTs: c.endTs, png: c.png, viewport: current.viewportSize() ?? viewport, windowId: tab(current).windowId, quietMs: Infinity });
    };
    const ctx: JourneyContext = {
      get page() {
        return current;
      },
      origin,
      async shot(label) {
        await settle();
        await current.waitForTimeout(300);
        keep(label, 'settled', await capture(current));
        // Stay still a while after the shot, so the moment it shows lasts on both sides.
        await current.waitForTimeout(300);
      },
      async shotAt(label, at) {
        const wait = at - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const late = Date.now() - at;
        if (late > MAX_SHOT_LATENESS_MS) {
          dropped.push({ label, ts: Date.now(), reason: `taken ${late} ms after its planned moment (the journey ran late)` });
          return;
        }
        keep(label, 'timed', await capture(current));
      },
      async shotWhenQuiet(label, quietMs = 1000, timeoutMs = 15_000) {
        await settle();
        // rrweb sends pointer moves in batches up to 500 ms late: let the last batch arrive first.
        await current.waitForTimeout(MOVE_BATCH_MS + 50);
        const deadline = Date.now() + timeoutMs;
        const lastOfTab = () => {
          const id = tab(current).windowId;
          for (let k = events.length - 1; k >= 0; k--) if (events[k]!.windowId === id) return events[k]!.ts;
          return -Infinity;
        };
        for (;;) {
          // A margin over quietMs: the event that would break the quiet may still be on its way to Node.
          const wait = lastOfTab() + quietMs + 60 - Date.now();
          if (wait > 0) {
            if (Date.now() + wait > deadline) break;
            await new Promise((r) => setTimeout(r, wait));
            continue;
          }
          const c = await capture(current);
          // The page changed itself while the picture was taken (a timer): take it again.
          await new Promise((r) => setTimeout(r, 30));
          if (lastOfTab() < c.startTs - quietMs) {
            keep(label, 'settled', c);
            return;
          }
        }
        dropped.push({ label, ts: Date.now(), reason: `its tab was never quiet for ${quietMs} ms within ${timeoutMs} ms` });
      },
      async snapshotAfter(since, timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const id = tab(current).windowId;
          const i = raw.findIndex((e, k) => (e as { type: number }).type === 2 && events[k]!.ts >= since && events[k]!.windowId === id);
          if (i >= 0) return events[i]!.ts;
          if (Date.now() > deadline) throw new Error(`no full snapshot recorded within ${timeoutMs} ms after ${since}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      },
      async firstEventTs(timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        while (!events.length) {
          if (Date.now() > deadline) throw new Error(`no event recorded within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 10));
        }
        return events[0]!.ts;
      },
      idle: (ms) => current.waitForTimeout(ms),
      async wheel(dy, steps = Math.max(1, Math.round(Math.abs(dy) / 100))) {
        for (let i = 0; i < steps; i++) {
          await current.mouse.wheel(0, dy / steps);
          await current.waitForTimeout(60);
        }
      },
      async type(selector, text) {
        await current.click(selector);
        await current.keyboard.type(text, { delay: 70 });
      },
      async moveTo(selector) {
        const box = await current.locator(selector).first().boundingBox();
        if (!box) throw new Error(`no box for ${selector}`);
        await current.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 12 });
      },
      async newTab(url) {
        const page = await ctxRef.newPage();
        tab(page);
        current = page;
        await page.bringToFront();
        await page.goto(url);
        return page;
      },
      async switchTo(page) {
        current = page;
        await page.bringToFront();
      },
      async reloadAsNewWindow() {
        tab(current).newWindowAtNextDocument = true;
        await current.reload();
      },
      windowId: () => tab(current).windowId,
    };
    await journey(ctx);
    // Let the last binding calls arrive.
    await current.waitForTimeout(200);
    await context.close();
  } finally {
    await context?.close().catch(() => {});
    if (!opts.browser) await browser.close();
  }
  // Events from several tabs arrive interleaved: put them in time order (stable, so a tab's own order
  // holds). One tab's events stay in the order the recorder emitted them.
  const order = raw.map((_, i) => i);
  if (new Set(events.map((e) => e.windowId)).size > 1) order.sort((a, b) => events[a]!.ts - events[b]!.ts || a - b);
  const sortedEvents = order.map((i) => raw[i]!);
  const windowIds = order.map((i) => events[i]!.windowId);
  const kept: Shot[] = [];
  for (const s of shots) {
    // The last thing of this window that happened before the capture ended (a pointer position sent
    // after the shot but made before it counts).
    let last = -Infinity;
    for (let i = 0; i < sortedEvents.length; i++) {
      if (windowIds[i] !== s.windowId) continue;
      const [earliest, latest] = eventSpan(sortedEvents[i]);
      if (earliest > s.endTs) continue;
      last = Math.max(last, Math.min(latest, s.endTs));
    }
    s.quietMs = s.endTs - last;
    const noisyWithin = s.endTs - s.startTs + (opts.quiet?.beforeMs ?? 0);
    if (opts.quiet && s.quietMs <= noisyWithin) {
      const reason = `an event of its window ${Math.round(s.startTs - last)} ms before the capture started (the rule wants none in the ${opts.quiet.beforeMs} ms before it)`;
      if (opts.quiet.onNoisy === 'fail') throw new Error(`shot '${s.label}': ${reason}`);
      dropped.push({ label: s.label, ts: s.ts, reason });
      continue;
    }
    kept.push(s);
  }
  return { events: sortedEvents, windowIds, shots: kept, dropped, viewport };
}

/**
 * The recording as PostHog's snapshot lines (JSON Lines): `{"window_id": ..., "data": [events]}` with
 * consecutive events of one window grouped in a line, or one `[windowId, event]` pair per line.
 */
export function toPostHogLines(rec: Pick<Recording, 'events' | 'windowIds'>, form: 'object' | 'pair' = 'object'): string {
  const lines: string[] = [];
  if (form === 'pair') {
    rec.events.forEach((e, i) => lines.push(JSON.stringify([rec.windowIds[i], e])));
    return lines.join('\n') + '\n';
  }
  let group: unknown[] = [];
  let groupWindow: string | undefined;
  rec.events.forEach((e, i) => {
    const w = rec.windowIds[i]!;
    if (w !== groupWindow && group.length) {
      lines.push(JSON.stringify({ window_id: groupWindow, data: group }));
      group = [];
    }
    groupWindow = w;
    group.push(e);
  });
  if (group.length) lines.push(JSON.stringify({ window_id: groupWindow, data: group }));
  return lines.join('\n') + '\n';
}
