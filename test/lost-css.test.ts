import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { prefetchUrls } from '../src/render/asset-prefetch.js';
import { launchBrowser } from '../src/render/browser.js';
import { hasCutLists, withListsRepeated } from '../src/render/cut-lists.js';
import { absolutizeUrls, documentStylesheets, hasLostDeclarations, repairedCss, stylesheetPage } from '../src/render/lost-css.js';
import { renderRecording } from '../src/render/render.js';
import { PLAYER_ORIGIN } from '../src/render/asset-proxy.js';
import { LINKED_STYLESHEETS_PATH } from '../src/render/lost-css.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { startCanary, quiet } from './support/canary-server.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/**
 * A linked stylesheet whose rules set a var() shorthand and then one of its longhands, as rustdoc's
 * body rule does (`font: 1rem/1.5 var(--font-family); ... font-feature-settings: ...`): read back
 * through the CSSOM by rrweb's recorder, the shorthand's other longhands come out empty, so the
 * recording holds a card with no background and no padding. The player takes the sheet again from
 * the site when the site still serves the same one (player/stylesheets.ts).
 */
const SHEET = `:root { --paint: rgb(220, 20, 60); --pad: 60px; }
body { margin: 0; background: #fff; }
.card { background: var(--paint); background-repeat: no-repeat; padding: var(--pad); padding-left: 8px; width: 200px; height: 100px; }
.note { color: #333; font: 14px sans-serif; }
`;
/** The same sheet as deployed later: one rule changed (the card's width). */
const CHANGED = SHEET.replace('width: 200px', 'width: 180px');

const PAGE = `<!doctype html><html><head><link rel="stylesheet" href="/site.css"></head>
<body><div class="card"><span class="note">card</span></div></body></html>`;

const CRIMSON = [220, 20, 60];

let site: SiteServer;
let events: RrwebEvent[];
let browser: Browser;
const files = new Map<string, { body: Buffer; type: string }>();

function serveSheet(css: string): void {
  files.set('/site.css', { body: Buffer.from(css), type: 'text/css' });
}

beforeAll(async () => {
  files.set('/index.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' });
  serveSheet(SHEET);
  site = await startSite({ generated: files });
  const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
    await page.goto(`${origin}/`);
    await idle(1500);
    await page.mouse.move(400, 300);
    await idle(500);
  });
  events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  browser = await launchBrowser({}, 'begin-frame', { probe: false });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** The recorded text of the page's linked sheet. */
function recordedSheet(): string {
  const texts: string[] = [];
  const walk = (n: { tagName?: string; attributes?: Record<string, unknown>; childNodes?: unknown[] }) => {
    if (n.tagName === 'link' && typeof n.attributes?._cssText === 'string') texts.push(n.attributes._cssText);
    for (const c of n.childNodes ?? []) walk(c as typeof n);
  };
  for (const e of events) if (e.type === 2) walk((e.data as { node: Parameters<typeof walk>[0] }).node);
  expect(texts).toHaveLength(1);
  return texts[0]!;
}

/** The card's middle, where its background shows only with the lost declarations (left 8 + 100, top 60 + 50). */
async function cardPixel(recording = events, allowOrigins = [site.origin]): Promise<{ rgb: number[]; stylesheets: { lost: number; restored: number; repaired: number }; initMs: number }> {
  const r = await renderRecording(recording, { ...DEFAULT_RENDER_OPTIONS, startS: 1, endS: 1.5, width: 800, allowOrigins }, { browser });
  const gif = decodeGif(r.gif);
  const shown = frameAt(gif, gif.durationMs - 1);
  // Pictures are scaled from the recorded viewport to the GIF's width.
  const scale = gif.width / 1280;
  const x = Math.round(110 * scale);
  const y = Math.round(110 * scale);
  const at = (y * gif.width + x) * 4;
  return { rgb: [...shown.rgba.slice(at, at + 3)], stylesheets: r.stylesheets, initMs: r.timings.initMs };
}

function near(rgb: number[], want: number[], tolerance = 24): boolean {
  return rgb.every((v, i) => Math.abs(v - want[i]!) <= tolerance);
}

describe('a linked stylesheet the recorder lost declarations from', () => {
  it('is recorded without them (the precondition: rrweb serialized the var() shorthands as empty longhands)', () => {
    const css = recordedSheet();
    expect(hasLostDeclarations(css), css).toBe(true);
    expect(css).not.toContain('var(--paint)');
    // rrweb drops the link's href when it inlines the sheet: the page's document says which sheets it links.
    expect(css).not.toContain('site.css');
    expect(prefetchUrls(events), 'the document fetched while Chromium starts').toContain(`${site.origin}/`);
  });

  it('is replayed from the site\'s own text when the site serves the same sheet: the card is painted', async () => {
    serveSheet(SHEET);
    const { rgb, stylesheets } = await cardPixel();
    expect(stylesheets).toEqual({ lost: 1, restored: 1, repaired: 0 });
    expect(near(rgb, CRIMSON), `card pixel ${rgb}`).toBe(true);
  });

  it('is replayed as recorded when the site\'s sheet changed since, or cannot be had', async () => {
    serveSheet(CHANGED);
    const changed = await cardPixel();
    expect(changed.stylesheets).toEqual({ lost: 1, restored: 0, repaired: 0 });
    expect(near(changed.rgb, [255, 255, 255]), `card pixel ${changed.rgb}`).toBe(true);

    files.delete('/site.css');
    const gone = await cardPixel();
    expect(gone.stylesheets).toEqual({ lost: 1, restored: 0, repaired: 0 });
    expect(near(gone.rgb, [255, 255, 255]), `card pixel ${gone.rgb}`).toBe(true);
  });
});

describe('a stylesheet linked by a script, which loads after its link was recorded', () => {
  it('is replayed from the address its link was recorded with (the page\'s document does not link it)', async () => {
    // rrweb records the new link with its href, and its text when it has loaded, as an attribute
    // change of that link; the replay then swaps the link for the recorded text.
    files.set('/late.html', {
      body: Buffer.from(`<!doctype html><html><head><script>
        setTimeout(() => { const l = document.createElement('link'); l.rel = 'stylesheet'; l.href = '/late.css'; document.head.appendChild(l); }, 600);
      </script></head><body><div class="card"><span class="note">card</span></div></body></html>`),
      type: 'text/html; charset=utf-8',
    });
    files.set('/late.css', { body: Buffer.from(SHEET), type: 'text/css' });
    const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/late.html`);
      await idle(2000);
      await page.mouse.move(400, 300);
      await idle(500);
    });
    const late = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
    const changes = late.flatMap((e) => (e.type === 3 && (e.data as { source: number }).source === 0 ? ((e.data as { attributes?: { attributes: Record<string, unknown> }[] }).attributes ?? []) : []));
    const recorded = changes.map((c) => c.attributes._cssText).filter((t): t is string => typeof t === 'string');
    expect(recorded, 'the sheet\'s text came as an attribute change').toHaveLength(1);
    expect(hasLostDeclarations(recorded[0]!)).toBe(true);

    const r = await renderRecording(late, { ...DEFAULT_RENDER_OPTIONS, startS: 1.8, endS: 2.2, width: 800, allowOrigins: [site.origin] }, { browser });
    expect(r.stylesheets).toEqual({ lost: 1, restored: 1, repaired: 0 });
    const gif = decodeGif(r.gif);
    const shown = frameAt(gif, gif.durationMs - 1);
    const at = (Math.round(110 * (gif.width / 1280)) * gif.width + Math.round(110 * (gif.width / 1280))) * 4;
    const rgb = [...shown.rgba.slice(at, at + 3)];
    expect(near(rgb, CRIMSON), `card pixel ${rgb}`).toBe(true);
  });
});

describe('asking the site again, from a hostile recording', () => {
  it('goes through the network policy: a page address inside our network, or one named to the player origin, is never fetched', async () => {
    const canary = await startCanary();
    try {
      // The recording says its page was on the canary (loopback, not allowed), and its snapshot holds
      // an image pointed at the player's own endpoint with the canary as the page to read.
      const hostile = structuredClone(events);
      for (const e of hostile) if (e.type === 4) (e.data as { href: string }).href = `${canary.origin}/c/meta/page.html`;
      const snapshot = hostile.find((e) => e.type === 2)!.data as { node: { childNodes: { tagName?: string; childNodes: unknown[] }[] } };
      const html = snapshot.node.childNodes.find((n) => n.tagName === 'html')!;
      const body = html.childNodes.find((n) => (n as { tagName?: string }).tagName === 'body') as { childNodes: unknown[] };
      body.childNodes.push({
        type: 2,
        tagName: 'img',
        attributes: { src: `${PLAYER_ORIGIN}${LINKED_STYLESHEETS_PATH}?page=${encodeURIComponent(`${canary.origin}/c/endpoint/page.html`)}` },
        childNodes: [],
        id: 99_999,
      });
      serveSheet(SHEET);
      const refused = await cardPixel(hostile);
      await quiet([canary]);
      expect(canary.requests.map((r) => r.path)).toEqual([]);
      expect(canary.connections).toBe(0);
      expect(refused.stylesheets).toEqual({ lost: 1, restored: 0, repaired: 0 });
      expect(near(refused.rgb, [255, 255, 255]), `card pixel ${refused.rgb}`).toBe(true);

      // The control: with the canary allowed, both reach it.
      await cardPixel(hostile, [site.origin, canary.origin]);
      await quiet([canary]);
      expect(canary.hits('/c/meta/').map((r) => r.path)).toEqual(['/c/meta/page.html']);
      expect(canary.hits('/c/endpoint/').map((r) => r.path)).toEqual(['/c/endpoint/page.html']);
    } finally {
      await canary.close();
    }
  });
});

describe('a site too slow to answer before the render ends', () => {
  it('goes on with the recording as it is after the bound (2.5 s), and the late answer fails nothing', async () => {
    // Every answer 5 s late: the player gives up on the document at 2.5 s, the render ends, and the
    // answer comes to a browser context that is closed.
    const slow = await startSite({ port: 0, generated: files, latencyMs: 5000 });
    try {
      serveSheet(SHEET);
      const moved = structuredClone(events);
      for (const e of moved) if (e.type === 4) (e.data as { href: string }).href = `${slow.origin}/`;
      const r = await cardPixel(moved, [site.origin, slow.origin]);
      expect(r.stylesheets).toEqual({ lost: 1, restored: 0, repaired: 0 });
      expect(near(r.rgb, [255, 255, 255]), `card pixel ${r.rgb}`).toBe(true);
      expect(r.initMs).toBeGreaterThan(2400);
      // Waiting for the answer would take 5 s.
      expect(r.initMs).toBeLessThan(4000);
      // The document's answer arrives after the render: an unhandled rejection would fail the run.
      await new Promise((resolve) => setTimeout(resolve, 3500));
    } finally {
      await slow.close();
    }
  });
});

describe('a style element the recorder lost declarations from', () => {
  /** The same rules as the linked sheet, written into the page's head; the card's background image relative to the page. */
  const inlinePage = (css: string) => `<!doctype html><html><head><style>${css}</style></head>
<body><div class="card"><span class="note">card</span></div></body></html>`;

  async function recordInline(): Promise<RrwebEvent[]> {
    files.set('/inline.html', { body: Buffer.from(inlinePage(SHEET)), type: 'text/html; charset=utf-8' });
    const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/inline.html`);
      await idle(1500);
      await page.mouse.move(400, 300);
      await idle(500);
    });
    return parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  }

  /** The recorded text of the page's style element (rrweb records it as its text node's textContent). */
  function recordedStyle(recording: RrwebEvent[]): string {
    const texts: string[] = [];
    const walk = (n: { type?: number; isStyle?: boolean; textContent?: string; childNodes?: unknown[] }) => {
      if (n.type === 3 && n.isStyle && typeof n.textContent === 'string') texts.push(n.textContent);
      for (const c of n.childNodes ?? []) walk(c as typeof n);
    };
    for (const e of recording) if (e.type === 2) walk((e.data as { node: Parameters<typeof walk>[0] }).node);
    expect(texts).toHaveLength(1);
    return texts[0]!;
  }

  it('is recorded without them, and replayed from the page\'s document while the site serves the same style; as recorded once it changed', async () => {
    const inline = await recordInline();
    // The precondition: rrweb read the style element's rules back through the CSSOM, as it does a linked sheet's.
    const css = recordedStyle(inline);
    expect(hasLostDeclarations(css), css).toBe(true);
    expect(css).not.toContain('var(--paint)');
    expect(prefetchUrls(inline), 'the document fetched while Chromium starts').toContain(`${site.origin}/inline.html`);

    const same = await cardPixel(inline);
    expect(same.stylesheets).toEqual({ lost: 1, restored: 1, repaired: 0 });
    expect(near(same.rgb, CRIMSON), `card pixel ${same.rgb}`).toBe(true);

    files.set('/inline.html', { body: Buffer.from(inlinePage(CHANGED)), type: 'text/html; charset=utf-8' });
    const changed = await cardPixel(inline);
    expect(changed.stylesheets).toEqual({ lost: 1, restored: 0, repaired: 0 });
    expect(near(changed.rgb, [255, 255, 255]), `card pixel ${changed.rgb}`).toBe(true);
  });
});

describe('a stylesheet whose border-block sides the CSSOM serializes as a value no parser accepts', () => {
  /**
   * mdBook's blockquote tags and the Rust Reference's notes: the theme gives blockquotes borders on
   * both block sides, a later rule takes them off with `border-block-start: none; border-block-end:
   * none`, which Chromium serializes as `border-block: initial initial` (dropped when parsed again).
   * Here the theme's border is 200 px of crimson, so a replay that lost the later rule paints the
   * card's probe point (110, 110) crimson, and one that has it leaves it white. The loss needs no
   * source to repair, so the site is not asked.
   */
  const BORDERS = `body { margin: 0; background: #fff; }
blockquote { margin: 0; padding: 0; border-block-start: 200px solid rgb(220, 20, 60); border-block-end: 200px solid rgb(220, 20, 60); }
.note blockquote { border-block-start: none; border-block-end: none; }
`;
  const page = (how: 'linked' | 'constructed') =>
    how === 'linked'
      ? '<!doctype html><html><head><link rel="stylesheet" href="/borders.css"></head><body><div class="note"><blockquote>a note</blockquote></div></body></html>'
      : `<!doctype html><html><head></head><body><div class="note"><blockquote>a note</blockquote></div>
<script>const sheet = new CSSStyleSheet(); sheet.replaceSync(${JSON.stringify(BORDERS)}); document.adoptedStyleSheets = [sheet];</script></body></html>`;

  async function record(how: 'linked' | 'constructed'): Promise<RrwebEvent[]> {
    files.set(`/note-${how}.html`, { body: Buffer.from(page(how)), type: 'text/html; charset=utf-8' });
    files.set('/borders.css', { body: Buffer.from(BORDERS), type: 'text/css' });
    const rec = await recordJourney(site.origin, async ({ page: p, origin, idle }) => {
      await p.goto(`${origin}/note-${how}.html`);
      await idle(1500);
      await p.mouse.move(400, 300);
      await idle(500);
    });
    return parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  }

  for (const how of ['linked', 'constructed'] as const) {
    it(`is recorded without the rule that takes the borders off, and repaired in the replay with the site gone (${how === 'linked' ? 'a linked sheet' : 'a constructed sheet, as CSS-in-JS makes'})`, async () => {
      const recorded = await record(how);
      // The precondition: the serialization the recorder got from Chromium.
      expect(JSON.stringify(recorded)).toContain('border-block: initial initial');
      files.delete('/borders.css');
      files.delete(`/note-${how}.html`);
      const shown = await cardPixel(recorded);
      expect(shown.stylesheets).toEqual({ lost: 0, restored: 0, repaired: 1 });
      expect(near(shown.rgb, [255, 255, 255]), `probe pixel ${shown.rgb}`).toBe(true);
    });
  }

  it('is repaired as the implicit parts say (initial without being written), and nothing else is', () => {
    expect(repairedCss('.a { border-block: initial initial; }')).toBe('.a { border-block: none; }');
    expect(repairedCss('.a{border-inline:initial solid initial !important}')).toBe('.a{border-inline: solid !important}');
    expect(repairedCss('.a { border-block: 0px initial initial; color: red; }')).toBe('.a { border-block: 0px; color: red; }');
    expect(repairedCss('.a { border-block: 1px solid rgb(220, 20, 60); } .b { border-block: initial; } .c { border-inline: inherit initial; }')).toBe(
      '.a { border-block: 1px solid rgb(220, 20, 60); } .b { border-block: initial; } .c { border-inline: inherit initial; }',
    );
    // What repair leaves (another keyword among the parts) is lost; a keyword alone, a custom property's or a string's is not.
    expect(hasLostDeclarations('.a { border-block: initial initial; }')).toBe(false);
    expect(hasLostDeclarations('.a { border-inline: inherit initial; }')).toBe(true);
    expect(hasLostDeclarations('.a { border-block: initial; color: inherit !important; all: unset; }')).toBe(false);
    expect(hasLostDeclarations('.a { --x: initial initial; content: "initial value"; font-family: initial-font, serif; }')).toBe(false);
  });
});

describe('a transition whose longhand lists the CSSOM cut to one layer each', () => {
  /**
   * mdBook's code-block buttons say `transition: 100ms; transition-property: color, border-color,
   * background-color`; Chromium serializes that as `transition: color 100ms, border-color,
   * background-color`, which gives the last two 0 s. Here the box's second property is its
   * transform: moved 600 px in 1 s, linearly, it is half way at 0.5 s, or already there when the
   * list was cut.
   */
  const MOVING = `body { margin: 0; background: #fff; }
.box { position: absolute; left: 0; top: 100px; width: 100px; height: 100px; background: rgb(220, 20, 60); transition: 1s linear; transition-property: opacity, transform; }
.box.moved { transform: translateX(600px); }
`;
  const PAGE_MOVING = '<!doctype html><html><head><link rel="stylesheet" href="/moving.css"></head><body><div class="box"></div></body></html>';

  async function record(): Promise<{ recording: RrwebEvent[]; movedAtS: number }> {
    files.set('/moving.html', { body: Buffer.from(PAGE_MOVING), type: 'text/html; charset=utf-8' });
    files.set('/moving.css', { body: Buffer.from(MOVING), type: 'text/css' });
    const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/moving.html`);
      await idle(1000);
      await page.evaluate("document.querySelector('.box').classList.add('moved')");
      await idle(1500);
      // The recording ends at its last event: one after the transition's end.
      await page.mouse.move(400, 500);
      await idle(300);
    });
    const recording = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
    const moved = recording.find((e) => e.type === 3 && JSON.stringify(e.data).includes('box moved'));
    expect(moved, 'the class change was recorded').toBeDefined();
    return { recording, movedAtS: (moved!.timestamp - recording[0]!.timestamp) / 1000 };
  }

  /** Which of three probe points (page x 50, 350 and 650, the box's middle height) the box covers half a second after it was moved. */
  async function boxAtHalfway(recording: RrwebEvent[], movedAtS: number): Promise<{ covered: boolean[]; stylesheets: { lost: number; restored: number; repaired: number } }> {
    const startS = Math.max(0, movedAtS - 0.3);
    const r = await renderRecording(recording, { ...DEFAULT_RENDER_OPTIONS, startS, endS: movedAtS + 1.2, width: 800, allowOrigins: [site.origin] }, { browser });
    const gif = decodeGif(r.gif);
    const shown = frameAt(gif, (movedAtS + 0.5 - startS) * 1000);
    const scale = gif.width / 1280;
    const covered = [50, 350, 650].map((x) => {
      const at = (Math.round(150 * scale) * gif.width + Math.round(x * scale)) * 4;
      return near([...shown.rgba.slice(at, at + 3)], CRIMSON);
    });
    return { covered, stylesheets: r.stylesheets };
  }

  it('is recorded cut, and replayed moving from the site\'s text while the site serves it, from the lists repeated once it is gone', async () => {
    const { recording, movedAtS } = await record();
    // The precondition: the serialization the recorder got from Chromium.
    expect(JSON.stringify(recording)).toContain('transition: opacity 1s linear, transform;');

    const served = await boxAtHalfway(recording, movedAtS);
    expect(served.stylesheets).toEqual({ lost: 1, restored: 1, repaired: 0 });
    expect(served.covered, 'the box half way (page x 350), not at its start or its end').toEqual([false, true, false]);

    files.delete('/moving.css');
    files.delete('/moving.html');
    const gone = await boxAtHalfway(recording, movedAtS);
    expect(gone.stylesheets).toEqual({ lost: 1, restored: 0, repaired: 1 });
    expect(gone.covered, 'the box half way (page x 350), not at its start or its end').toEqual([false, true, false]);
  });

  it('is repeated as its lists would be (layer i takes what layer i mod k says), and a value not cut is left as it is', () => {
    expect(withListsRepeated('.a { transition: color 100ms, border-color, background-color; }')).toBe(
      '.a { transition: color 100ms, border-color 100ms, background-color 100ms; }',
    );
    expect(withListsRepeated('.a{transition:a 1s,b 2s,c}')).toBe('.a{transition: a 1s, b 2s, c 1s}');
    expect(withListsRepeated('.a { transition: 1s, opacity; }')).toBe('.a { transition: 1s, opacity 1s; }');
    expect(withListsRepeated('.a { transition: transform 0.3s cubic-bezier(0.22, 1, 0.36, 1), opacity !important; }')).toBe(
      '.a { transition: transform 0.3s cubic-bezier(0.22, 1, 0.36, 1), opacity 0.3s cubic-bezier(0.22, 1, 0.36, 1) !important; }',
    );
    // Chromium writes every part of an animation layer, the name last.
    expect(withListsRepeated('.a { animation: 1s ease 0s infinite normal none running spin, pulse; }')).toBe(
      '.a { animation: 1s ease 0s infinite normal none running spin, 1s ease 0s infinite normal none running pulse; }',
    );
    for (const whole of [
      '.a { transition: opacity 0.3s, visibility 0s 0.3s; }',
      '.a { transition: color 100ms ease-in, linear; }',
      '.a { transition: none; } .b { transition: opacity; }',
      '.a { --t: a 1s, b; content: "a 1s, b"; }',
    ]) {
      expect(hasCutLists(whole), whole).toBe(false);
      expect(withListsRepeated(whole)).toBe(whole);
    }
    // A rule written as a cut one reads is, which is why the site is asked first.
    expect(hasLostDeclarations('.a { transition: opacity 0.3s, visibility; }')).toBe(true);
  });
});

describe('stylesheet texts and documents written to be slow', () => {
  // Node reads a recording's stylesheet texts while it plans a render (asset-prefetch.ts), on the
  // worker's event loop: a pattern that scans on from each start and fails (quadratic) would hold
  // every job of the worker for minutes on a few MB. Each of these took 0.5-60 s before.
  it('are read in time linear in their length (2 MB each, well under a second)', () => {
    const n = 200_000;
    const texts = ['transition:'.repeat(n), 'border-block:'.repeat(n), ('animation:a' + ' b'.repeat(10)).repeat(n / 10), 'url('.repeat(n), 'url("'.repeat(n)];
    for (const text of texts) {
      const from = performance.now();
      hasCutLists(text);
      withListsRepeated(text);
      repairedCss(text);
      hasLostDeclarations(text);
      absolutizeUrls(text, 'https://site.example/');
      expect(performance.now() - from, text.slice(0, 20)).toBeLessThan(1000);
    }
    for (const html of ['<link rel="'.repeat(n), '<style>'.repeat(n), '<base href="'.repeat(n)]) {
      const from = performance.now();
      documentStylesheets(html, 'https://site.example/');
      expect(performance.now() - from, html.slice(0, 20)).toBeLessThan(1000);
    }
  });

  it('keep what they meant: url()s quoted with ) inside, any case, a name that only starts like a tag\'s', () => {
    expect(absolutizeUrls(`a{background:url("data:image/svg+xml;utf8,<svg fill='rgb(0,0,0)'/>")} b{background:URL( 'img/b.png' )}`, 'https://site.example/css/m.css')).toBe(
      `a{background:url("data:image/svg+xml;utf8,<svg fill='rgb(0,0,0)'/>")} b{background:url('https://site.example/css/img/b.png')}`,
    );
    const html = '<linked rel="stylesheet" href="no.css"><link\nrel="stylesheet" href="yes.css"><stylesheet>x</stylesheet>';
    expect(documentStylesheets(html, 'https://site.example/').links).toEqual(['https://site.example/yes.css']);
  });
});

describe('the stylesheets a document links (read in Node from the page the recording was on)', () => {
  it('takes rel=stylesheet links in order, against the document or its base, once each, http(s) only', () => {
    const html = `<!doctype html><html><head>
      <base href="/docs/v2/">
      <link rel="preload" as="style" href="preloaded.css">
      <link href='main.css' rel='stylesheet'>
      <LINK REL="alternate stylesheet" HREF=dark.css>
      <link rel="stylesheet" href="main.css">
      <link rel="stylesheet" href="data:text/css,body{}">
      <link rel="stylesheet" href="https://cdn.example/x.css?v=1&amp;b=2">
      <link rel="icon" href="favicon.ico">
      </head><body><link rel="stylesheet" href="/late.css"></body></html>`;
    expect(documentStylesheets(html, 'https://site.example/docs/page.html').links).toEqual([
      'https://site.example/docs/v2/main.css',
      'https://site.example/docs/v2/dark.css',
      'https://cdn.example/x.css?v=1&b=2',
      'https://site.example/late.css',
    ]);
  });

  it('takes the text of its style elements that use var() (only those can lose declarations the site alone gives back), url()s against its base', () => {
    const html = `<!doctype html><html><head><base href="/docs/v2/">
      <style>:root { --c: red } .a { background: var(--c) url(img/a.png); background-repeat: no-repeat }</style>
      <style media="print">.b { color: black }</style>
      <STYLE nonce="x">.c { margin: var(--m); margin-top: 0; background: url("https://cdn.example/b.png") }</STYLE>
      <style>:root { --c: red } .a { background: var(--c) url(img/a.png); background-repeat: no-repeat }</style>
      </head><body></body></html>`;
    expect(documentStylesheets(html, 'https://site.example/docs/page.html').styles).toEqual([
      ':root { --c: red } .a { background: var(--c) url(https://site.example/docs/v2/img/a.png); background-repeat: no-repeat }',
      '.c { margin: var(--m); margin-top: 0; background: url("https://cdn.example/b.png") }',
    ]);
  });

  it('asks for a page without its query or fragment, and for http(s) pages only', () => {
    expect(stylesheetPage('https://shop.example/reset?token=secret#top')).toBe('https://shop.example/reset');
    expect(stylesheetPage('file:///etc/passwd')).toBeNull();
    expect(stylesheetPage(42)).toBeNull();
  });
});
