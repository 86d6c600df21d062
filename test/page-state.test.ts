import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { uncheckRecordedBoxes } from '../player/form-state.js';
import { withStateSelectors } from '../player/state-selectors.js';
import { planClip } from '../src/recording/clip.js';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { decodeGif, frameAt } from './support/gif-frames.js';
import { recordJourney, type Journey, type RecordOptions } from './support/recorder.js';
import { startSite, type SiteServer } from './support/site-server.js';

/**
 * What rrweb's recorder and Replayer get wrong about a page's state beyond its DOM, on pages we did
 * not write (the Node.js API docs, mdBook, rustdoc): a checkbox unchecked by a script before the
 * snapshot is rebuilt checked (player/form-state.ts); every element a click focused gets the focus
 * ring the user never saw (player/focus.ts); a label's click passed on to its control moves the
 * hover (src/recording/synthetic-clicks.ts); the element a URL fragment points at is not `:target`
 * (player/target.ts); a popover is recorded without its open state (player/popover.ts); what a
 * scroll brought under a still pointer is hovered live with no event recorded (player/player.ts).
 * Each page paints a crimson block in one state only, so a pixel tells.
 */
const CRIMSON = [220, 20, 60];

let site: SiteServer;
let browser: Browser;
const files = new Map<string, { body: Buffer; type: string }>();

beforeAll(async () => {
  site = await startSite({ generated: files });
  browser = await launchBrowser({}, 'begin-frame', { probe: false });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

async function record(path: string, html: string, journey: Journey, options?: RecordOptions): Promise<RrwebEvent[]> {
  files.set(path, { body: Buffer.from(html), type: 'text/html; charset=utf-8' });
  const rec = await recordJourney(site.origin, journey, options);
  return parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
}

/** Whether the page pixel (x, y) of the frame shown `atS` seconds into the recording is crimson (the GIF rendered from `startS`). */
async function crimsonAt(recording: RrwebEvent[], atS: number[], points: [number, number][], startS = 0): Promise<boolean[][]> {
  const t0 = recording[0]!.timestamp;
  const lengthS = (recording.at(-1)!.timestamp - t0) / 1000;
  const r = await renderRecording(recording, { ...DEFAULT_RENDER_OPTIONS, startS, endS: lengthS, width: 800, allowOrigins: [site.origin] }, { browser });
  const gif = decodeGif(r.gif);
  const scale = gif.width / 1280;
  return atS.map((s) => {
    const shown = frameAt(gif, (s - startS) * 1000);
    return points.map(([x, y]) => {
      const at = (Math.round(y * scale) * gif.width + Math.round(x * scale)) * 4;
      return [...shown.rgba.slice(at, at + 3)].every((v, i) => Math.abs(v - CRIMSON[i]!) <= 24);
    });
  });
}

const secondsOf = (recording: RrwebEvent[], ts: number) => (ts - recording[0]!.timestamp) / 1000;

/** 800 mutation events, one a task: a history after which a window's first frame is built in rrweb's virtual DOM. */
const MUTATION_BURST = `new Promise((done) => { let n = 0; const tick = () => { const i = document.createElement('i'); document.body.appendChild(i); if (++n < 800) setTimeout(tick, 2); else done(); }; tick(); })`;

function expectVirtualDomHistory(recording: RrwebEvent[]): void {
  const mutations = recording.filter((e) => e.type === 3 && (e.data as { source: number }).source === 0).length;
  expect(mutations, 'the history is long enough to be built in the virtual DOM').toBeGreaterThan(500);
}

describe('a checkbox a script unchecked before the recorder\'s snapshot', () => {
  // The Node.js docs' CJS/ESM toggles: checked in the markup, unchecked by the page's script.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.t { position: absolute; left: 10px; top: 10px; }
.when-checked { position: absolute; left: 100px; top: 100px; width: 200px; height: 200px; background: rgb(220, 20, 60); }
.t:not(:checked) ~ .when-checked { display: none; }
</style></head><body><input type="checkbox" class="t" checked><div class="when-checked"></div>
<script>document.querySelector('.t').checked = false;</script></body></html>`;

  it('is recorded with its markup\'s checked attribute, and replayed unchecked', async () => {
    const recording = await record('/toggle.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/toggle.html`);
      await idle(1000);
      await page.mouse.move(600, 500);
      await idle(500);
    });
    // The precondition: rrweb wrote the markup's attribute, a string, where a checked box gets `true`.
    expect(JSON.stringify(recording)).toContain('"type":"checkbox","class":"t","checked":""');
    const shown = await crimsonAt(recording, [1.2], [[200, 200]]);
    expect(shown, 'the block shown only while the box is checked').toEqual([[false]]);
  });

  it('is told from a checked box by the value rrweb wrote (true, not a string), in snapshots and added nodes alike', () => {
    const box = (checked: unknown) => ({ type: 2, tagName: 'input', attributes: { type: 'checkbox', ...(checked === undefined ? {} : { checked }) }, childNodes: [], id: 9 });
    const events = [
      { type: 2, timestamp: 1, data: { node: { type: 0, childNodes: [box(''), box(true), box(undefined), { ...box('checked'), attributes: { type: 'radio', checked: 'checked' } }, { ...box(''), attributes: { type: 'Checkbox', checked: '' } }] } } },
      { type: 3, timestamp: 2, data: { source: 0, adds: [{ parentId: 1, nextId: null, node: box('') }, null], removes: [], texts: [], attributes: [{ id: 9, attributes: { checked: '' } }] } },
    ];
    expect(uncheckRecordedBoxes([events as never])).toBe(3);
    const [snapshot, mutation] = events as unknown as [{ data: { node: { childNodes: { attributes: Record<string, unknown> }[] } } }, { data: { adds: { node: { attributes: Record<string, unknown> } }[]; attributes: { attributes: Record<string, unknown> }[] } }];
    expect(snapshot.data.node.childNodes.map((n) => n.attributes.checked)).toEqual([undefined, true, undefined, undefined, '']);
    expect(mutation.data.adds[0]!.node.attributes.checked).toBeUndefined();
    // An attribute change says what the page set, not the property: left alone.
    expect(mutation.data.attributes[0]!.attributes.checked).toBe('');
  });
});

describe('focus, as the user saw it', () => {
  // A ring of crimson 30 px wide wherever Chromium would draw a focus ring.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
button, input { position: absolute; width: 120px; height: 40px; border: 1px solid #888; background: #fff; outline: none; }
:focus-visible { outline: 30px solid rgb(220, 20, 60); outline-offset: 0; }
#first { left: 100px; top: 100px; } #second { left: 400px; top: 100px; } #field { left: 700px; top: 100px; }
</style></head><body><button id="first">first</button><button id="second">second</button><input id="field"></body></html>`;
  // 15 px outside each control's left edge, at its middle height: inside the ring when there is one.
  const RINGS: [number, number][] = [[85, 120], [385, 120], [685, 120]];

  it('shows the ring where the keyboard focused, not where a click did, and on a clicked text field', async () => {
    const marks: number[] = [];
    const recording = await record('/focus.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/focus.html`);
      await idle(800);
      await page.keyboard.press('Tab');
      marks.push(Date.now());
      await idle(800);
      await page.mouse.move(460, 120, { steps: 4 });
      await page.mouse.click(460, 120);
      marks.push(Date.now());
      await idle(800);
      await page.mouse.move(760, 120, { steps: 4 });
      await page.mouse.click(760, 120);
      marks.push(Date.now());
      await idle(800);
      await page.mouse.move(600, 500);
      await idle(300);
    });
    const rings = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) + 0.5), RINGS);
    expect(rings).toEqual([
      // Tab: the first button, ringed (as rrweb's replay also draws it).
      [true, false, false],
      // Clicked: the second button focused, no ring (rrweb's replay draws one).
      [false, false, false],
      // Clicked: the text field, ringed (Chromium rings a pointer's focus where typing goes).
      [false, false, true],
    ]);
  });
});

describe('focus a script gives to what it has just shown', () => {
  // The Node.js docs' pickers: a click opens the menu and the script focuses its first item (styled
  // by a:focus). rrweb records the focus at once and the mutation that showed the menu after the task,
  // so replayed in order the focus landed on a hidden item and did nothing.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
button { position: absolute; left: 100px; top: 100px; width: 120px; height: 40px; }
.menu { display: none; position: absolute; left: 100px; top: 160px; width: 300px; }
.menu.open { display: block; }
.menu a { display: block; height: 60px; background: #eee; outline: none; }
.menu a:focus { background: rgb(220, 20, 60); }
</style></head><body><button id="opener">menu</button><div class="menu"><a href="#one">one</a><a href="#two">two</a></div>
<script>document.getElementById('opener').addEventListener('click', () => { document.querySelector('.menu').classList.add('open'); document.querySelector('.menu a').focus(); });</script></body></html>`;

  it('lands once the step\'s changes show the item', async () => {
    const marks: number[] = [];
    const recording = await record('/menu.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/menu.html`);
      await idle(600);
      await page.mouse.move(160, 120, { steps: 4 });
      await page.mouse.click(160, 120);
      marks.push(Date.now());
      await idle(800);
      await page.mouse.move(600, 500);
      await idle(300);
    });
    const focusAt = recording.findIndex((e) => e.type === 3 && (e.data as { source: number; type?: number }).source === 2 && (e.data as { type: number }).type === 5);
    const shownAt = recording.findIndex((e) => e.type === 3 && JSON.stringify(e.data).includes('menu open'));
    // The precondition: the focus event comes before the mutation that showed its element.
    expect(focusAt).toBeGreaterThan(0);
    expect(focusAt).toBeLessThan(shownAt);
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) + 0.4), [[250, 190]]);
    expect(shown, 'the first item focused').toEqual([[true]]);
  });
});

describe('focus a script gives to a field it has just added', () => {
  // Swagger UI's authorize dialog (React's autoFocus): the script adds the dialog and focuses its field
  // in one task, before the field has an id in the recording; rrweb records the focus with id -1, and
  // every replay dropped it: the field the user typed into was drawn unfocused
  // (src/recording/unnamed-focus.ts).
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
#opener { position: absolute; left: 100px; top: 100px; width: 120px; height: 40px; }
.dialog { position: absolute; left: 100px; top: 200px; width: 500px; padding: 20px; background: #eee; }
.dialog button { display: block; margin-bottom: 20px; outline: none; }
.dialog input { display: block; width: 300px; height: 40px; border: 6px solid #ccc; outline: none; }
.dialog input:focus { border-color: rgb(220, 20, 60); }
</style></head><body><button id="opener">open</button>
<script>document.getElementById('opener').addEventListener('click', () => {
  const d = document.createElement('div');
  d.className = 'dialog';
  d.innerHTML = '<button>close</button><input type="text">';
  document.body.appendChild(d);
  d.querySelector('input').focus();
});</script></body></html>`;

  it('is given to the one field the change added, as the user saw it', async () => {
    const marks: number[] = [];
    const recording = await record('/autofocus.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/autofocus.html`);
      await idle(600);
      await page.mouse.move(160, 120, { steps: 4 });
      await page.mouse.click(160, 120);
      await idle(700);
      marks.push(Date.now());
      await page.keyboard.type('typed', { delay: 50 });
      await idle(700);
      marks.push(Date.now());
    });
    const focuses = recording.filter((e) => e.type === 3 && (e.data as { source: number }).source === 2 && (e.data as { type: number }).type === 5);
    // The precondition: the recorder could not name the field it focused.
    expect(focuses.map((e) => (e.data as { id: number }).id)).toContain(-1);
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts)), [[123, 290]]);
    expect(shown, 'the field focused before and after typing into it').toEqual([[true], [true]]);
  });
});

describe('a field the page gave the focus on load (autofocus)', () => {
  // A login page's field takes the focus as the page loads (`autofocus`). The replay's frame is
  // sandboxed without scripts, which blocks autofocus, and a recorder that started after the page's
  // first frame (PostHog's script loads asynchronously) saw no focus event: the field showed unfocused.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
input { position: absolute; left: 100px; top: 100px; width: 300px; height: 40px; border: 8px solid #ccc; outline: none; }
input:focus { border-color: rgb(220, 20, 60); }
</style></head><body><input id="login" autofocus></body></html>`;

  it('is focused in the replay as it was live, until the recording moves the focus on', async () => {
    const marks: number[] = [];
    const live: boolean[] = [];
    const mark = async (page: import('playwright-core').Page) => {
      marks.push(Date.now());
      live.push(await page.evaluate(`document.activeElement === document.getElementById('login')`));
    };
    const recording = await record('/autofocus-login.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/autofocus-login.html`);
      await idle(700);
      await mark(page);
      await page.mouse.click(700, 500);
      await idle(700);
      await mark(page);
      await idle(300);
      await page.mouse.move(600, 400, { steps: 3 });
      await idle(300);
    }, { startAfterLoad: true });
    expect(live, 'focused on load, then not after a click elsewhere').toEqual([true, false]);
    const focuses = recording.filter((e) => e.type === 3 && (e.data as { source: number }).source === 2 && (e.data as { type: number }).type === 5);
    // The precondition: the recorder started after the focus (as PostHog's does), so no event says so.
    expect(focuses, 'focus events recorded').toEqual([]);
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts)), [[104, 125]]);
    expect(shown).toEqual([[true], [false]]);
  });
});

describe('text the user selected', () => {
  // rrweb replays selections, but Chromium draws a selection in its active colours (white on blue)
  // only in the focused frame, and in grey elsewhere: the replay's frame was focused only once the
  // recording focused an element in it, so a selection made by a drag showed grey (player/player.ts).
  const PAGE = `<!doctype html><html><head><style>
body { margin: 40px; background: #fff; font: 40px/60px sans-serif; }
</style></head><body><p>Selected by dragging across these words, which the user read again.</p></body></html>`;

  it('is drawn in the active selection colours, as in the user\'s focused window', async () => {
    const marks: number[] = [];
    const recording = await record('/selection.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/selection.html`);
      await idle(600);
      await page.mouse.move(60, 90, { steps: 3 });
      await page.mouse.down();
      await page.mouse.move(900, 150, { steps: 8 });
      await page.mouse.up();
      await idle(800);
      marks.push(Date.now());
      await idle(300);
    });
    expect(recording.some((e) => e.type === 3 && (e.data as { source: number }).source === 14), 'the recording holds the selection').toBe(true);
    const t0 = recording[0]!.timestamp;
    const r = await renderRecording(recording, { ...DEFAULT_RENDER_OPTIONS, startS: 0, endS: (recording.at(-1)!.timestamp - t0) / 1000, width: 800, allowOrigins: [site.origin] }, { browser });
    const gif = decodeGif(r.gif);
    const shown = frameAt(gif, marks[0]! - t0 - 100);
    // The selected lines' band (page y 60-160, x 60-700): Chromium's active selection is blue.
    const scale = gif.width / 1280;
    let blue = 0;
    let all = 0;
    for (let y = Math.round(60 * scale); y < Math.round(160 * scale); y++) {
      for (let x = Math.round(60 * scale); x < Math.round(700 * scale); x++) {
        const i = (y * gif.width + x) * 4;
        const [rr, g, b] = [shown.rgba[i]!, shown.rgba[i + 1]!, shown.rgba[i + 2]!];
        if (b > 150 && rr < 120 && g < 160) blue++;
        all++;
      }
    }
    expect(blue / all, 'the share of the selected band drawn in the active (blue) selection colour').toBeGreaterThan(0.25);
  });
});

describe('form fields the user dealt with (:user-invalid)', () => {
  // A page marks a field as wrong once the user has dealt with it: typed into and left, or a form they
  // tried to send. Chromium tracks that per field; the replay's fields were only ever set by scripts,
  // so the selectors matched nothing (player/user-validity.ts).
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
input { position: absolute; left: 100px; width: 300px; height: 40px; border: 8px solid #ccc; outline: none; font: 20px sans-serif; }
input:user-invalid { border-color: rgb(220, 20, 60); }
#email { top: 100px; } #name { top: 200px; } #free { top: 300px; }
button { position: absolute; left: 100px; top: 400px; width: 120px; height: 40px; }
</style></head><body><form><input id="email" type="email" required><input id="name" required><input id="free"><button>send</button></form></body></html>`;

  it('shows a field typed into as invalid once it lost focus, and every field of a form the user tried to send', async () => {
    const marks: number[] = [];
    const live: boolean[][] = [];
    const mark = async (page: import('playwright-core').Page) => {
      marks.push(Date.now());
      live.push(await page.evaluate(`['email', 'name'].map((id) => document.getElementById(id).matches(':user-invalid'))`));
    };
    const recording = await record('/user-invalid.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/user-invalid.html`);
      await idle(600);
      await page.mouse.click(250, 125);
      await page.keyboard.type('not-an-email', { delay: 40 });
      await idle(500);
      await mark(page);
      await page.mouse.click(250, 325);
      await idle(500);
      await mark(page);
      await page.mouse.click(160, 420);
      await idle(500);
      await mark(page);
      // Events after the last mark: the GIF's last frame stands for the recording's end.
      await idle(300);
      await page.mouse.move(600, 500, { steps: 3 });
      await idle(300);
    });
    // What Chromium showed the user: nothing while typing, the field once left, both after the send.
    expect(live).toEqual([[false, false], [true, false], [true, true]]);
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts)), [[104, 125], [104, 225]]);
    expect(shown, 'the email and name fields marked as the user saw them').toEqual(live);
  });
});

describe('clicks no pointer made', () => {
  /**
   * mdBook's sidebar button: a label in the menu bar for a hidden checkbox elsewhere in the body. The
   * browser passes the label's click on to the checkbox, at the same coordinates, and rrweb records
   * both; a replay that hovers each click's target hovered the checkbox, and the menu bar (which
   * stays in view only while hovered) slid away. A script's `click()` is recorded at (0, 0). Here the
   * zone is crimson while hovered: the pointer rests over it the whole time.
   */
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.zone { position: absolute; left: 100px; top: 100px; width: 400px; height: 200px; background: #eee; }
.zone:hover { background: rgb(220, 20, 60); }
label { display: block; width: 100px; height: 40px; margin: 20px; background: #ccc; }
#toggle { display: none; }
</style></head><body><input type="checkbox" id="toggle"><button id="far" style="position: absolute; left: 800px; top: 600px">far</button>
<div class="zone"><label for="toggle">toggle</label></div></body></html>`;

  it('leave the pointer and its hover where the last real press left them, and draw no ripple', async () => {
    const marks: number[] = [];
    const recording = await record('/label.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/label.html`);
      await idle(600);
      await page.mouse.move(170, 140, { steps: 4 });
      await page.mouse.click(170, 140);
      marks.push(Date.now());
      await idle(800);
      await page.evaluate("document.getElementById('far').click()");
      marks.push(Date.now());
      await idle(800);
      await page.mouse.move(180, 150);
      await idle(300);
    });
    const clicks = recording.filter((e) => e.type === 3 && (e.data as { source: number; type: number }).source === 2 && (e.data as { type: number }).type === 2);
    // The precondition: three clicks recorded, the pointer's, the one passed on and the script's.
    expect(clicks.map((e) => [(e.data as { x: number }).x, (e.data as { y: number }).y])).toEqual([[170, 140], [170, 140], [0, 0]]);
    const lengthS = (recording.at(-1)!.timestamp - recording[0]!.timestamp) / 1000;
    const clip = planClip(recording, { startS: 0, endS: lengthS, fps: 10, playbackSpeed: 1, maxDurationS: 600 });
    expect(clip.clicks.map((c) => [c.x, c.y]), 'ripples').toEqual([[170, 140]]);
    const hovered = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) + 0.4), [[300, 250]]);
    expect(hovered, 'the zone hovered after the label\'s click and after the script\'s').toEqual([[true], [true]]);
  });
});

describe('the element the URL fragment points at (:target)', () => {
  // rustdoc marks the section a link jumped to; a page opened at an address with a fragment too.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
section { height: 300px; margin: 0; background: #eee; border-bottom: 4px solid #fff; }
section:target { background: rgb(220, 20, 60); }
nav { position: fixed; right: 0; top: 0; width: 200px; background: #ccc; }
nav a { display: block; height: 40px; }
</style></head><body><nav><a href="#s2">two</a><a href="#s3">three</a></nav>
<section id="s1">one</section><section id="s2">two</section><section id="s3">three</section><section id="s4">four</section><div style="height: 2000px"></div></body></html>`;

  it('is marked after a click on a link to it, and on a page opened at an address with a fragment', async () => {
    const marks: number[] = [];
    const recording = await record('/sections.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/sections.html#s3`);
      await idle(800);
      marks.push(Date.now());
      await page.mouse.move(1180, 20, { steps: 4 });
      await page.mouse.click(1180, 20);
      await idle(900);
      marks.push(Date.now());
      await page.mouse.move(600, 500);
      await idle(300);
    });
    // Where each section is on screen at each mark, from the recorded scroll: the replay keeps it.
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) - 0.05), [[500, 150], [500, 450]]);
    // Opened at #s3: scrolled to it, s3 at the top (crimson), s4 below. Then #s2 clicked: s2 at the
    // top (crimson), s3 below, no longer the target.
    expect(shown).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  it('is marked when the click, on a link a script added, is in a long history the first frame builds in rrweb\'s virtual DOM (over 500 events)', async () => {
    // The links come from a script after load: in such a history they are in the virtual DOM only.
    const late = PAGE.replace(/<nav>.*<\/nav>/, '').replace('</body>', `<script>setTimeout(() => document.body.insertAdjacentHTML('afterbegin', '<nav><a href="#s2">two</a><a href="#s3">three</a></nav>'), 200);</script></body>`);
    const recording = await record('/late-nav.html', late, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/late-nav.html`);
      await idle(800);
      await page.mouse.move(1180, 20, { steps: 4 });
      await page.mouse.click(1180, 20);
      await idle(300);
      await page.evaluate(MUTATION_BURST);
      await idle(600);
      await page.mouse.move(600, 500);
      await idle(300);
    });
    expectVirtualDomHistory(recording);
    const lengthS = secondsOf(recording, recording.at(-1)!.timestamp);
    const [shown] = await crimsonAt(recording, [lengthS - 0.1], [[500, 150]], lengthS - 0.5);
    expect(shown, 's2, jumped to before the burst, marked in the window\'s first frames').toEqual([true]);
  });

  it('starts an animation the mark starts at the click, as the user\'s browser did (rustdoc fades its mark in)', async () => {
    // rustdoc: `:target { animation: 0.65s ... 0.1s targetfadein }`. Here one second from blue to red.
    const fading = PAGE.replace('section:target { background: rgb(220, 20, 60); }', '@keyframes mark { from { background: rgb(0, 0, 255); } to { background: rgb(255, 0, 0); } }\nsection:target { animation: mark 1s linear both; }');
    const recording = await record('/fading-target.html', fading, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/fading-target.html`);
      await idle(600);
      await page.mouse.move(1180, 20, { steps: 4 });
      await page.mouse.click(1180, 20);
      await idle(1400);
      // An event at the end, so that the recording (and the clip) lasts past the animation.
      await page.mouse.move(600, 500);
      await idle(300);
    });
    const click = recording.find((e) => e.type === 3 && (e.data as { source: number; type?: number }).source === 2 && (e.data as { type?: number }).type === 2)!;
    const clickS = secondsOf(recording, click.timestamp);
    // Slots 80 ms after the click and every 100 ms on: a mark set at the step (the slot's time), not
    // the click's, would show each frame 80 ms of the animation short.
    const startS = clickS - 0.32;
    const lengthS = secondsOf(recording, recording.at(-1)!.timestamp);
    const r = await renderRecording(recording, { ...DEFAULT_RENDER_OPTIONS, startS, endS: lengthS, width: 800, allowOrigins: [site.origin] }, { browser });
    const gif = decodeGif(r.gif);
    const scale = gif.width / 1280;
    const at = (Math.round(150 * scale) * gif.width + Math.round(500 * scale)) * 4;
    for (const ageS of [0.08, 0.18, 0.38, 0.68]) {
      const [red, , blue] = frameAt(gif, (clickS + ageS + 0.02 - startS) * 1000).rgba.slice(at, at + 3);
      const progress = red! / (red! + blue!);
      // Live, the animation starts at the frame after the click: 0-16 ms later.
      expect(progress, `${ageS * 1000} ms after the click`).toBeGreaterThan(ageS - 0.016 - 0.025);
      expect(progress, `${ageS * 1000} ms after the click`).toBeLessThan(ageS + 0.025);
    }
  });

  it('matches the rewritten selectors only where :target stood', () => {
    expect(withStateSelectors('section:target, :target > a, p:not(:target) { x: y }')).toBe(
      'section:is(:target, [data-rr-target]), :is(:target, [data-rr-target]) > a, p:not(:is(:target, [data-rr-target])) { x: y }',
    );
    const untouched = '::target-text { color: red } .a:target-within { } .b { content: ":target" }';
    expect(withStateSelectors(untouched)).toBe('::target-text { color: red } .a:target-within { } .b { content: ":is(:target, [data-rr-target])" }');
  });

  it('matches :user-invalid and :user-valid where a field the user dealt with is invalid or valid', () => {
    expect(withStateSelectors('input:user-invalid, form:has(:user-valid) .ok, :user-validity { x: y }')).toBe(
      'input:is(:user-invalid, [data-rr-user-interacted]:invalid), form:has(:is(:user-valid, [data-rr-user-interacted]:valid)) .ok, :user-validity { x: y }',
    );
  });
});

describe('the top layer: popovers and modal dialogs', () => {
  // rrweb records a popover's attribute but not whether it is shown (rrweb-io/rrweb#1701,
  // PostHog/posthog#31365): every popover was hidden in the replay, menus and pickers alike.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
button { position: absolute; width: 120px; height: 40px; margin: 0; }
#open { left: 100px; top: 100px; } #cmd { left: 100px; top: 200px; } #aria { left: 100px; top: 300px; } #modal { left: 100px; top: 400px; }
[popover] { position: fixed; inset: auto; margin: 0; border: 0; padding: 0; width: 200px; height: 150px; background: rgb(220, 20, 60); }
#menu { left: 400px; top: 100px; } #panel { left: 700px; top: 100px; }
#inner { position: absolute; left: 40px; top: 50px; }
dialog { width: 200px; height: 100px; border: 0; }
dialog::backdrop { background: rgb(220, 20, 60); }
</style></head><body>
<button id="open" popovertarget="menu">menu</button>
<button id="cmd" commandfor="menu" command="show-popover">show</button>
<button id="aria" aria-controls="panel" aria-expanded="false">panel</button>
<button id="modal">modal</button>
<div id="menu" popover><button id="inner">inside</button></div>
<div id="panel" popover="manual"></div>
<dialog id="dlg"><p>modal</p></dialog>
<script>
const aria = document.getElementById('aria');
aria.addEventListener('click', () => {
  const open = aria.getAttribute('aria-expanded') === 'true';
  document.getElementById('panel').togglePopover(!open);
  aria.setAttribute('aria-expanded', String(!open));
});
document.getElementById('modal').addEventListener('click', () => document.getElementById('dlg').showModal());
</script></body></html>`;
  const MENU: [number, number] = [420, 120];
  const PANEL: [number, number] = [720, 120];
  const BACKDROP: [number, number] = [1200, 760];

  it('shows a popover its invoker opened, keeps it through a click inside, hides it on a click outside, and shows what a script opened and said so (aria-expanded); a modal dialog with its backdrop', async () => {
    const marks: number[] = [];
    const live: boolean[][] = [];
    const recording = await record('/popover.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/popover.html`);
      await idle(800);
      const click = async (x: number, y: number) => {
        await page.mouse.move(x, y, { steps: 3 });
        await page.mouse.click(x, y);
        await idle(700);
        marks.push(Date.now());
        live.push(await page.evaluate(`[document.getElementById('menu').matches(':popover-open'), document.getElementById('panel').matches(':popover-open'), document.getElementById('dlg').matches(':modal')]`));
      };
      await click(160, 120); // #open: the menu
      await click(480, 190); // #inner, inside the menu: still open
      await click(1000, 600); // outside: light dismiss
      await click(160, 120); // #open: shown again
      await click(160, 120); // #open again: toggled off
      await click(160, 220); // #cmd, command=show-popover: shown
      await click(160, 320); // #aria: its script shows the panel and says so; the click also light-dismisses the menu
      await click(160, 320); // #aria again: hidden
      await click(160, 420); // #modal: showModal
      await page.mouse.move(600, 500);
      await idle(300);
    });
    // What Chromium showed live: menu, panel, modal.
    expect(live).toEqual([
      [true, false, false],
      [true, false, false],
      [false, false, false],
      [true, false, false],
      [false, false, false],
      [true, false, false],
      [false, true, false],
      [false, false, false],
      [false, false, true],
    ]);
    // The replay shows each as live; the modal's backdrop covers the page, every point crimson.
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) - 0.1), [MENU, PANEL, BACKDROP]);
    expect(shown).toEqual([...live.slice(0, -1), [true, true, true]]);
  });

  it('shows a popover open at the snapshot (its controller said so), and one its invoker opened early in a long history built in rrweb\'s virtual DOM, anchored to that invoker', async () => {
    const page = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
#a { position: absolute; left: 300px; top: 300px; width: 120px; height: 40px; margin: 0; }
#tip { position-area: bottom; margin: 0; border: 0; padding: 0; width: 100px; height: 100px; background: rgb(220, 20, 60); }
#panel { position: fixed; inset: auto; left: 700px; top: 100px; margin: 0; border: 0; width: 200px; height: 150px; background: rgb(220, 20, 60); }
</style></head><body><button id="a" popovertarget="tip">tip</button><div id="tip" popover></div>
<button id="ctl" aria-controls="panel" aria-expanded="false">panel</button><div id="panel" popover="manual"></div>
<script>document.getElementById('panel').showPopover(); document.getElementById('ctl').setAttribute('aria-expanded', 'true');</script></body></html>`;
    let clicked = 0;
    const recording = await record('/popover-late.html', page, async ({ page: p, origin, idle }) => {
      await p.goto(`${origin}/popover-late.html`);
      await idle(800);
      await p.mouse.move(360, 320, { steps: 3 });
      await p.mouse.click(360, 320);
      clicked = Date.now();
      await idle(300);
      await p.evaluate(MUTATION_BURST);
      await idle(600);
      await p.mouse.move(600, 700);
      await idle(300);
    });
    expectVirtualDomHistory(recording);
    const lengthS = secondsOf(recording, recording.at(-1)!.timestamp);
    // The tip sits under its invoker (CSS anchor positioning's implicit anchor); shown without one,
    // it would be in the middle of the window.
    const TIP: [number, number] = [360, 390];
    const PANEL: [number, number] = [720, 120];
    const [before] = await crimsonAt(recording, [secondsOf(recording, clicked) - 0.3], [TIP, PANEL]);
    expect(before, 'the panel shown at the snapshot, the tip not yet').toEqual([false, true]);
    const [late] = await crimsonAt(recording, [lengthS - 0.1], [TIP, PANEL], lengthS - 0.5);
    expect(late, 'both shown in the window\'s first frames, after the burst').toEqual([true, true]);
  });
});

describe('where the pointer came to rest', () => {
  // rrweb's recorder drops a pointer move within its sampling interval of the last one recorded, and
  // nothing brings it back: the moves that bring a pointer to a stop are the ones lost, and the
  // replay kept the pointer and its hover where it had been passing (src/recording/pointer-rest.ts).
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
.zone { position: absolute; top: 100px; width: 300px; height: 200px; background: #eee; }
.zone:hover { background: rgb(220, 20, 60); }
</style></head><body><div class="zone" style="left: 100px"></div><div class="zone" style="left: 700px"></div></body></html>`;

  it('is where the press after the pause was, from the end of the sampling interval after the last move', async () => {
    let rested = 0;
    // A coarse sampling interval (250 ms) makes which moves are lost certain: all but the first of a quick move.
    const recording = await record(
      '/rest.html',
      PAGE,
      async ({ page, origin, idle }) => {
        await page.goto(`${origin}/rest.html`);
        await idle(600);
        await page.mouse.move(250, 200);
        await idle(400);
        // From the left zone to the right one: the first step (350, 200) is recorded, the rest lost.
        await page.mouse.move(850, 200, { steps: 6 });
        await idle(900);
        rested = Date.now();
        // Pressed where it stopped, with no move first (a person's press).
        await page.mouse.down();
        await page.mouse.up();
        await idle(500);
      },
      { pointerSamplingMs: 250 },
    );
    const pointer = recording.filter((e) => e.type === 3 && [1, 2].includes((e.data as { source: number }).source));
    const lastMove = pointer.filter((e) => e.timestamp < rested && (e.data as { source: number }).source === 1).at(-1)!;
    const positions = (lastMove.data as { positions: { x: number; timeOffset: number }[] }).positions;
    // The precondition: the recording has the pointer over the left zone until the press.
    expect(positions.at(-1)!.x, 'the last recorded position before the press').toBeLessThan(400);
    const shown = await crimsonAt(recording, [secondsOf(recording, rested) - 0.1], [[250, 150], [760, 150]]);
    expect(shown, 'the right zone hovered while the pointer rested over it, the left one not').toEqual([[false, true]]);
  });
});

describe('an element under the pointer, to the selectors of its class attribute', () => {
  // rrweb's replay marked hovered elements with a class: a table under the pointer no longer matched
  // `table:not([class])` (how Material for MkDocs styles its tables), and kept `class=""` after, so
  // every table the pointer had passed over was drawn unstyled to the end (SSIM 0.56 on such a site).
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
table { width: 600px; border-collapse: collapse; margin: 50px 0 0 0; }
td { height: 120px; padding: 0; }
table:not([class]) { background: rgb(220, 20, 60); }
tr:hover td { border-left: 4px solid #000; }
</style></head><body><table><tr><td>one</td></tr></table><table><tr><td>two</td></tr></table></body></html>`;

  it('keeps matching them while hovered and after', async () => {
    const marks: number[] = [];
    const live: boolean[][] = [];
    const recording = await record('/tables.html', PAGE, async ({ page, origin, idle }) => {
      const mark = async () => {
        marks.push(Date.now());
        live.push(await page.evaluate<boolean[]>(`[...document.querySelectorAll('table')].map((t) => t.matches(':not([class])'))`));
      };
      await page.goto(`${origin}/tables.html`);
      await idle(600);
      await page.mouse.move(300, 110, { steps: 3 });
      await idle(500);
      await mark();
      await page.mouse.move(300, 280, { steps: 3 });
      await idle(500);
      await mark();
      await page.mouse.move(1000, 700, { steps: 3 });
      await idle(500);
      await mark();
      await idle(300);
    });
    expect(live).toEqual([[true, true], [true, true], [true, true]]);
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) - 0.05), [[100, 110], [100, 280]]);
    expect(shown, 'both tables styled: one hovered, the other, then neither').toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
  });
});

describe('hover under a pointer that did not move', () => {
  // Chromium hovers what a scroll or a layout change brought under a still pointer (at the next
  // frame), with no event rrweb records: the replay kept hovering what had moved away.
  const PAGE = `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
html, body { overflow-anchor: none; }
.row { height: 50px; border-bottom: 1px solid #ddd; box-sizing: border-box; }
.row:hover { background: rgb(220, 20, 60); }
</style></head><body>${Array.from({ length: 60 }, (_, i) => `<div class="row">row ${i}</div>`).join('')}
<script>(function frame() { requestAnimationFrame(frame); })();</script></body></html>`;
  // The page asks for frames: Chromium hovers anew at a frame after the one that laid a change out,
  // and headless Chromium draws none on a page that does not ask for one.

  it('follows what a wheel scroll and a row added above brought under the pointer', async () => {
    const marks: number[] = [];
    const live: string[] = [];
    let still = 0;
    const recording = await record('/rows.html', PAGE, async ({ page, origin, idle }) => {
      const mark = async () => {
        marks.push(Date.now());
        live.push(await page.evaluate(`[...document.querySelectorAll('.row:hover')].map((e) => e.textContent).join()`));
      };
      await page.goto(`${origin}/rows.html`);
      await idle(800);
      await page.mouse.move(400, 125, { steps: 3 });
      await idle(500);
      await mark();
      still = Date.now();
      await page.mouse.wheel(0, 50);
      await idle(800);
      await mark();
      await page.mouse.wheel(0, 400);
      await idle(800);
      await mark();
      await page.evaluate(`document.body.insertAdjacentHTML('afterbegin', '<div class="row">new</div>')`);
      await idle(800);
      await mark();
      // The recording goes on past the last mark, by more than a frame: the GIF's last frame stands
      // for the recording's end (the pointer moved away), and a mark in it would see that.
      await idle(300);
      await page.mouse.move(900, 700);
      await idle(300);
    });
    expect(live, 'what Chromium hovered').toEqual(['row 2', 'row 3', 'row 11', 'row 10']);
    const moves = recording.filter((e) => e.timestamp > still && e.timestamp < marks.at(-1)! && e.type === 3 && (e.data as { source: number }).source === 1);
    expect(moves, 'no pointer event after the pointer stopped').toEqual([]);
    // Left of the pointer (Node draws it over its own position): the row under it, and the one above.
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) - 0.05), [[300, 125], [300, 75]]);
    expect(shown).toEqual([
      [true, false],
      [true, false],
      [true, false],
      [true, false],
    ]);
  });

  it('hovers nothing in a page a link opened until the pointer moves, as the browser knows no pointer in a new document', async () => {
    const marks: number[] = [];
    const live: string[] = [];
    files.set('/rows.html', { body: Buffer.from(PAGE), type: 'text/html; charset=utf-8' });
    const recording = await record('/rows-a.html', `<!doctype html><html><body style="margin: 0"><a href="/rows.html" style="position: absolute; left: 350px; top: 110px">next</a></body></html>`, async ({ page, origin, idle }) => {
      const mark = async () => {
        marks.push(Date.now());
        live.push(await page.evaluate(`[...document.querySelectorAll('.row:hover')].map((e) => e.textContent).join()`));
      };
      await page.goto(`${origin}/rows-a.html`);
      await idle(800);
      await page.mouse.move(360, 120, { steps: 3 });
      await page.mouse.click(360, 120);
      await page.waitForURL('**/rows.html');
      await idle(1000);
      await mark();
      await page.mouse.move(400, 125, { steps: 2 });
      await idle(800);
      await mark();
    });
    expect(live, 'what Chromium hovered').toEqual(['', 'row 2']);
    // Well before each mark: the pointer's next move starts right after it.
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts) - 0.3), [[300, 125]]);
    expect(shown).toEqual([[false], [true]]);
  });
});

describe('custom elements the page defined (`:defined`)', () => {
  // Web component libraries tell their users to hide an element until its definition loads
  // (`:not(:defined) { visibility: hidden }`: Shoelace, Web Awesome, Lit), and the replay's frame
  // runs no scripts, so no element of such a page was ever defined there: every control was missing
  // from the replay (player/custom-elements.ts). Here `x-panel` is crimson once defined, `x-never`
  // (crimson too) is never defined and must stay hidden, as it was live.
  const PAGE = (defineAfterMs: number) => `<!doctype html><html><head><style>
body { margin: 0; background: #fff; }
:not(:defined) { visibility: hidden; }
x-panel, x-never { position: absolute; top: 100px; width: 200px; height: 150px; background: rgb(220, 20, 60); }
x-panel { left: 100px; }
x-never { left: 500px; }
</style></head><body><x-panel></x-panel><x-never></x-never><script>
const define = () => customElements.define('x-panel', class extends HTMLElement {
  constructor() { super(); this.attachShadow({ mode: 'open' }).innerHTML = '<slot></slot>'; }
});
${defineAfterMs > 0 ? `setTimeout(define, ${defineAfterMs})` : 'define()'};
</script></body></html>`;

  it('shows an element once the page defined it, and not before, as live', async () => {
    const marks: number[] = [];
    const live: string[] = [];
    const mark = async (page: import('playwright-core').Page) => {
      marks.push(Date.now());
      live.push(await page.evaluate(`[...document.querySelectorAll(':defined')].filter((e) => e.localName.startsWith('x-')).map((e) => e.localName).join()`));
    };
    const recording = await record('/defined-late.html', PAGE(1500), async ({ page, origin, idle }) => {
      await page.goto(`${origin}/defined-late.html`);
      await idle(600);
      await mark(page);
      await page.waitForFunction(`customElements.get('x-panel') !== undefined`);
      await idle(700);
      await mark(page);
      await idle(300);
      await page.mouse.move(600, 400, { steps: 3 });
      await idle(300);
    });
    expect(live, 'what was defined live').toEqual(['', 'x-panel']);
    const defines = recording.filter((e) => e.type === 3 && (e.data as { source: number }).source === 16);
    expect(defines.map((e) => (e.data as { define?: { name?: string } }).define?.name), "the recorder's definition events").toEqual(['x-panel']);
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts)), [[200, 175], [600, 175]]);
    expect(shown).toEqual([
      [false, false],
      [true, false],
    ]);
  });

  it('shows an element defined before the recorder started (PostHog starts after the load)', async () => {
    const marks: number[] = [];
    const recording = await record('/defined-early.html', PAGE(0), async ({ page, origin, idle }) => {
      await page.goto(`${origin}/defined-early.html`);
      await idle(800);
      marks.push(Date.now());
      await idle(300);
      await page.mouse.move(600, 400, { steps: 3 });
      await idle(300);
    }, { startAfterLoad: true });
    const defines = recording.filter((e) => e.type === 3 && (e.data as { source: number }).source === 16);
    // The precondition: no event says the element was defined, only its snapshot does (rrweb's
    // `isCustom`, which rrweb's rebuild defines in the frame itself: the path this guards).
    expect(defines, 'definition events recorded').toEqual([]);
    expect(JSON.stringify(recording[1] ?? recording), 'the snapshot marks the defined element').toContain('"isCustom":true');
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts)), [[200, 175], [600, 175]]);
    expect(shown).toEqual([[true, false]]);
  });
});

describe('transitions inside shadow roots', () => {
  // Web components keep their whole look in shadow trees (a field's focus ring, a switch's slide),
  // and `document.getAnimations()` leaves out every animation there: the player neither placed such
  // a transition at its event's time nor knew it moved, so no frame was drawn while it ran
  // (player/shadow-roots.ts). A crimson block in a shadow root slides 600 px in 2 s, linearly.
  const PAGE = `<!doctype html><html><head><style>body { margin: 0; background: #fff; }</style></head><body><x-slider></x-slider><script>
customElements.define('x-slider', class extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: 'open' }).innerHTML = '<style>.b { position: absolute; left: 100px; top: 100px; width: 60px; height: 100px; background: rgb(220, 20, 60); transition: transform 2s linear; } .b.go { transform: translateX(600px); }</style><div class="b"></div>';
  }
});
</script></body></html>`;

  it('plays from where it was at the clip start, and every frame while it runs', async () => {
    const recording = await record('/shadow-slide.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/shadow-slide.html`);
      await idle(800);
      await page.evaluate(`document.querySelector('x-slider').shadowRoot.querySelector('.b').classList.add('go')`);
      await idle(3000);
      await page.mouse.move(600, 400, { steps: 3 });
      await idle(300);
    });
    const slide = recording.find((e) => e.type === 3 && JSON.stringify(e.data).includes('"class":"b go"'));
    expect(slide, 'the class change in the shadow root is recorded').toBeDefined();
    const t = secondsOf(recording, slide!.timestamp);
    // The clip starts half way into the first quarter; 0.5 s later the block is half way (x 400-460), at the end at 700-760.
    const shown = await crimsonAt(recording, [t + 1.0, t + 2.6], [[130, 150], [430, 150], [730, 150]], t + 0.5);
    expect(shown).toEqual([
      [false, true, false],
      [false, false, true],
    ]);
  });
});

describe('hover in web components and in rules a script inserted', () => {
  // rrweb rewrites `:hover` in the stylesheets a page is built with, but not in the constructed
  // stylesheets shadow roots adopt (every web component's styles) nor in rules inserted later (how
  // CSS-in-JS libraries add theirs), and its hover stops at a shadow root: a component's hover never
  // showed (player/state-selectors.ts, player/player.ts). `x-button` is a component whose button
  // part turns crimson when hovered, from an adopted sheet, with its label slotted; the page marks
  // the component itself hovered below it (the host is hovered too, as live), and changes 200 ms
  // after the pointer came in (the player then hit-tests the pointer again: over the label, the
  // component's root gives its host back); `.late` gets a crimson hover from a rule inserted after
  // the recorder's snapshot.
  const PAGE = `<!doctype html><html><head><style>body { margin: 0; background: #fff; font: 40px sans-serif; }
.late { position: absolute; left: 600px; top: 100px; width: 200px; height: 150px; background: #eee; }
.host-mark { position: absolute; left: 100px; top: 300px; width: 200px; height: 100px; background: #eee; }
x-button:hover ~ .host-mark { background: rgb(220, 20, 60); }
</style><style id="js"></style></head><body><x-button>Label</x-button><div class="late"></div><div class="host-mark"></div><script>
const sheet = new CSSStyleSheet();
sheet.replaceSync('button { position: absolute; left: 100px; top: 100px; width: 300px; height: 150px; border: 0; background: #ddd; font: inherit; } button:hover { background: rgb(220, 20, 60); }');
customElements.define('x-button', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [sheet];
    root.innerHTML = '<button part="base"><slot></slot></button>';
  }
});
document.querySelector('x-button').addEventListener('mouseenter', () => setTimeout(() => document.body.setAttribute('data-seen', ''), 200));
setTimeout(() => document.getElementById('js').sheet.insertRule('.late:hover { background: rgb(220, 20, 60); }'), 300);
</script></body></html>`;

  it('shows a component part hovered under its slotted label, and a hover rule inserted after the snapshot', async () => {
    const marks: number[] = [];
    const live: string[] = [];
    const mark = async (page: import('playwright-core').Page) => {
      marks.push(Date.now());
      live.push(await page.evaluate(`[getComputedStyle(document.querySelector('x-button').shadowRoot.querySelector('button')).backgroundColor, getComputedStyle(document.querySelector('.late')).backgroundColor].join(' ')`));
    };
    const recording = await record('/component-hover.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/component-hover.html`);
      await idle(800);
      const label = await page.evaluate(`(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector('x-button')); const b = r.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`) as [number, number];
      // Each motion ends with a move past rrweb's sampling interval, which keeps it (a pointer that
      // stops is otherwise recorded short of where it stopped).
      await page.mouse.move(label[0] - 10, label[1], { steps: 4 });
      await idle(60);
      await page.mouse.move(label[0], label[1]);
      await idle(700);
      await mark(page);
      await page.mouse.move(690, 175, { steps: 4 });
      await idle(60);
      await page.mouse.move(700, 175);
      await idle(700);
      await mark(page);
      await idle(300);
      await page.mouse.move(500, 500, { steps: 3 });
      await idle(300);
    });
    expect(live, 'what Chromium showed hovered').toEqual(['rgb(220, 20, 60) rgb(238, 238, 238)', 'rgb(221, 221, 221) rgb(220, 20, 60)']);
    // Away from the label's text and the pointer.
    const shown = await crimsonAt(recording, marks.map((ts) => secondsOf(recording, ts)), [[120, 120], [620, 120], [120, 320]]);
    expect(shown).toEqual([
      [true, false, true],
      [false, true, false],
    ]);
  });
});

describe('what the pointer is held down on (:active)', () => {
  // A pressed button darkens or shrinks while the pointer is held on it (`:active`), and so does
  // everything around it in the flat tree; no pointer is ever pressed in the replay, and rrweb does
  // not emulate it as it does `:hover`, so a press showed nothing (player/press.ts). The button
  // turns crimson pressed, from a style element; `x-press` is a component whose inner part does,
  // from an adopted sheet, and marks its host pressed below it; the label's control marks a block pressed and another hovered.
  const PAGE = `<!doctype html><html><head><style>body { margin: 0; background: #fff; font: 30px sans-serif; }
#plain { position: absolute; left: 100px; top: 100px; width: 300px; height: 150px; border: 0; background: #ddd; font: inherit; }
#plain:active { background: rgb(220, 20, 60); }
.host-mark { position: absolute; left: 600px; top: 300px; width: 200px; height: 100px; background: #eee; }
x-press:active ~ .host-mark { background: rgb(220, 20, 60); }
label { position: absolute; left: 100px; top: 500px; width: 300px; height: 100px; background: #eee; }
#box { position: absolute; left: 900px; top: 500px; }
.box-mark { position: absolute; left: 600px; top: 500px; width: 200px; height: 100px; background: #eee; }
#box:active ~ .box-mark { background: rgb(220, 20, 60); }
.hover-mark { position: absolute; left: 600px; top: 650px; width: 200px; height: 100px; background: #eee; }
#box:hover ~ .hover-mark { background: rgb(220, 20, 60); }
</style></head><body><button id="plain">Press</button><x-press></x-press><div class="host-mark"></div>
<label for="box">Label</label><input id="box" type="checkbox"><div class="box-mark"></div><div class="hover-mark"></div><script>
const sheet = new CSSStyleSheet();
sheet.replaceSync('div { position: absolute; left: 600px; top: 100px; width: 300px; height: 150px; background: #ddd; } div:active { background: rgb(220, 20, 60); }');
customElements.define('x-press', class extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [sheet];
    root.innerHTML = '<div>part</div>';
  }
});
</script></body></html>`;
  const STATE = `['#plain', '.host-mark', '.box-mark', '.hover-mark'].map((s) => getComputedStyle(document.querySelector(s)).backgroundColor === 'rgb(220, 20, 60)').concat(getComputedStyle(document.querySelector('x-press').shadowRoot.querySelector('div')).backgroundColor === 'rgb(220, 20, 60)')`;
  // Away from the text.
  const POINTS: [number, number][] = [[120, 220], [620, 320], [620, 520], [620, 670], [850, 220]];

  it('shows a press held on a button, in a web component and on a label, until the release; and from the clip start when the press began before it', async () => {
    const marks: number[] = [];
    const live: boolean[][] = [];
    const mark = async (page: import('playwright-core').Page) => {
      marks.push(Date.now());
      live.push(await page.evaluate(STATE) as boolean[]);
    };
    const hold = async (page: import('playwright-core').Page, idle: (ms: number) => Promise<void>, x: number, y: number) => {
      await page.mouse.move(x - 10, y, { steps: 3 });
      await idle(60);
      await page.mouse.move(x, y);
      await idle(300);
      await page.mouse.down();
      await idle(700);
      await mark(page);
      await page.mouse.up();
      await idle(500);
      await mark(page);
    };
    let pressedAt = 0;
    const recording = await record('/press.html', PAGE, async ({ page, origin, idle }) => {
      await page.goto(`${origin}/press.html`);
      await idle(800);
      await page.evaluate(MUTATION_BURST);
      await hold(page, idle, 250, 175);
      pressedAt = Date.now();
      await hold(page, idle, 750, 175);
      await hold(page, idle, 250, 550);
      await idle(300);
      await page.mouse.move(1000, 700, { steps: 3 });
      await idle(300);
    });
    expect(live, 'what Chromium showed pressed').toEqual([
      [true, false, false, false, false], [false, false, false, false, false],
      [false, true, false, false, true], [false, false, false, false, false],
      // The label's control is pressed and hovered with it.
      [false, false, true, true, false], [false, false, false, true, false],
    ]);
    const at = marks.map((ts) => secondsOf(recording, ts));
    expect(await crimsonAt(recording, at, POINTS)).toEqual(live);
    // The clip starts while the component is held: its first frame is built from the history, in
    // rrweb's virtual DOM (which drops the mark where it is set as the press is cast).
    expectVirtualDomHistory(recording);
    const from = secondsOf(recording, pressedAt) + 0.9;
    expect(await crimsonAt(recording, at.slice(2, 4), POINTS, from)).toEqual(live.slice(2, 4));
  });

  it('matches the rewritten selectors only where :active stood, not after a pseudo-element', () => {
    expect(withStateSelectors('a:active, :active > b, p:not(:active) { x: y } ::-webkit-scrollbar-thumb:active { } .c:active::before { }')).toBe(
      'a:is(:active, [data-rr-active]), :is(:active, [data-rr-active]) > b, p:not(:is(:active, [data-rr-active])) { x: y } ::-webkit-scrollbar-thumb:active { } .c:is(:active, [data-rr-active])::before { }',
    );
    expect(withStateSelectors('.a:active-thing { } .b\\:active { }')).toBe('.a:active-thing { } .b\\:active { }');
  });
});
