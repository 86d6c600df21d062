/**
 * What a replayed page will fetch as soon as it is built, read from the recording's full snapshots
 * and the nodes their mutations add, so that Node can fetch it while Chromium starts and the player
 * loads (about a second) instead of while the first step waits for it. On this machine's own sites
 * that wait is short; from a site across the internet each page's assets cost a round trip or more
 * of the step (BENCHMARKS.md).
 *
 * Only what the player waits for and a visitor's browser asks for at once: images in the markup, the
 * stylesheets rrweb could not inline, the document of a page whose inlined stylesheets or style
 * elements lost declarations (the player reads its sheets before it builds anything:
 * player/stylesheets.ts), and the first source of each web font a stylesheet declares.
 * Not CSS backgrounds: a stylesheet names many for states and pages never shown.
 */

import { EventType, IncrementalSource, NodeType, type SerializedNode } from '../recording/rrweb-shape.js';
import { lostCssOf, stylesheetPage } from './lost-css.js';

/** URLs taken from one recording at the most; the proxy's network policy bounds them again. */
export const PREFETCH_MAX_URLS = 48;


/**
 * The asset URLs of the full snapshots in `events`, of the nodes their mutations add (a page that
 * renders itself after load: most of a single-page app's pictures) and of the sources scripts give
 * their images later (lazy loaders, galleries), in the order the replay meets them, without repeats.
 */
export function prefetchUrls(events: readonly unknown[], max = PREFETCH_MAX_URLS): string[] {
  const out = new Set<string>();
  /** The recording's img elements by node id: an attribute change names only the id. */
  const images = new Set<number>();
  /** The page the events are on (the last Meta event's href). */
  let page: unknown;
  for (const e of events) {
    if (out.size >= max) break;
    const event = e as { type?: number; data?: { node?: unknown; source?: number; adds?: unknown; attributes?: unknown; href?: unknown } };
    if (event.type === EventType.Meta) page = event.data?.href;
    else if (event.type === EventType.FullSnapshot && event.data?.node) {
      images.clear();
      collect(event.data.node as SerializedNode, out, max, images, page);
    } else if (event.type === EventType.IncrementalSnapshot && event.data?.source === IncrementalSource.Mutation) {
      const { adds, attributes } = event.data;
      if (Array.isArray(adds)) for (const add of adds as ({ node?: unknown } | null)[]) if (add?.node) collect(add.node as SerializedNode, out, max, images, page);
      if (Array.isArray(attributes)) {
        for (const change of attributes as ({ id?: unknown; attributes?: Record<string, unknown> } | null)[]) {
          const attrs = change?.attributes;
          if (typeof change?.id === 'number' && images.has(change.id) && attrs && typeof attrs === 'object' && !attrs.srcset) addUrl(out, max, attrs.src);
        }
      }
    }
  }
  return [...out];
}

function addUrl(out: Set<string>, max: number, url: unknown): void {
  if (out.size < max && typeof url === 'string' && /^https?:\/\//i.test(url)) out.add(url);
}

function collect(root: SerializedNode, out: Set<string>, max: number, images: Set<number>, page: unknown): void {
  // Iterative: a hostile snapshot can nest deeper than the stack.
  const stack: SerializedNode[] = [root];
  const add = (url: unknown) => addUrl(out, max, url);
  while (stack.length && out.size < max) {
    const node = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (lostCssOf(node)) add(stylesheetPage(page));
    if (node.type === NodeType.Element) {
      const tag = typeof node.tagName === 'string' ? node.tagName.toLowerCase() : '';
      const attrs = node.attributes ?? {};
      if (tag === 'img' && typeof node.id === 'number') images.add(node.id);
      // Not one the browser would pick another source for (srcset), or leave for later (lazy), or
      // draw from the recording itself (rrweb's inlined images).
      if (tag === 'img' && attrs.srcset === undefined && attrs.loading !== 'lazy' && attrs.rr_dataURL === undefined) add(attrs.src);
      if (typeof attrs._cssText === 'string') for (const url of fontUrls(attrs._cssText)) add(url);
      else if (tag === 'link' && /\bstylesheet\b/i.test(String(attrs.rel ?? ''))) add(attrs.href);
    } else if (node.type === NodeType.Text && node.isStyle && typeof node.textContent === 'string') {
      for (const url of fontUrls(node.textContent)) add(url);
    }
    const children = Array.isArray(node.childNodes) ? node.childNodes : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}

/** The first url() of each @font-face's src: the format the stylesheet prefers, which Chromium takes. */
export function fontUrls(css: string): string[] {
  const out: string[] = [];
  for (const face of css.matchAll(/@font-face\s*\{([^}]*)\}/gi)) {
    const src = /(?:^|[;{\s])src\s*:([^;]*)/i.exec(face[1]!);
    const url = src && /url\(\s*(['"]?)([^'")\s]+)\1\s*\)/i.exec(src[1]!);
    if (url) out.push(url[2]!);
  }
  return out;
}
