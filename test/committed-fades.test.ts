import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { committedFades } from '../player/committed-fades.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderResult } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { formatScores, scoreMoments } from './support/moments.js';
import { bundleApp, level, openHalfWay } from './support/half-way.js';
import { recordJourney, type Recording } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/**
 * Framer Motion (its own build from npm, with React 18, bundled here by esbuild) fades an element
 * in with the Web Animations API, which rrweb's recorder does not see: the recording has the card
 * inserted at `opacity: 0` and, 1.2 s later, the `opacity: 1` the library writes when its animation
 * ends. Beside it, a page script fades a second box in by writing its opacity at every display
 * frame, which the recorder sees frame by frame. Before the player made the first fade again, the
 * card was invisible for the whole fade in every replay, then appeared at once.
 */
const APP = `import React, { useState, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { motion } from 'framer-motion';
const h = React.createElement;
function Ticked() {
  const ref = React.useRef(null);
  useEffect(() => {
    const start = performance.now();
    const tick = (now) => {
      const p = Math.min(1, (now - start) / 1200);
      ref.current.style.opacity = String(p);
      if (p < 1) requestAnimationFrame(tick);
    };
    ref.current.style.opacity = '0';
    requestAnimationFrame(tick);
  }, []);
  return h('div', { id: 'ticked', ref, style: { position: 'absolute', left: 700, top: 120, width: 400, height: 400, background: '#000' } });
}
function App() {
  const [open, setOpen] = useState(false);
  return h('div', null,
    h('button', { id: 'open', style: { margin: 40, fontSize: 20 }, onClick: () => setOpen(true) }, 'Open'),
    open && h(motion.div, { id: 'card', initial: { opacity: 0 }, animate: { opacity: 1 }, transition: { duration: 1.2, ease: 'linear' }, style: { position: 'absolute', left: 100, top: 120, width: 400, height: 400, background: '#000' } }),
    open && h(Ticked));
}
createRoot(document.getElementById('root')).render(h(App));`;
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>body { margin: 0; background: #fff; overflow: hidden; }</style></head>
<body><div id="root"></div><script src="/app.js"></script></body></html>`;

const CARD = [200, 220, 200, 200] as const;
const TICKED = [800, 220, 200, 200] as const;

let site: SiteServer;
let browser: Browser;
let rec: Recording;
let evs: RrwebEvent[];
let result: RenderResult;

beforeAll(async () => {
  site = await startSite({
    generated: new Map([
      ['/page.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }],
      ['/app.js', { body: await bundleApp(APP), type: 'text/javascript' }],
    ]),
  });
  browser = await launchBrowser();
  rec = await recordJourney(site.origin, openHalfWay);
  evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  result = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe("Framer Motion's fades (the Web Animations API, which the recorder does not see)", () => {
  it('finds the card\'s fade in the recording by its two ends, and not the fade written frame by frame', () => {
    const ids = new Map<string, number>();
    for (const e of evs) if (e.type === 3) for (const a of (e.data as { adds?: { node: { id: number; attributes?: { id?: string } } }[] }).adds ?? []) if (a.node.attributes?.id) ids.set(a.node.attributes.id, a.node.id);
    const fades = [...committedFades(evs).values()].flat();
    const card = fades.find((f) => f.id === ids.get('card'));
    expect(card, 'the card\'s fade').toBeDefined();
    expect(card!.from).toBe(0);
    expect(card!.to).toBe(1);
    // 1.2 s, and the frame or two the library takes to write its end.
    expect(card!.durationMs).toBeGreaterThan(1150);
    expect(card!.durationMs).toBeLessThan(1400);
    expect(fades.find((f) => f.id === ids.get('ticked')), 'the box written frame by frame').toBeUndefined();
  });

  it('fades the card in as it did live, and the box written frame by frame as recorded', async () => {
    const scores = await scoreMoments(result.gif, rec.shots, evs[0]!.timestamp, rec.viewport);
    console.log(formatScores('Framer Motion', scores));
    const gif = decodeGif(result.gif);
    const k = gif.width / rec.viewport.width;
    const mid = rec.shots.find((s) => s.label === 'half-way')!;
    const live = await sharp(mid.png).ensureAlpha().raw().toBuffer();
    const frame = frameAt(gif, mid.ts - evs[0]!.timestamp).rgba;
    for (const [name, box] of [['card', CARD], ['ticked box', TICKED]] as const) {
      const l = level(live, rec.viewport.width, box);
      const g = level(frame, gif.width, box.map((v) => Math.round(v * k)));
      console.log(`the ${name} half-way: live ${l.toFixed(0)}, GIF ${g.toFixed(0)} (white 255, black 0)`);
      expect(l, `${name}: the live shot is half-way`).toBeGreaterThan(60);
      expect(l).toBeLessThan(200);
      expect(Math.abs(g - l), name).toBeLessThan(30);
    }
    for (const s of scores) expect(s.ssim, s.label).toBeGreaterThanOrEqual(0.95);
  });

  it('never lets the card out of sight between its fade and the record of its end', () => {
    const gif = decodeGif(result.gif);
    const k = gif.width / rec.viewport.width;
    const mid = rec.shots.find((s) => s.label === 'half-way')!.ts - evs[0]!.timestamp;
    const end = rec.shots.find((s) => s.label === 'end')!.ts - evs[0]!.timestamp;
    let last = Infinity;
    for (let t = mid; t <= end; t += 50) {
      const l = level(frameAt(gif, t).rgba, gif.width, CARD.map((v) => Math.round(v * k)));
      expect(l, `the card at ${t} ms darkens or holds`).toBeLessThanOrEqual(last + 5);
      last = l;
    }
    expect(last, 'the card at its end').toBeLessThan(10);
  });
});
