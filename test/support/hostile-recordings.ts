import { chromium, type Browser } from 'playwright-core';
import { chromiumPath } from '../../src/render/browser.js';
import { recordJourney, RECORDER_ARGS, type Journey } from './recorder.js';
import { pieceToNodes, type Vector } from './hostile-vectors.js';
import {
  builders,
  firstSnapshotTs,
  fullSnapshots,
  Ids,
  injectIntoSnapshots,
  mutationAdding,
  mutationSettingAttributes,
  snapshotRoot,
  withEvents,
  type RawEvent,
} from './rrweb-inject.js';

/**
 * Load the page, then move the mouse for about 1.5 s: the recording outlasts the moment injected
 * mutations are stamped with (a frame shows only events before its time), and the mouse
 * positions are real recorder output.
 */
export const loadThenMove = (path: string): Journey => async ({ page, origin, idle }) => {
  await page.goto(`${origin}${path}`);
  await idle(300);
  for (let i = 0; i < 10; i++) {
    await page.mouse.move(20 + i * 25, 20 + i * 12);
    await idle(150);
  }
};

export function launchRecorderBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: RECORDER_ARGS, headless: true });
}

export async function recordPage(origin: string, path: string, browser: Browser): Promise<RawEvent[]> {
  const rec = await recordJourney(origin, loadThenMove(path), { browser, viewport: { width: 1024, height: 768 } });
  return rec.events as RawEvent[];
}

/** How a hostile piece gets into a recording. */
export type Channel = 'recorded' | 'snapshot' | 'mutation';

/** Puts every vector into every full snapshot of `base` (as if the page had it when recorded). */
export function injectVectorsIntoSnapshot(base: RawEvent[], vectors: Vector[]): RawEvent[] {
  let out = injectIntoSnapshots(base, 'head', (ids) => vectors.filter((v) => v.parent === 'head').flatMap((v) => v.pieces.map((p) => pieceToNodes(ids, p))));
  out = injectIntoSnapshots(out, 'body', (ids) => vectors.filter((v) => v.parent === 'body').flatMap((v) => v.pieces.map((p) => pieceToNodes(ids, p))));
  return out;
}

/** Adds every vector 300 ms after the first full snapshot, as DOM mutations. */
export function injectVectorsAsMutation(base: RawEvent[], vectors: Vector[]): RawEvent[] {
  const ids = new Ids(base);
  const at = firstSnapshotTs(base) + 300;
  const head = vectors.filter((v) => v.parent === 'head').flatMap((v) => v.pieces.map((p) => pieceToNodes(ids, p)));
  const body = vectors.filter((v) => v.parent === 'body').flatMap((v) => v.pieces.map((p) => pieceToNodes(ids, p)));
  return withEvents(base, mutationAdding(base, at, 'head', head), mutationAdding(base, at + 1, 'body', body));
}

/**
 * The replay's other ways of changing a page after load, each pointing at `u(id)`: attribute
 * mutations on existing nodes, CSSOM rule inserts, a declaration edit, and constructed (adopted)
 * stylesheets. The nodes they act on are put into the full snapshot first.
 */
export function injectCssomVectors(base: RawEvent[], u: (id: string) => string): { events: RawEvent[]; ids: string[] } {
  const box = 'width:40px;height:40px;display:block';
  let styleId = 0;
  let imgId = 0;
  let img2Id = 0;
  let divId = 0;
  let docId = 0;
  let withHolders = injectIntoSnapshots(base, 'body', (ids) => {
    const b = builders(ids);
    const style = b.el('style', {}, [b.text(`.h-decl { ${box}; }`, { isStyle: true })]);
    const img = b.el('img', { alt: 'target' });
    const img2 = b.el('img', { alt: 'target 2' });
    const div = b.el('div', { style: box });
    styleId = style.id;
    imgId = img.id;
    img2Id = img2.id;
    divId = div.id;
    return [
      style,
      img,
      img2,
      div,
      b.el('div', { class: 'h-decl' }),
      b.el('div', { class: 'h-cssom-bg', style: box }),
      b.el('p', { class: 'h-cssom-font' }, [b.text('cssom font')]),
      b.el('div', { class: 'h-adopted', style: box }),
    ];
  });
  const snap = fullSnapshots(withHolders)[0]!;
  docId = snapshotRoot(snap).id;
  const at = snap.timestamp + 300;
  const inc = (t: number, data: Record<string, unknown>): RawEvent => ({ type: 3, timestamp: t, data });
  const extra: RawEvent[] = [
    mutationSettingAttributes(at, [
      { id: imgId, attributes: { src: u('attr-img-src') } },
      { id: img2Id, attributes: { srcset: `${u('attr-img-srcset')} 2x` } },
      { id: divId, attributes: { style: `${box};background-image:url("${u('attr-style-bg')}")` } },
    ]),
    // StyleDeclaration (13): one property of an existing rule changed (before inserts shift the indexes).
    inc(at + 1, { source: 13, id: styleId, index: [0], set: { property: 'background-image', value: `url("${u('cssom-declaration')}")`, priority: '' } }),
    // StyleSheetRule (8): rules inserted into the <style> element's sheet (@import must go first;
    // the others are appended: rrweb clamps the index to the sheet's length).
    inc(at + 2, { source: 8, id: styleId, adds: [{ rule: `@import url("${u('cssom-insert-import')}");`, index: 0 }] }),
    inc(at + 3, { source: 8, id: styleId, adds: [{ rule: `.h-cssom-bg { background: url("${u('cssom-insert-bg')}"); }`, index: 1000 }] }),
    inc(at + 4, {
      source: 8,
      id: styleId,
      adds: [
        { rule: `@font-face { font-family: cssom-font; src: url("${u('cssom-insert-font')}"); }`, index: 1000 },
        { rule: `.h-cssom-font { font-family: cssom-font; }`, index: 1000 },
      ],
    }),
    // AdoptedStyleSheet (15): a constructed sheet adopted by the document.
    inc(at + 5, {
      source: 15,
      id: docId,
      styleIds: [9001],
      styles: [{ styleId: 9001, rules: [{ rule: `.h-adopted { background: url("${u('cssom-adopted')}"); }`, index: 0 }] }],
    }),
  ];
  withHolders = withEvents(withHolders, ...extra);
  return {
    events: withHolders,
    ids: ['attr-img-src', 'attr-img-srcset', 'attr-style-bg', 'cssom-insert-import', 'cssom-insert-bg', 'cssom-insert-font', 'cssom-declaration', 'cssom-adopted'],
  };
}
