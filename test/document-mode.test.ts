// The replay's document in the mode the user's page was in (src/recording/quirks-mode.ts): a page
// whose doctype puts it in quirks mode, and a same-origin iframe of one, recorded by rrweb's recorder
// and compared with live screenshots; and the transform on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseRecording } from '../src/recording/parse.js';
import { withQuirksModeKept } from '../src/recording/quirks-mode.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { formatScores, scoreMoments } from './support/moments.js';
import { recordJourney, type Recording } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/** HTML 4.01 Transitional without its system identifier: quirks mode, as many older pages are. */
const QUIRKS_DOCTYPE = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">';

// In quirks mode the table takes 60 % of the viewport's height and the red block 30 %; in standards
// mode both are only as high as their text, and the page's top 100 px are all that is drawn.
const PAGE = `${QUIRKS_DOCTYPE}
<html><head><style>.Panel td { background: rgb(30, 144, 255); color: #fff }</style></head><body style="margin: 0">
<table width="100%" height="60%" border="0" cellpadding="0" cellspacing="0"><tr><td>A table 60 % of the viewport high</td></tr></table>
<div class="Panel"><table><tr><td>Tables do not inherit font sizes <span style="font-size: 30px">here</span></td></tr></table></div>
<div style="height: 30%; background: rgb(220, 20, 60)">30 % of the viewport</div>
<iframe src="/inner.html" style="position: absolute; right: 0; top: 0; width: 400px; height: 300px; border: 0"></iframe>
</body></html>`;
const INNER = `${QUIRKS_DOCTYPE}<html><body style="margin: 0; background: #fff"><div style="height: 50%; background: rgb(46, 139, 87)">half the frame</div></body></html>`;

let site: SiteServer;
let browser: Browser;

beforeAll(async () => {
  site = await startSite({
    generated: new Map([
      ['/page.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }],
      ['/inner.html', { body: Buffer.from(INNER), type: 'text/html; charset=utf-8' }],
      ['/limited.html', { body: Buffer.from(LIMITED_PAGE), type: 'text/html; charset=utf-8' }],
      ['/limited-inner.html', { body: Buffer.from(LIMITED_INNER), type: 'text/html; charset=utf-8' }],
    ]),
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/**
 * Renders a recording whole, expects every live shot matched (SSIM 0.98 or more), and returns the
 * colour at (x, y) of the page (css px) in the frame of the first shot's moment.
 */
async function renderedAgainstLive(rec: Recording, title: string): Promise<(x: number, y: number) => number[]> {
  const evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  const r = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
  const scores = await scoreMoments(r.gif, rec.shots, evs[0]!.timestamp, rec.viewport);
  console.log(formatScores(title, scores));
  for (const s of scores) expect(s.ssim, s.label).toBeGreaterThanOrEqual(0.98);
  const gif = decodeGif(r.gif);
  const k = gif.width / rec.viewport.width;
  const f = frameAt(gif, rec.shots[0]!.ts - evs[0]!.timestamp);
  return (x, y) => {
    const at = (Math.round(y * k) * gif.width + Math.round(x * k)) * 4;
    return Array.from(f.rgba.slice(at, at + 3));
  };
}

describe('a page in quirks mode', () => {
  it('is laid out as the user saw it, with its iframe', async () => {
    let modes: string[] = [];
    const rec = await recordJourney(site.origin, async ({ page, origin, idle, shot }) => {
      await page.goto(`${origin}/page.html`);
      modes = await Promise.all(page.frames().map((f) => f.evaluate<string>('document.compatMode')));
      await shot('page');
      await idle(800);
      await page.mouse.move(300, 700, { steps: 4 });
    });
    expect(modes, 'the live page and its frame in quirks mode').toEqual(['BackCompat', 'BackCompat']);
    const px = await renderedAgainstLive(rec, 'quirks page against live');
    // The red block below the table (60-90 % of the viewport's height) and the frame's green half.
    const [r1, g1] = px(200, rec.viewport.height * 0.75);
    expect(r1! > 180 && g1! < 90, `red at 75 % of the height: ${px(200, rec.viewport.height * 0.75)}`).toBe(true);
    const [r2, g2, b2] = px(rec.viewport.width - 200, 100);
    expect(r2! < 90 && g2! > 110 && b2! < 120, `green in the frame's top half: ${px(rec.viewport.width - 200, 100)}`).toBe(true);
  });
});

// Limited-quirks mode: a line of images alone gets no strut. Each 40 px image in a table cell makes
// a row 40 px high, not 44-46 (the descender space under an image on its baseline): the green block
// under eight rows starts at 320 px, not at about 360. The iframe's page is HTML 4.01 Transitional
// with its system identifier (the other way into the mode, without an xmlns on <html>).
const XHTML_TRANSITIONAL = '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">';
const HTML401_TRANSITIONAL = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">';
const rows = (n: number, h: number) => Array.from({ length: n }, () => `<tr><td><img src="/img/product-0.jpg" width="200" height="${h}" alt="" /></td></tr>`).join('');
const LIMITED_PAGE = `${XHTML_TRANSITIONAL}
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>sliced</title></head><body style="margin: 0; background: #fff">
<table cellpadding="0" cellspacing="0" border="0">${rows(8, 40)}</table>
<div style="height: 120px; background: rgb(46, 139, 87)"></div>
<iframe src="/limited-inner.html" style="position: absolute; right: 0; top: 0; width: 400px; height: 300px; border: 0"></iframe>
</body></html>`;
const LIMITED_INNER = `${HTML401_TRANSITIONAL}<html><body style="margin: 0; background: #fff"><table cellpadding="0" cellspacing="0" border="0">${rows(4, 30)}</table><div style="height: 100px; background: rgb(220, 20, 60)"></div></body></html>`;

describe('a page in limited-quirks mode', () => {
  it('is laid out as the user saw it, with its iframe', async () => {
    let heights: number[] = [];
    const rec = await recordJourney(site.origin, async ({ page, origin, idle, shot }) => {
      await page.goto(`${origin}/limited.html`);
      await page.waitForFunction('document.querySelector("iframe").contentDocument?.readyState === "complete"');
      heights = await Promise.all(page.frames().map((f) => f.evaluate<number>('document.querySelector("table").offsetHeight')));
      await shot('page');
      await idle(800);
      await page.mouse.move(300, 700, { steps: 4 });
    });
    expect(heights, 'the live page and its frame in limited-quirks mode: rows as high as their images').toEqual([320, 120]);
    const px = await renderedAgainstLive(rec, 'limited-quirks page against live');
    // Just under the eighth row at 40 px a row (in standards mode: still the eighth row's gap, white).
    const [r1, g1, b1] = px(300, 330);
    expect(r1! < 90 && g1! > 110 && b1! < 120, `green at 330 px: ${px(300, 330)}`).toBe(true);
    const [r2, g2] = px(rec.viewport.width - 100, 125);
    expect(r2! > 180 && g2! < 90, `red in the frame at 125 px: ${px(rec.viewport.width - 100, 125)}`).toBe(true);
  });
});

describe('withQuirksModeKept', () => {
  const doctype = { type: 1, name: 'html', publicId: '-//W3C//DTD HTML 4.01 Transitional//EN', systemId: '', id: 2 };
  const html = { type: 2, tagName: 'html', attributes: {}, childNodes: [], id: 3 };
  const doc = (compatMode?: string, children: unknown[] = [doctype, html]) => ({ type: 0, childNodes: children, id: 1, ...(compatMode ? { compatMode } : {}) });
  const snapshot = (node: unknown): RrwebEvent => ({ type: 2, timestamp: 1, data: { node, initialOffset: { top: 0, left: 0 } } });

  it("leaves the doctype out of a quirks document's snapshot, and nothing else", () => {
    const e = snapshot(doc('BackCompat'));
    const [out] = withQuirksModeKept([e]);
    expect((out!.data as { node: { childNodes: unknown[] } }).node.childNodes).toEqual([html]);
    // The input is not changed: a recording's events may be read again.
    expect((e.data as { node: { childNodes: unknown[] } }).node.childNodes).toEqual([doctype, html]);
  });

  it('keeps standards documents, quirks ones without a leading doctype, and other events as they are', () => {
    const events: RrwebEvent[] = [
      snapshot(doc()),
      snapshot(doc('CSS1Compat')),
      snapshot(doc('BackCompat', [html])),
      snapshot(doc('BackCompat', [{ type: 5, textContent: 'a comment', id: 4 }, doctype, html])),
      { type: 3, timestamp: 2, data: { source: 1, positions: [] } },
      { type: 3, timestamp: 3, data: { source: 0, adds: 'not a list', removes: [], texts: [], attributes: [] } },
      snapshot(null),
    ];
    const out = withQuirksModeKept(events);
    out.forEach((e, i) => expect(e, `event ${i}`).toBe(events[i]));
  });

  it('gives a limited-quirks document the form rrweb writes that mode for, and leaves other standards doctypes alone', () => {
    const xhtml = { ...doctype, publicId: '-//W3C//DTD XHTML 1.0 Transitional//EN', systemId: 'http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd' };
    const [out] = withQuirksModeKept([snapshot(doc(undefined, [xhtml, html]))]);
    const node = (out!.data as { node: { compatMode?: string; childNodes: { attributes?: unknown }[] } }).node;
    expect(node.compatMode).toBe('BackCompat');
    expect(node.childNodes).toEqual([{ ...html, attributes: { xmlns: 'http://www.w3.org/1999/xhtml' } }]);
    const others: RrwebEvent[] = [
      snapshot(doc(undefined, [{ ...doctype, publicId: '', systemId: '' }, html])),
      snapshot(doc(undefined, [{ ...doctype, publicId: '-//W3C//DTD XHTML 1.0 Strict//EN' }, html])),
      snapshot(doc(undefined, [xhtml, { type: 5, textContent: 'a comment', id: 4 }, html])),
    ];
    withQuirksModeKept(others).forEach((e, i) => expect(e, `event ${i}`).toBe(others[i]));
  });

  it("leaves the doctype out of a quirks iframe's document added by a mutation", () => {
    const other = { parentId: 9, nextId: null, node: { type: 2, tagName: 'p', attributes: {}, childNodes: [], id: 10 } };
    const e: RrwebEvent = { type: 3, timestamp: 5, data: { source: 0, adds: [other, { parentId: 8, nextId: null, node: doc('BackCompat') }], removes: [], texts: [], attributes: [], isAttachIframe: true } };
    const [out] = withQuirksModeKept([e]);
    const adds = (out!.data as { adds: { node: { childNodes: unknown[] } }[] }).adds;
    expect(adds[0]).toBe(other);
    expect(adds[1]!.node.childNodes).toEqual([html]);
  });
});
