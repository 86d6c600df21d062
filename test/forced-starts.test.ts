import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { addsStartState, enterClasses, fadedStart, slideStart, slidIn } from '../player/enter-states.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { bundleForPage } from '../src/render/player-bundle.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS, type RenderResult } from '../src/render/types.js';
import { ssimAgainstLive } from './support/compare.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { formatScores, scoreMoments, type MomentScore } from './support/moments.js';
import { bundleApp, level, openHalfWay } from './support/half-way.js';
import { recordJourney, type Recording } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/**
 * Transitions a script starts by forcing a style update between two changes of one task, which the
 * recorder merges into their end state (player/forced-starts.ts), on Bootstrap 5 (its own CSS and
 * JavaScript from npm): an accordion opening and another closing, a modal fading in over a backdrop
 * inserted as it fades in, a carousel's slide. Bootstrap's transitions last 0.15-0.6 s; the page
 * slows them to 1.2-1.6 s (Bootstrap's script reads their length from the CSS) so that a shot in the
 * middle of one shows it half-way whatever a loaded machine's timing. Before the player staged these
 * changes, each of them was drawn at its end in the frame of the click.
 */
const require = createRequire(import.meta.url);
const BOOTSTRAP = (file: string) => readFileSync(require.resolve(`bootstrap/dist/${file}`));
const MIN_SSIM = 0.95;
/** A white box in the page's top left corner (x, y, w, h in CSS px), which only the backdrop covers. */
const CORNER = [4, 4, 40, 10] as const;

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bootstrap</title>
<link rel="stylesheet" href="/bootstrap.min.css">
<style>
.collapsing { transition-duration: 1.2s; }
.fade, .modal.fade .modal-dialog { transition-duration: 1.2s; }
.carousel-item { transition-duration: 1.6s; }
.slide { height: 220px; display: flex; align-items: center; justify-content: center; color: #fff; font-size: 2rem; }
</style></head><body>
<div class="container mt-3"><div class="row"><div class="col-6">
  <div class="accordion" id="acc">
    <div class="accordion-item">
      <h2 class="accordion-header"><button class="accordion-button" type="button" data-bs-toggle="collapse" data-bs-target="#c1">Shipping</button></h2>
      <div id="c1" class="accordion-collapse collapse show" data-bs-parent="#acc"><div class="accordion-body">Orders leave the warehouse within two days; tracking links arrive by email once the parcel is scanned.</div></div>
    </div>
    <div class="accordion-item">
      <h2 class="accordion-header"><button class="accordion-button collapsed" id="open-2" type="button" data-bs-toggle="collapse" data-bs-target="#c2">Returns</button></h2>
      <div id="c2" class="accordion-collapse collapse" data-bs-parent="#acc"><div class="accordion-body"><strong>Thirty days.</strong> Send anything back unused within thirty days of delivery for a full refund; the label is in the box, and the refund lands within a week of the parcel reaching us.</div></div>
    </div>
  </div>
  <button type="button" class="btn btn-primary mt-3" id="open-modal" data-bs-toggle="modal" data-bs-target="#modal">Delete account</button>
</div><div class="col-6">
  <div id="car" class="carousel slide">
    <div class="carousel-inner">
      <div class="carousel-item active"><div class="slide" style="background: #0d6efd">First slide</div></div>
      <div class="carousel-item"><div class="slide" style="background: #d63384">Second slide</div></div>
    </div>
    <button class="carousel-control-next" id="next" type="button" data-bs-target="#car" data-bs-slide="next"><span class="carousel-control-next-icon"></span></button>
  </div>
</div></div></div>
<div class="modal fade" id="modal" tabindex="-1"><div class="modal-dialog"><div class="modal-content">
  <div class="modal-header"><h1 class="modal-title fs-5">Delete your account?</h1></div>
  <div class="modal-body">Everything you stored with us goes with it, and it cannot be undone.</div>
  <div class="modal-footer"><button type="button" class="btn btn-danger">Delete</button></div>
</div></div></div>
<script src="/bootstrap.bundle.min.js"></script>
</body></html>`;

let site: SiteServer;
let browser: Browser;
let rec: Recording;
let evs: RrwebEvent[];
let result: RenderResult;
let scores: MomentScore[];

beforeAll(async () => {
  site = await startSite({
    generated: new Map([
      ['/index.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }],
      ['/bootstrap.min.css', { body: BOOTSTRAP('css/bootstrap.min.css'), type: 'text/css' }],
      ['/bootstrap.bundle.min.js', { body: BOOTSTRAP('js/bootstrap.bundle.min.js'), type: 'text/javascript' }],
    ]),
  });
  browser = await launchBrowser();
  rec = await recordJourney(site.origin, async ({ page, origin, idle, shot, shotAt, moveTo, firstEventTs }) => {
    await page.goto(`${origin}/index.html`);
    const t0 = await firstEventTs();
    // On the GIF's grid (10 fps from the recording's first event), so each shot is compared with a frame drawn at its time.
    const onSlot = (at: number) => t0 + Math.ceil((at - t0) / 100) * 100;
    await idle(800);
    await shot('start');
    const click = async (selector: string, label: string, midMs: number[], settleMs: number) => {
      await moveTo(selector);
      const t = Date.now();
      await page.click(selector);
      for (const [i, ms] of midMs.entries()) await shotAt(`${label}-mid-${i + 1}`, onSlot(t + ms));
      await idle(settleMs);
      await shot(`${label}-end`);
    };
    // One panel opens as the other closes (collapse: class and height changed in one record each).
    await click('#open-2', 'accordion', [500], 1400);
    // The backdrop is inserted fading in; 1.2 s later the modal is shown fading in and sliding down.
    await click('#open-modal', 'modal', [500, 1800], 1800);
    await page.keyboard.press('Escape');
    await idle(2000);
    // The next slide enters from the right as the active one leaves to the left.
    await click('#next', 'carousel', [900], 1800);
  });
  evs = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  result = await renderRecording(evs, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [site.origin] }, { browser });
  scores = await scoreMoments(result.gif, rec.shots, evs[0]!.timestamp, rec.viewport);
  console.log(`rendered ${result.durationS} s: ${result.captured} captures, ${result.gif.length} bytes, ${result.wallMs} ms; dropped shots: ${JSON.stringify(rec.dropped)}`);
  console.log(formatScores('SSIM per moment, Bootstrap', scores));
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** A row across the carousel, above its captions (CSS px). */
const SLIDE_ROW = 60;

/** Of the carousel's pixels in row `y`, the share the incoming slide (#d63384) covers; the rest is the leaving one (#0d6efd). */
function incoming(rgba: ArrayLike<number>, width: number, y: number): number {
  let pink = 0;
  let blue = 0;
  for (let x = 0; x < width; x++) {
    const at = (y * width + x) * 4;
    const [r, g, b] = [rgba[at]!, rgba[at + 1]!, rgba[at + 2]!];
    if (r > 170 && g < 100 && b > 90 && b < 180) pink++;
    else if (r < 60 && g > 80 && g < 140 && b > 210) blue++;
  }
  expect(pink + blue, 'the carousel crosses the row').toBeGreaterThan(100);
  return pink / (pink + blue);
}

describe("Bootstrap's transitions, started by a style update forced between two changes", () => {
  it('records the middle of each transition, and it differs from its end (so an end drawn at once fails)', async () => {
    const shot = (label: string) => {
      const s = rec.shots.find((x) => x.label === label);
      expect(s, label).toBeDefined();
      return s!;
    };
    for (const [mid, end] of [['accordion-mid-1', 'accordion-end'], ['modal-mid-2', 'modal-end']] as const) {
      const raw = await sharp(shot(end).png).ensureAlpha().raw().toBuffer();
      expect(await ssimAgainstLive(shot(mid).png, raw, rec.viewport.width, rec.viewport.height), `${mid} against ${end}`).toBeLessThan(MIN_SSIM);
    }
    // Half-way, the backdrop (black at 0.5) has darkened the white page by half as much as at its end.
    const live = await sharp(shot('modal-mid-1').png).ensureAlpha().raw().toBuffer();
    const backdrop = level(live, rec.viewport.width, CORNER);
    expect(backdrop, 'the page\'s corner behind the backdrop half-way').toBeGreaterThan(150);
    expect(backdrop).toBeLessThan(235);
    // Half-way, the second slide covers part of the carousel only (at its end, all of it).
    const pinkShare = incoming(await sharp(shot('carousel-mid-1').png).ensureAlpha().raw().toBuffer(), rec.viewport.width, SLIDE_ROW);
    expect(pinkShare).toBeGreaterThan(0.15);
    expect(pinkShare).toBeLessThan(0.85);
  });

  it('shows each transition half-way as the user saw it, and its end', () => {
    const below = scores.filter((m) => m.ssim < MIN_SSIM).map((m) => `${m.label}: ${m.ssim}`);
    expect(below, `moments under ${MIN_SSIM}`).toEqual([]);
    expect(scores.length).toBe(rec.shots.length);
  });

  it('slides the carousel as it did live', async () => {
    const mid = rec.shots.find((s) => s.label === 'carousel-mid-1')!;
    const gif = decodeGif(result.gif);
    const k = gif.width / rec.viewport.width;
    const live = incoming(await sharp(mid.png).ensureAlpha().raw().toBuffer(), rec.viewport.width, SLIDE_ROW);
    const drawn = incoming(frameAt(gif, mid.ts - evs[0]!.timestamp).rgba, gif.width, Math.round(SLIDE_ROW * k));
    console.log(`the second slide's share of the carousel half-way: live ${live.toFixed(3)}, GIF ${drawn.toFixed(3)}`);
    expect(Math.abs(drawn - live)).toBeLessThan(0.1);
  });

  it('fades the backdrop in as it did live', async () => {
    const mid = rec.shots.find((s) => s.label === 'modal-mid-1')!;
    const gif = decodeGif(result.gif);
    const k = gif.width / rec.viewport.width;
    const live = level(await sharp(mid.png).ensureAlpha().raw().toBuffer(), rec.viewport.width, CORNER);
    const drawn = level(frameAt(gif, mid.ts - evs[0]!.timestamp).rgba, gif.width, CORNER.map((v) => Math.round(v * k)));
    console.log(`the page's corner under the backdrop half-way: live ${live.toFixed(0)}, GIF ${drawn.toFixed(0)} (white 255, under the whole backdrop 127)`);
    expect(Math.abs(drawn - live)).toBeLessThan(20);
  });
});

describe("an entering element's start state (Bootstrap's class names)", () => {
  it('leaves out the end classes the record added to an element with a start class', () => {
    expect(enterClasses(['modal-backdrop', 'fade', 'show'], new Set())).toEqual(['modal-backdrop', 'fade']);
    expect(enterClasses(['carousel-item', 'carousel-item-next', 'carousel-item-start'], new Set(['carousel-item']))).toEqual(['carousel-item', 'carousel-item-next']);
    expect(enterClasses(['item', 'fade', 'in'], new Set(['item', 'fade']))).toEqual(['item', 'fade']);
    // A toast shown: `show` is left out, `showing` (opacity 0 until Bootstrap removes it) is kept.
    expect(enterClasses(['toast', 'fade', 'show', 'showing'], new Set(['toast', 'fade']))).toEqual(['toast', 'fade', 'showing']);
  });

  it("does the same for react-transition-group's `-enter` and `-enter-active` (and `-appear`)", () => {
    expect(enterClasses(['panel', 'slide-enter', 'slide-enter-active'], new Set(['panel']))).toEqual(['panel', 'slide-enter']);
    expect(enterClasses(['menu', 'pop-appear', 'pop-appear-active'], new Set())).toEqual(['menu', 'pop-appear']);
    // Vue 3's enter classes (`-enter-from`) have no `-enter` beside the active one: nothing to pass through.
    expect(enterClasses(['panel', 'slide-enter-from', 'slide-enter-active'], new Set(['panel']))).toBeNull();
    // The active class alone, or one the element had.
    expect(enterClasses(['panel', 'slide-enter-active'], new Set())).toBeNull();
    expect(enterClasses(['panel', 'slide-enter', 'slide-enter-active'], new Set(['slide-enter-active']))).toBeNull();
  });

  it('changes nothing without a start class, or where the end class was there before', () => {
    expect(enterClasses(['dropdown-menu', 'show'], new Set())).toBeNull();
    expect(enterClasses(['modal', 'fade', 'show'], new Set(['modal', 'fade', 'show']))).toBeNull();
    expect(enterClasses(['carousel-item', 'active'], new Set(['carousel-item']))).toBeNull();
  });
});

describe('an inserted element\'s inline fade', () => {
  it('starts from opacity 0 where the style sets opacity 1 and transitions it', () => {
    expect(fadedStart('opacity: 1; transition: opacity 225ms cubic-bezier(0.4, 0, 0.2, 1);')).toBe('opacity: 0; transition: opacity 225ms cubic-bezier(0.4, 0, 0.2, 1);');
    expect(fadedStart('transform: none; opacity: 1; transition: opacity 251ms, transform 167ms;')).toBe('transform: none; opacity: 0; transition: opacity 251ms, transform 167ms;');
    expect(fadedStart('opacity:1.0;transition-property:all')).toBe('opacity: 0;transition-property:all');
  });

  it('changes nothing without both: an opacity of 1 set inline, and a transition of it', () => {
    expect(fadedStart('transition: opacity 0.2s')).toBeNull();
    expect(fadedStart('opacity: 1')).toBeNull();
    expect(fadedStart('opacity: 0.5; transition: opacity 0.2s')).toBeNull();
    expect(fadedStart('opacity: 1; transition: transform 0.2s')).toBeNull();
    expect(fadedStart('opacity: 1; transition: background-color 0.2s, border-color 0.2s')).toBeNull();
  });
});

/** Of row `y` of RGBA pixels `width` wide, the share that is black (a sliding panel). */
function covered(rgba: ArrayLike<number>, width: number, y: number): number {
  let black = 0;
  for (let x = 0; x < width; x++) if (rgba[(y * width + x) * 4]! < 60) black++;
  return black / width;
}

describe('a fade set inline as an element is inserted (Material UI\'s Fade and Grow)', () => {
  /**
   * What react-transition-group does for Material UI's Fade (dialogs, backdrops) and Grow (menus,
   * tooltips, snackbars): the element is inserted at `opacity: 0`, the script reads its layout, then
   * sets an inline `transition` and `opacity: 1`, all in one task. rrweb records the element as
   * inserted at `opacity: 1`, so every replay showed it at once. The fade is slowed to 1.2 s, linear.
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.sheet { position: absolute; left: 0; top: 0; width: 100%; height: 100%; background: rgb(0, 0, 0); }
</style></head><body><button id="open" style="margin: 40px; font-size: 20px">Open</button>
<script>
document.getElementById('open').addEventListener('click', () => {
  const sheet = document.createElement('div');
  sheet.className = 'sheet';
  sheet.style.opacity = '0';
  document.body.appendChild(sheet);
  sheet.getBoundingClientRect();
  sheet.style.transition = 'opacity 1200ms linear';
  sheet.style.opacity = '1';
});
</script></body></html>`;

  it('fades it in as it did live', async () => {
    const pageSite = await startSite({ generated: new Map([['/page.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }]]) });
    try {
      const r = await recordJourney(pageSite.origin, openHalfWay);
      const recorded = parseRecording(Buffer.from(JSON.stringify(r.events))).events;
      const inserted = JSON.stringify(recorded.filter((e) => e.type === 3));
      expect(inserted, 'the recorder saw the element inserted at its end opacity').toContain('opacity: 1; transition: opacity');
      const out = await renderRecording(recorded, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [pageSite.origin] }, { browser });
      const gif = decodeGif(out.gif);
      const k = gif.width / r.viewport.width;
      // A corner the button leaves white: black under the sheet, grey half-way.
      const box = [r.viewport.width - 60, r.viewport.height - 30, 40, 10] as const;
      const mid = r.shots.find((s) => s.label === 'half-way')!;
      const live = level(await sharp(mid.png).ensureAlpha().raw().toBuffer(), r.viewport.width, box);
      const drawn = level(frameAt(gif, mid.ts - recorded[0]!.timestamp).rgba, gif.width, box.map((v) => Math.round(v * k)));
      console.log(`the corner half-way through the fade: live ${live.toFixed(0)}, GIF ${drawn.toFixed(0)} (white 255, the sheet 0)`);
      expect(live, 'the live shot is half-way').toBeGreaterThan(60);
      expect(live).toBeLessThan(200);
      expect(Math.abs(drawn - live)).toBeLessThan(25);
    } finally {
      await pageSite.close();
    }
  });
});

describe("an element Vue's <Transition> shows (v-show): rendered in its enter state first", () => {
  /**
   * Vue 3 (its own build from npm) adds `slide-enter-from slide-enter-active` to the panel, then
   * shows it (its inline `display: none` removed), in one task, with no style update between; a
   * display frame later it swaps `-enter-from` for `-enter-to`, and the panel slides in from the
   * right. The recorder has the class and the style changed in one record. Rendered with its old
   * class first (the order Bootstrap's modal needs), the panel began a transition out to its enter
   * state, which the swap then reversed from where it had got to: Element Plus's drawer was in
   * place at the first frame after the click. The slide is slowed to 1.2 s, linear.
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; overflow: hidden; }
.panel { position: fixed; right: 0; top: 0; width: 50%; height: 100%; background: rgb(0, 0, 0); }
.slide-enter-active { transition: transform 1200ms linear; }
.slide-enter-from { transform: translateX(100%); }
</style><script src="/vue.global.prod.js"></script></head><body>
<div id="app"><button id="open" style="margin: 40px; font-size: 20px" @click="open = true">Filters</button>
<transition name="slide"><div class="panel" v-show="open"></div></transition></div>
<script>Vue.createApp({ data: () => ({ open: false }) }).mount('#app');</script></body></html>`;

  it('slides it in as it did live', async () => {
    const pageSite = await startSite({
      generated: new Map([
        ['/page.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }],
        ['/vue.global.prod.js', { body: readFileSync(require.resolve('vue/dist/vue.global.prod.js')), type: 'text/javascript' }],
      ]),
    });
    try {
      const r = await recordJourney(pageSite.origin, openHalfWay);
      const recorded = parseRecording(Buffer.from(JSON.stringify(r.events))).events;
      expect(JSON.stringify(recorded.filter((e) => e.type === 3)), 'the recorder saw the enter class and the shown style in one record').toMatch(/"style":"","class":"panel slide-enter-from slide-enter-active"|"class":"panel slide-enter-from slide-enter-active","style":""/);
      const out = await renderRecording(recorded, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [pageSite.origin] }, { browser });
      const gif = decodeGif(out.gif);
      const scored = await scoreMoments(out.gif, r.shots, recorded[0]!.timestamp, r.viewport);
      console.log(formatScores("Vue's slide", scored));
      // Of a row across the page, the share the panel covers: 0.5 once in place.
      const mid = r.shots.find((s) => s.label === 'half-way')!;
      const y = Math.round(r.viewport.height * 0.8);
      const live = covered(await sharp(mid.png).ensureAlpha().raw().toBuffer(), r.viewport.width, y);
      const drawn = covered(frameAt(gif, mid.ts - recorded[0]!.timestamp).rgba, gif.width, Math.round((y * gif.width) / r.viewport.width));
      console.log(`the page covered half-way through the slide: live ${live.toFixed(3)}, GIF ${drawn.toFixed(3)} (0.5: in place)`);
      expect(live, 'the live shot is half-way').toBeGreaterThan(0.1);
      expect(live).toBeLessThan(0.4);
      expect(Math.abs(drawn - live)).toBeLessThan(0.06);
      for (const s of scored) expect(s.ssim, s.label).toBeGreaterThanOrEqual(MIN_SSIM);
    } finally {
      await pageSite.close();
    }
  });

  it('knows the enter state by its class names', () => {
    expect(addsStartState(['el-overlay', 'el-drawer-fade-enter-from', 'el-drawer-fade-enter-active'], new Set(['el-overlay']))).toBe(true);
    expect(addsStartState(['menu', 'fade-appear-from', 'fade-appear-active'], new Set(['menu']))).toBe(true);
    // Vue 2's names.
    expect(addsStartState(['panel', 'slide-enter', 'slide-enter-active'], new Set(['panel']))).toBe(true);
    // Bootstrap's modal (shown, then given its end class), the active and end classes, one kept.
    expect(addsStartState(['modal', 'fade', 'show'], new Set(['modal', 'fade']))).toBe(false);
    expect(addsStartState(['panel', 'slide-enter-active', 'slide-enter-to'], new Set(['panel', 'slide-enter-active']))).toBe(false);
    expect(addsStartState(['panel', 'slide-enter-from'], new Set(['panel', 'slide-enter-from']))).toBe(false);
  });
});

describe("react-transition-group's CSSTransition: `-enter`, a read, then `-enter-active`, in one task", () => {
  /**
   * React 18 and react-transition-group 4 (their own builds from npm): two panels slide in over
   * 1.2 s when a button is clicked, one mounted then (`unmountOnExit`: inserted with both classes in
   * one record) and one kept mounted (its class changed to both in one record). The library adds
   * `slide-enter`, reads the layout, then adds `slide-enter-active`, so live each slides from its
   * start; the recorder has the end state only.
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; overflow: hidden; }
.panel { position: fixed; left: 0; width: 100%; height: 40%; background: rgb(0, 0, 0); }
.a { top: 10%; } .b { top: 55%; }
.b.slide-exit-done { transform: translateX(100%); }
.slide-enter { transform: translateX(100%); }
.slide-enter-active { transform: none; transition: transform 1200ms linear; }
</style><script src="/react.js"></script><script src="/react-dom.js"></script><script src="/rtg.js"></script></head><body>
<div id="root"></div>
<script>
const h = React.createElement;
function App() {
  const [open, setOpen] = React.useState(false);
  const a = React.useRef(null);
  const b = React.useRef(null);
  return h('div', null,
    h('button', { id: 'open', style: { fontSize: 16 }, onClick: () => setOpen(true) }, 'Open'),
    h(ReactTransitionGroup.CSSTransition, { in: open, timeout: 1200, classNames: 'slide', unmountOnExit: true, nodeRef: a }, h('div', { className: 'panel a', ref: a })),
    h(ReactTransitionGroup.CSSTransition, { in: open, timeout: 1200, classNames: 'slide', nodeRef: b }, h('div', { className: 'panel b', ref: b })));
}
ReactDOM.createRoot(document.getElementById('root')).render(h(App));
</script></body></html>`;

  it('slides both in as they did live', async () => {
    // React's `exports` leave its UMD builds out: read from its folder (its main file is at the top).
    const umd = (pkg: string, file: string) => ({ body: readFileSync(join(dirname(require.resolve(pkg)), file)), type: 'text/javascript' });
    const pageSite = await startSite({
      generated: new Map([
        ['/page.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }],
        ['/react.js', umd('react', 'umd/react.production.min.js')],
        ['/react-dom.js', umd('react-dom', 'umd/react-dom.production.min.js')],
        ['/rtg.js', umd('react-transition-group/package.json', 'dist/react-transition-group.min.js')],
      ]),
    });
    try {
      const r = await recordJourney(pageSite.origin, openHalfWay);
      const recorded = parseRecording(Buffer.from(JSON.stringify(r.events))).events;
      const records = JSON.stringify(recorded.filter((e) => e.type === 3));
      expect(records, 'the recorder saw the start and the active class in one record').toContain('panel a slide-enter slide-enter-active');
      expect(records).toContain('"class":"panel b slide-enter slide-enter-active"');
      const out = await renderRecording(recorded, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [pageSite.origin] }, { browser });
      const gif = decodeGif(out.gif);
      const scored = await scoreMoments(out.gif, r.shots, recorded[0]!.timestamp, r.viewport);
      console.log(formatScores("react-transition-group's slide", scored));
      // Of a row across a panel, the share it covers: 1 once in place.
      const mid = r.shots.find((s) => s.label === 'half-way')!;
      const livePixels = await sharp(mid.png).ensureAlpha().raw().toBuffer();
      const frame = frameAt(gif, mid.ts - recorded[0]!.timestamp).rgba;
      for (const [name, share] of [['inserted', 0.3], ['kept mounted', 0.75]] as const) {
        const y = Math.round(r.viewport.height * share);
        const live = covered(livePixels, r.viewport.width, y);
        const drawn = covered(frame, gif.width, Math.round((y * gif.width) / r.viewport.width));
        console.log(`the ${name} panel half-way through its slide: live ${live.toFixed(3)}, GIF ${drawn.toFixed(3)} (1: in place)`);
        expect(live, `${name}: the live shot is half-way`).toBeGreaterThan(0.2);
        expect(live).toBeLessThan(0.8);
        expect(Math.abs(drawn - live), name).toBeLessThan(0.12);
      }
      for (const s of scored) expect(s.ssim, s.label).toBeGreaterThanOrEqual(MIN_SSIM);
    } finally {
      await pageSite.close();
    }
  });
});

describe("Material UI's Grow and Drawer, mounted as they open (its own build from npm)", () => {
  /**
   * Material UI (with React 18 and emotion, bundled here by esbuild) mounts a temporary Drawer's
   * paper and a Grow's child as they open: react-transition-group's enter puts the paper off the
   * viewport's edge (Slide) and the child at `opacity: 0; transform: scale(0.75, 0.5625)` (Grow),
   * reads the layout, then sets `transform: none` or `opacity: 1; transform: scale(1, 1)` with an
   * inline transition, in one task. The recorder has each inserted at its end, so every replay drew
   * the drawer in place and the grown box at its full size at once (the fade alone was started from
   * the style, before). The drawer slides over 1.2 s, linear; Grow's scale takes 1.6 s.
   */
  const APP = `import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Button, Drawer, Grow, Paper } from '@mui/material';
const h = React.createElement;
function App() {
  const [open, setOpen] = useState(false);
  return h('div', null,
    h(Button, { id: 'open', variant: 'contained', onClick: () => setOpen(true) }, 'Open'),
    open && h(Grow, { in: true, appear: true, timeout: 2400 }, h(Paper, { id: 'grown', square: true, elevation: 0, sx: { position: 'absolute', left: 40, top: 120, width: 300, height: 400, bgcolor: '#000' } })),
    h(Drawer, { anchor: 'right', open, hideBackdrop: true, transitionDuration: 1200, slotProps: { transition: { easing: 'linear' }, paper: { square: true, elevation: 0, sx: { width: 480, bgcolor: '#000' } } } }));
}
createRoot(document.getElementById('root')).render(h(App));`;
  const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>body { margin: 0; background: #fff; overflow: hidden; }</style></head>
<body><div id="root"></div><script src="/app.js"></script></body></html>`;

  /** Of column `x` of RGBA pixels `width` wide, between rows `from` and `to`, how many are not white. */
  function tall(rgba: ArrayLike<number>, width: number, x: number, from: number, to: number): number {
    let n = 0;
    for (let y = from; y < to; y++) if (rgba[(y * width + x) * 4]! < 245) n++;
    return n;
  }

  it('slides the drawer in and grows the box as they did live', async () => {
    const pageSite = await startSite({
      generated: new Map([
        ['/page.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' }],
        ['/app.js', { body: await bundleApp(APP), type: 'text/javascript' }],
      ]),
    });
    try {
      const r = await recordJourney(pageSite.origin, openHalfWay);
      const recorded = parseRecording(Buffer.from(JSON.stringify(r.events))).events;
      const records = JSON.stringify(recorded.filter((e) => e.type === 3));
      expect(records, 'the recorder saw the paper inserted in place').toMatch(/MuiDrawer-paper[^}]*"style":"[^"]*transform: none; transition: transform 1200ms linear/);
      expect(records, 'the recorder saw the box inserted at its full size').toContain('opacity: 1; transform: scale(1, 1); transition: opacity 2400ms');
      const out = await renderRecording(recorded, { ...DEFAULT_RENDER_OPTIONS, startS: 0, allowOrigins: [pageSite.origin] }, { browser });
      const gif = decodeGif(out.gif);
      const k = gif.width / r.viewport.width;
      const scored = await scoreMoments(out.gif, r.shots, recorded[0]!.timestamp, r.viewport);
      console.log(formatScores("Material UI's drawer and Grow", scored));
      const mid = r.shots.find((s) => s.label === 'half-way')!;
      const livePixels = await sharp(mid.png).ensureAlpha().raw().toBuffer();
      const frame = frameAt(gif, mid.ts - recorded[0]!.timestamp).rgba;
      // Of a row under the box, the share the drawer covers: 0.375 once in place.
      const y = Math.round(r.viewport.height * 0.85);
      const live = covered(livePixels, r.viewport.width, y);
      const drawn = covered(frame, gif.width, Math.round(y * k));
      console.log(`the page covered half-way through the drawer's slide: live ${live.toFixed(3)}, GIF ${drawn.toFixed(3)} (0.375: in place)`);
      expect(live, 'the live shot is half-way').toBeGreaterThan(0.1);
      expect(live).toBeLessThan(0.3);
      expect(Math.abs(drawn - live)).toBeLessThan(0.05);
      // The box's height down its middle: 400 px at its full size, 225 at Grow's start.
      const liveTall = tall(livePixels, r.viewport.width, 190, 60, 600);
      const drawnTall = tall(frame, gif.width, Math.round(190 * k), Math.round(60 * k), Math.round(600 * k)) / k;
      console.log(`the grown box's height half-way: live ${liveTall}, GIF ${drawnTall.toFixed(0)} (400: its full size)`);
      expect(liveTall, 'the live shot is half-way').toBeGreaterThan(260);
      expect(liveTall).toBeLessThan(380);
      expect(Math.abs(drawnTall - liveTall)).toBeLessThan(16);
      for (const s of scored) expect(s.ssim, s.label).toBeGreaterThanOrEqual(MIN_SSIM);
    } finally {
      await pageSite.close();
    }
  });
});

describe("Material UI's start states, from the end states the recorder saw", () => {
  it("scales Grow's child from getScale(0.75) where it is at scale(1, 1) and transitions transform", () => {
    expect(fadedStart('opacity: 1; transform: scale(1, 1); transition: opacity 251ms, transform 167ms;')).toBe('opacity: 0; transform: scale(0.75, 0.5625); transition: opacity 251ms, transform 167ms;');
    // Its fade alone where the transform is not transitioned, or is not Grow's.
    expect(fadedStart('opacity: 1; transform: scale(1, 1); transition: opacity 251ms;')).toBe('opacity: 0; transform: scale(1, 1); transition: opacity 251ms;');
    expect(fadedStart('opacity: 1; transform: scale(1.2); transition: all 0.2s')).toBe('opacity: 0; transform: scale(1.2); transition: all 0.2s');
  });

  it("knows a drawer's paper at rest, and puts it off the edge its box is against", () => {
    const style = 'transform: none; transition: transform 225ms cubic-bezier(0, 0, 0.2, 1);';
    expect(slidIn(['MuiPaper-root', 'MuiDrawer-paper', 'MuiDrawer-paperAnchorRight'], style)).toBe(true);
    expect(slidIn(['MuiPaper-root', 'MuiDrawer-paper'], 'transform: none;')).toBe(false);
    expect(slidIn(['MuiPaper-root', 'MuiPopover-paper'], style)).toBe(false);
    const view = { width: 1280, height: 800 };
    const start = (box: { left: number; top: number; width: number; height: number }) => /transform: ([^;]*)/.exec(slideStart(style, box, view))![1];
    expect(start({ left: 960, top: 0, width: 320, height: 800 })).toBe('translateX(320px)');
    expect(start({ left: 0, top: 0, width: 250.5, height: 800 })).toBe('translateX(-250.5px)');
    expect(start({ left: 0, top: 600, width: 1280, height: 200 })).toBe('translateY(200px)');
    expect(start({ left: 0, top: 0, width: 1280, height: 120 })).toBe('translateY(-120px)');
  });
});

describe('a mutation that adds 200,000 nodes', () => {
  it('is walked for entering elements without overflowing the call stack (a list that long once did)', async () => {
    const script = await bundleForPage({
      contents: `import { ForcedStarts } from './player/forced-starts.ts';
        const rows = Array.from({ length: 200000 }, (_, i) => ({ type: 2, id: i + 10, tagName: 'li', attributes: {}, childNodes: [] }));
        const faded = { type: 2, id: 5, tagName: 'div', attributes: { class: 'modal-backdrop fade show' }, childNodes: [] };
        try {
          const after = new ForcedStarts().before({ adds: [{ parentId: 1, nextId: null, node: { type: 2, id: 2, tagName: 'ul', attributes: {}, childNodes: [...rows, faded] } }] }, { getNode: () => null });
          after?.();
          window.walked = after ? 'staged' : 'nothing';
        } catch (e) {
          window.walked = String(e);
        }`,
      resolveDir: process.cwd(),
    });
    const page = await browser.newPage();
    try {
      await page.addScriptTag({ content: script });
      expect(await page.evaluate('window.walked')).toBe('staged');
    } finally {
      await page.close();
    }
  });
});
