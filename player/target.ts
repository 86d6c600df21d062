// The element a URL fragment points at, as the user saw it (`:target`). Documentation sites mark the
// section a link jumped to (rustdoc's method headings, yellow with a bar at the right), and a page
// opened at `page.html#section` the same way. The replay's document has no fragment, so `:target`
// matched nothing: the mark was missing from every such frame. A fragment navigation in the replay
// frame would scroll it, there and in later layouts (Chromium keeps a fragment's target in view), so
// instead each recorded stylesheet's `:target` also matches an attribute the player sets on the
// element (the way rrweb's replay matches `:hover` with a class; state-selectors.ts).
//
// Where the fragment comes from: the page's address when it was loaded (its Meta event), then each
// click on a link to a fragment of the same page. rrweb records no fragment change itself, so one a
// script made (or a link whose click the page cancelled) is not known.
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';
import { TARGET_ATTRIBUTE } from './state-selectors.js';

/** What rrweb's Replayer hands a plugin (the part used here). */
interface ReplayerLike {
  getMirror(): { getNode(id: number): unknown };
  /** rrweb's virtual DOM, where a long history is built before it is written to the page (player.ts). */
  virtualDom?: { mirror?: { getNode(id: number): unknown } };
}

/** The fragment of `href` (without `#`, decoded) and the address without it; null for no valid address. */
function split(href: string, base?: string): { page: string; fragment: string } | null {
  try {
    const url = new URL(href, base);
    const hash = url.hash.slice(1);
    url.hash = '';
    let fragment = hash;
    try {
      fragment = decodeURIComponent(hash);
    } catch {
      // A fragment that is not valid percent-encoding is matched as written, as browsers do.
    }
    return { page: url.href, fragment };
  } catch {
    return null;
  }
}

interface ElementLike {
  tagName?: unknown;
  parentElement?: ElementLike | null;
  parentNode?: ElementLike | null;
  getAttribute?(name: string): string | null;
}

/** The link a click landed in: the node itself or its closest `<a href>` ancestor (through SVG too). */
function linkOf(node: unknown): ElementLike | null {
  for (let n = node as ElementLike | null | undefined, depth = 0; n && depth < 64; n = n.parentElement ?? n.parentNode ?? null, depth++) {
    if (typeof n.tagName === 'string' && n.tagName.toLowerCase() === 'a' && typeof n.getAttribute === 'function' && n.getAttribute('href') !== null) return n;
  }
  return null;
}

/**
 * Tracks the fragment of each replayed page (a Replayer plugin) and marks the element it points at
 * (mark, after each step: a batch written through rrweb's virtual DOM drops attributes it does not
 * know).
 */
export class FragmentTarget {
  private page = '';
  private fragment = '';
  private marked: Element | null = null;

  readonly plugin = {
    handler: (event: eventWithTime, _isSync: boolean, { replayer }: { replayer: ReplayerLike }) => {
      if (event.type === EventType.Meta) {
        const href = (event.data as { href?: unknown }).href;
        const at = typeof href === 'string' ? split(href) : null;
        this.page = at?.page ?? '';
        this.fragment = at?.fragment ?? '';
        return;
      }
      if (event.type !== EventType.IncrementalSnapshot || !this.page) return;
      const d = event.data as { source?: number; type?: number; id?: number };
      if (d.source !== IncrementalSource.MouseInteraction || d.type !== MouseInteraction.Click || typeof d.id !== 'number') return;
      // A click inside a history built in rrweb's virtual DOM names a node that is only there yet.
      const link = linkOf(replayer.getMirror().getNode(d.id) ?? replayer.virtualDom?.mirror?.getNode(d.id));
      const target = link?.getAttribute?.('target');
      if (!link || (target && target.toLowerCase() !== '_self') || link.getAttribute?.('download') != null) return;
      const to = split(link.getAttribute!('href')!, this.page);
      // A link to a fragment of this page moves the target; one to another page loads that page
      // (its Meta event says where), and a bare `#` or `#top` goes nowhere in particular.
      if (to && to.page === this.page && to.fragment) this.fragment = to.fragment;
    },
  };

  /**
   * Puts the attribute on the element the current fragment points at (its id, else an `<a name>`),
   * and only there. True when that changed the page.
   */
  mark(doc: Document | null | undefined): boolean {
    const named = () => Array.from(doc!.getElementsByName(this.fragment)).find((e) => e.tagName.toLowerCase() === 'a') ?? null;
    const el = doc && this.fragment ? (doc.getElementById(this.fragment) ?? named()) : null;
    let changed = false;
    if (this.marked && this.marked !== el && this.marked.hasAttribute(TARGET_ATTRIBUTE)) {
      this.marked.removeAttribute(TARGET_ATTRIBUTE);
      changed = true;
    }
    if (el && !el.hasAttribute(TARGET_ATTRIBUTE)) {
      el.setAttribute(TARGET_ATTRIBUTE, '');
      changed = true;
    }
    this.marked = el;
    return changed;
  }
}
