import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../src/recording/parse.js';
import type { RrwebEvent } from '../src/recording/types.js';
import { launchBrowser } from '../src/render/browser.js';
import { playerAssets } from '../src/render/player-bundle.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { quiet, startCanary, type CanaryServer } from './support/canary-server.js';
import { injectVectorsAsMutation, injectVectorsIntoSnapshot, launchRecorderBrowser, recordPage } from './support/hostile-recordings.js';
import { legitimateVectors, scriptPayload, scriptVectors, vectorPage, type Vector } from './support/hostile-vectors.js';
import {
  builders,
  findElement,
  firstSnapshotTs,
  fullSnapshots,
  Ids,
  injectIntoSnapshots,
  mutationAdding,
  mutationSettingAttributes,
  setSnapshotAttributes,
  snapshotRoot,
  withEvents,
  type RawEvent,
} from './support/rrweb-inject.js';

/**
 * Nothing from a recording may run. Script vectors (script elements, event handler attributes,
 * javascript: URLs, srcdoc and data: documents, SVG scripts, meta refresh, CSS tricks) are put
 * into real recordings three ways (recorded live, injected into the full snapshot, added by
 * mutations, plus attribute mutations on existing nodes). A script that ran would ping
 * /script-ran on the allow-listed origin (with an <img>, fetch and sendBeacon) and would try to
 * reach the player page (`top.__rr`). The control replays the same files with the one difference
 * that makes them dangerous, `allow-scripts` on the replay iframe, and the pings do arrive.
 */

/**
 * Vectors that do run once the replay iframe allows scripts (the control), by channel. Not
 * `input-onfocus` (an `autofocus` field's handler): the player gives its frame the focus at each
 * step (a selection is drawn in its active colours only in the focused frame), and Chromium's
 * autofocus gives a field nothing while anything has the focus, that frame included; it may still
 * run in the control, and is still in every file the replay must not run. (Without allow-scripts
 * the sandbox blocks autofocus anyway.)
 */
const RUN_WHEN_ALLOWED: Record<Channel, string[]> = {
  recorded: ['img-onerror', 'details-ontoggle', 'svg-foreign-script', 'animation-event', 'video-onerror', 'iframe-srcdoc', 'object-html'],
  snapshot: [
    'img-onerror', 'details-ontoggle', 'svg-foreign-script', 'animation-event', 'video-onerror', 'iframe-srcdoc', 'object-html',
    'iframe-javascript-src', 'iframe-data-url', 'external-js', 'framed-html', 'script-uppercase',
  ],
  mutation: [
    'img-onerror', 'details-ontoggle', 'svg-foreign-script', 'animation-event', 'video-onerror', 'object-html',
    'iframe-javascript-src', 'iframe-data-url', 'external-js', 'framed-html', 'script-uppercase', 'img-onerror-attr',
  ],
};
type Channel = 'recorded' | 'snapshot' | 'mutation';

let allowed: CanaryServer;
let browser: Browser;
let recordings: Record<Channel, RrwebEvent[]>;
const ran = (id: string) => `${allowed.origin}/script-ran?case=${id}`;
const parse = (events: RawEvent[]) => parseRecording(Buffer.from(JSON.stringify(events))).events;

/** Which cases pinged, and which of those reached the player page through `top`. */
function pings() {
  const hits = allowed.hits('/script-ran');
  const cases = [...new Set(hits.map((h) => new URL(h.path, 'http://x').searchParams.get('case') ?? '?'))].sort();
  const viaTop = hits.filter((h) => h.path.includes('via=top'));
  return { hits, cases, viaTop };
}

/**
 * Script vectors a recorder would never write: an upper-case SCRIPT tag (rrweb maps only
 * "script" to <noscript> on replay; createElement('SCRIPT') makes a real script element), a
 * script with a src, and on* attributes set on existing nodes by attribute mutations.
 */
function handMadeExtras(ids: Ids) {
  const b = builders(ids);
  return [
    b.el('SCRIPT', {}, [b.text(scriptPayload(ran, 'script-uppercase'))]),
    b.el('Script', { src: `${allowed.origin}/hostile/script-uppercase.js` }),
  ];
}

beforeAll(async () => {
  allowed = await startCanary();
  const vectors: Vector[] = scriptVectors(ran, allowed.origin);
  allowed.pages.set('/scripts.html', vectorPage('scripts', [...vectors, ...legitimateVectors(allowed.origin)]));
  allowed.pages.set('/plain.html', vectorPage('plain', legitimateVectors(allowed.origin)));
  const recorder = await launchRecorderBrowser();
  let live: RawEvent[];
  let base: RawEvent[];
  try {
    live = await recordPage(allowed.origin, '/scripts.html', recorder);
    base = await recordPage(allowed.origin, '/plain.html', recorder);
  } finally {
    await recorder.close();
  }
  // The live page did run its scripts while it was recorded (proof the payloads work); only the replay counts.
  expect(pings().cases.length).toBeGreaterThan(10);
  allowed.reset();

  const payload = (id: string) => scriptPayload(ran, id);
  let snapshot = injectVectorsIntoSnapshot(base, vectors);
  snapshot = injectIntoSnapshots(snapshot, 'body', handMadeExtras);
  snapshot = setSnapshotAttributes(snapshot, 'body', { onload: payload('body-onload'), onpageshow: payload('body-onpageshow') });
  snapshot = setSnapshotAttributes(snapshot, 'html', { onload: payload('html-onload') });

  let mutation = injectVectorsAsMutation(base, vectors);
  const root = snapshotRoot(fullSnapshots(base)[0]!);
  const body = findElement(root, 'body')!;
  const img = findElement(root, 'img')!;
  const at = firstSnapshotTs(base) + 310;
  const ids = new Ids(mutation);
  mutation = withEvents(
    mutation,
    mutationAdding(base, at, 'body', handMadeExtras(ids)),
    mutationSettingAttributes(at + 1, [
      { id: body.id, attributes: { onload: payload('body-onload-attr'), onpageshow: payload('body-onpageshow-attr') } },
      { id: img.id, attributes: { onerror: payload('img-onerror-attr'), src: 'data:,broken' } },
    ]),
  );
  recordings = { recorded: parse(live), snapshot: parse(snapshot), mutation: parse(mutation) };
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await allowed?.close();
});

async function render(events: RrwebEvent[]) {
  const r = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 0, width: 400, allowOrigins: [allowed.origin] }, { browser });
  // A script ping the page started late may still be in flight through the proxy: wait until it lands.
  await quiet([allowed]);
  return r;
}

describe('hostile recordings: scripts never run in the replay', () => {
  it('control: with allow-scripts on the replay iframe, the same files do run scripts and reach the player page', async () => {
    const assets = await playerAssets();
    const safe = assets.js;
    // rrweb builds the iframe's sandbox list from this literal; adding allow-scripts is exactly
    // what its UNSAFE_replayCanvas option does.
    const unsafe = safe.replace('["allow-same-origin"]', '["allow-same-origin","allow-scripts"]');
    expect(unsafe).not.toBe(safe);
    const seen: Record<string, string[]> = {};
    let reachedPlayer = 0;
    try {
      assets.js = unsafe;
      for (const channel of ['recorded', 'snapshot', 'mutation'] as const) {
        allowed.reset();
        await render(recordings[channel]);
        const p = pings();
        seen[channel] = p.cases;
        reachedPlayer += p.viaTop.filter((h) => h.path.includes('player=object')).length;
      }
    } finally {
      assets.js = safe;
    }
    console.info(`control (allow-scripts): ${Object.entries(seen).map(([k, v]) => `${k} ${v.length} cases ran`).join(', ')}; ${reachedPlayer} pings saw the player's __rr`);
    for (const channel of ['recorded', 'snapshot', 'mutation'] as const) {
      expect(RUN_WHEN_ALLOWED[channel].filter((id) => !seen[channel]!.includes(id)), channel).toEqual([]);
    }
    // Same-origin scripts in the replay would own the player page.
    expect(reachedPlayer).toBeGreaterThan(0);
  });

  it.each(['recorded', 'snapshot', 'mutation'] as const)('%s: 0 pings from any script; the allowed origin still serves the page assets', async (channel) => {
    allowed.reset();
    const result = await render(recordings[channel]);
    const p = pings();
    const other = allowed.requests.filter((r) => !r.path.startsWith('/script-ran')).map((r) => r.path);
    console.info(`${channel}: ${p.hits.length} script pings, ${other.length} asset requests, ${result.frames} frames in ${result.wallMs} ms`);
    expect(p.hits).toEqual([]);
    // The canary is reachable from this replay: its ordinary assets were fetched.
    expect(other).toContain('/ok/img.png');
    expect(other).toContain('/ok/font.woff2');
    // A script element's source is not even fetched (it would be pointless, and it is a request the page did not need).
    expect(other.filter((p) => p.endsWith('.js'))).toEqual([]);
  });

  it('the player page keeps working: each render above produced its frames, and a render after them still does', async () => {
    // A script that reached the player (top.__rr) could break stepping or capture; the renders
    // above finishing is part of the proof, and one more render in the same browser shows no
    // state leaked between contexts.
    allowed.reset();
    const r = await render(recordings.snapshot);
    expect(r.frames).toBeGreaterThan(0);
    expect(pings().hits).toEqual([]);
  });
});
