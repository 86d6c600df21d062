// Nodes a page moves among their siblings (src/recording/moved-nodes.ts): rows sorted the way React
// moves them, recorded by rrweb's recorder and rendered; and the reordering on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { orderedAdds, withMovedNodesOrdered } from '../src/recording/moved-nodes.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/** Eight rows of eight colours, 50 px high each. */
const COLOURS = ['rgb(220, 20, 60)', 'rgb(255, 140, 0)', 'rgb(255, 215, 0)', 'rgb(46, 139, 87)', 'rgb(30, 144, 255)', 'rgb(106, 90, 205)', 'rgb(0, 0, 0)', 'rgb(139, 69, 19)'];
const RGB = COLOURS.map((c) => c.match(/\d+/g)!.map(Number));
/** The order after the sort, by original row. */
const SORTED = [4, 3, 0, 6, 5, 2, 1, 7];

// The sort as React commits it (a keyed list: the rows whose old index falls behind the last one
// kept are moved, each before the next row that stays), so the recorder sees five rows moved, each
// listed with the moved row it now stands before.
const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.row { height: 50px; }
</style></head><body><div id="list">${COLOURS.map((c, i) => `<div class="row" id="r${i}" style="background: ${c}"></div>`).join('')}</div>
<script>
function sortRows() {
  const r = (i) => document.getElementById('r' + i);
  const list = document.getElementById('list');
  list.insertBefore(r(3), r(6));
  list.insertBefore(r(0), r(6));
  list.insertBefore(r(5), r(7));
  list.insertBefore(r(2), r(7));
  list.insertBefore(r(1), r(7));
}
</script></body></html>`;

let site: SiteServer;
let browser: Browser;

beforeAll(async () => {
  site = await startSite({ generated: new Map([['/rows.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }]]) });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('rows a page moved among their siblings', () => {
  it('are drawn in the order the user saw', async () => {
    let sortedAt = 0;
    let live: string[] = [];
    const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/rows.html`);
      await idle(700);
      await page.evaluate('sortRows()');
      sortedAt = Date.now();
      live = await page.evaluate<string[]>(`[...document.querySelectorAll('.row')].map((e) => e.id)`);
      await idle(700);
      await page.mouse.move(900, 600, { steps: 3 });
      await idle(300);
    });
    expect(live, 'the live order').toEqual(SORTED.map((i) => `r${i}`));
    const evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
    const moves = evs.filter((e) => e.type === 3 && (e.data as { source: number; removes?: unknown[] }).source === 0 && ((e.data as { removes?: unknown[] }).removes?.length ?? 0) === 5);
    expect(moves.length, 'one mutation with the five rows moved').toBe(1);
    const r = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
    const gif = decodeGif(r.gif);
    const k = gif.width / rec.viewport.width;
    const f = frameAt(gif, sortedAt + 400 - evs[0]!.timestamp);
    const shown = SORTED.map((_, row) => {
      const at = (Math.round((row * 50 + 25) * k) * gif.width + Math.round(300 * k)) * 4;
      const px = [...f.rgba.slice(at, at + 3)];
      return RGB.findIndex((c) => c.every((v, j) => Math.abs(v - px[j]!) <= 20));
    });
    expect(shown, 'the rows in the frame, by original row').toEqual(SORTED);
  });
});

describe('orderedAdds', () => {
  const add = (id: number, nextId: number | null, parentId = 1) => ({ parentId, nextId, node: { type: 2, tagName: 'tr', attributes: {}, childNodes: [], id } });
  const child = (id: number, parentId: number) => ({ parentId, nextId: null, node: { type: 3, textContent: 'x', id } });

  it('puts an add after the add of the sibling it stands before, with the adds of its subtree', () => {
    // 10 before 11 before 12 (added), 12 before 5 (in place); 10 and 11 each with a child.
    const list = [add(10, 11), child(20, 10), add(11, 12), child(21, 11), add(12, 5)];
    expect(orderedAdds(list).map((a) => (a as { node: { id: number } }).node.id)).toEqual([12, 11, 21, 10, 20]);
  });

  it('returns the same list when every add comes after its next sibling, and keeps a ring in its order', () => {
    const inOrder = [add(12, 5), add(11, 12), add(10, 11)];
    expect(orderedAdds(inOrder)).toBe(inOrder);
    const ring = [add(10, 11), add(11, 10), add(12, null)];
    expect(orderedAdds(ring).map((a) => (a as { node: { id: number } }).node.id)).toEqual([12, 10, 11]);
    // Entries that are not adds are kept; one with no node that names a sibling added later waits for it.
    const junk = [null, 'x', { nextId: 3 }, add(3, null)];
    expect(orderedAdds(junk)).toEqual([null, 'x', add(3, null), { nextId: 3 }]);
  });

  it('orders a chain of 20,000 rows reversed without recursion, and a node with a subtree of 300,000, and leaves other events alone', () => {
    const n = 20_000;
    const list = Array.from({ length: n }, (_, i) => add(100 + i, i + 1 < n ? 101 + i : null));
    const ids = orderedAdds(list).map((a) => (a as { node: { id: number } }).node.id);
    expect(ids[0]).toBe(100 + n - 1);
    expect(ids.at(-1)).toBe(100);
    // One node added with a subtree of 300,000 (the recorder lists each under its parent), moved.
    const big = [add(10, 11), ...Array.from({ length: 300_000 }, (_, i) => child(1_000 + i, 10)), add(11, null)];
    const out = orderedAdds(big);
    expect(out.length).toBe(big.length);
    expect((out[0] as { node: { id: number } }).node.id).toBe(11);
    const events: RrwebEvent[] = [
      { type: 3, timestamp: 1, data: { source: 1, positions: [] } },
      { type: 3, timestamp: 2, data: { source: 0, adds: [add(10, null)], removes: [], texts: [], attributes: [] } },
      { type: 3, timestamp: 3, data: { source: 0, adds: 'not a list', removes: [], texts: [], attributes: [] } },
    ];
    withMovedNodesOrdered(events).forEach((e, i) => expect(e, `event ${i}`).toBe(events[i]));
  });
});
