// Popovers (the `popover` attribute: menus, pickers, tooltips in the top layer), shown as the user
// saw them. rrweb records the attribute but not whether the popover is open (rrweb-io/rrweb#1701):
// an element with it is hidden until shown, so every popover the user opened was missing from the
// replay. What the recording does tell:
// - a click on an invoker: a button with `popovertarget` (and its action), or `commandfor` with a
//   popover command, which the browser acts on without any script;
// - the light dismiss the browser does on a press outside the open `auto` popovers;
// - a script that opened one and said so on its controller (`aria-expanded` with `aria-controls`),
//   in the snapshot and in later changes.
// A popover a script opened without saying so, or one closed with the Escape key (rrweb records no
// keys), is not known.
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';

/** The popover API as Chromium has it (TypeScript's DOM lib lacks the options and invoker commands). */
interface PopoverHost extends Element {
  popover: string | null;
  showPopover(options?: { source?: Element }): void;
  hidePopover(): void;
}

interface Invoker extends Element {
  type?: string;
  form?: unknown;
  popoverTargetElement?: Element | null;
  popoverTargetAction?: string;
  commandForElement?: Element | null;
  command?: string;
}

/** What rrweb's Replayer hands a plugin (the part used here). */
interface ReplayerLike {
  getMirror(): { getNode(id: number): unknown };
  config: { useVirtualDom?: boolean };
}

type Action = 'toggle' | 'show' | 'hide';

/** How many of the ids in a controller's `aria-controls` are looked at. */
const MAX_CONTROLLED = 16;

const COMMANDS: Record<string, Action> = { 'toggle-popover': 'toggle', 'show-popover': 'show', 'hide-popover': 'hide' };

function isPopover(el: unknown): el is PopoverHost {
  const p = el as Partial<PopoverHost> | null;
  return !!p && typeof p.showPopover === 'function' && typeof p.popover === 'string' && p.popover !== '';
}

function isOpen(el: PopoverHost): boolean {
  try {
    return el.matches(':popover-open');
  } catch {
    return false;
  }
}

/** Popovers the browser light-dismisses (`auto`, and `hint`); `manual` ones stay until told. */
function dismissable(el: PopoverHost): boolean {
  return el.popover === 'auto' || el.popover === 'hint';
}

/** The parent in the flat tree: through slots and out of shadow roots, as the browser walks it. */
function flatParent(n: Node): Node | null {
  const slot = (n as Partial<Element>).assignedSlot;
  if (slot) return slot;
  const parent = n.parentNode;
  if (parent && parent.nodeType === 11) return (parent as ShadowRoot).host ?? null;
  return parent;
}

/** The popover an invoker element acts on, with the action; null when it is not one. */
function invoked(el: Element): { target: PopoverHost; action: Action } | null {
  const inv = el as Invoker;
  const command = typeof inv.command === 'string' ? COMMANDS[inv.command.toLowerCase()] : undefined;
  if (command && isPopover(inv.commandForElement)) return { target: inv.commandForElement, action: command };
  if (!isPopover(inv.popoverTargetElement)) return null;
  // A submit button of a form submits it instead (the HTML standard's popover target steps).
  if (inv.type === 'submit' && inv.form) return null;
  const action = inv.popoverTargetAction === 'show' || inv.popoverTargetAction === 'hide' ? inv.popoverTargetAction : 'toggle';
  return { target: inv.popoverTargetElement, action };
}

/** The invoker a click landed in: the node or its closest ancestor that is one. */
function invokerOf(node: Node): Element | null {
  for (let n: Node | null = node, depth = 0; n && depth < 64; n = flatParent(n), depth++) {
    if (n.nodeType === 1 && invoked(n as Element)) return n as Element;
  }
  return null;
}

/**
 * The open popover a press landed in (the HTML standard's "topmost clicked popover"): the closest
 * open one around the node, or the open one the invoker it landed in points at.
 */
function clickedPopover(node: Node): PopoverHost | null {
  for (let n: Node | null = node, depth = 0; n && depth < 256; n = flatParent(n), depth++) {
    if (n.nodeType !== 1) continue;
    if (isPopover(n) && dismissable(n) && isOpen(n)) return n;
    const inv = invoked(n as Element);
    if (inv && dismissable(inv.target) && isOpen(inv.target)) return inv.target;
  }
  return null;
}

interface Queued {
  kind: 'down' | 'up' | 'click' | 'expanded';
  id: number;
}

/**
 * Replays popovers' open state (a Replayer plugin). Events whose nodes are in the page are applied at
 * once, with the page as it was then; those cast into rrweb's virtual DOM (a long history built
 * before the first frame) wait for apply(), after the batch is written to the page.
 */
export class PopoverReplay {
  private queued: Queued[] = [];
  /** The popover a press went down in, for the light dismiss at its release. */
  private downIn: PopoverHost | null | undefined;
  /** Who opened each popover we showed: the popovers' ancestry for the light dismiss. */
  private sources = new WeakMap<Element, Element>();
  /**
   * The popovers we showed: the replay runs none of the page's scripts, so no other can be open, and
   * a press outside them all (most presses) costs no search of the document.
   */
  private shown = new Set<PopoverHost>();
  /** A snapshot came: its controllers saying `aria-expanded="true"` show their popovers at apply(). */
  private snapshot = false;
  private dirty = false;

  readonly plugin = {
    handler: (event: eventWithTime, _isSync: boolean, { replayer }: { replayer: ReplayerLike }) => {
      if (event.type === EventType.FullSnapshot) {
        this.queued = [];
        this.shown.clear();
        this.downIn = undefined;
        this.snapshot = true;
        return;
      }
      if (event.type !== EventType.IncrementalSnapshot) return;
      const d = event.data as { source?: number; type?: number; id?: number; attributes?: unknown };
      const batched = replayer.config.useVirtualDom === true;
      const take = (q: Queued) => {
        if (batched) this.queued.push(q);
        else this.run(q, replayer.getMirror());
      };
      if (d.source === IncrementalSource.Mutation) {
        if (!Array.isArray(d.attributes)) return;
        for (const change of d.attributes as ({ id?: unknown; attributes?: Record<string, unknown> } | null)[]) {
          if (typeof change?.id === 'number' && change.attributes && 'aria-expanded' in change.attributes) take({ kind: 'expanded', id: change.id });
        }
        return;
      }
      if (d.source !== IncrementalSource.MouseInteraction || typeof d.id !== 'number') return;
      const kind = d.type === MouseInteraction.MouseDown || d.type === MouseInteraction.TouchStart ? 'down' : d.type === MouseInteraction.MouseUp || d.type === MouseInteraction.TouchEnd ? 'up' : d.type === MouseInteraction.Click ? 'click' : null;
      if (kind) take({ kind, id: d.id });
    },
  };

  /** Applies what waited for the page (a snapshot's controllers, a batch's events); true when that changed the page. */
  apply(doc: Document | null | undefined, mirror: { getNode(id: number): unknown }): boolean {
    this.dirty = false;
    if (doc && this.snapshot) {
      this.snapshot = false;
      for (const el of Array.from(doc.querySelectorAll('[aria-expanded="true"][aria-controls]'))) this.follow(el);
    }
    const queued = this.queued;
    this.queued = [];
    for (const q of queued) this.run(q, mirror);
    return this.dirty;
  }

  private run(q: Queued, mirror: { getNode(id: number): unknown }): void {
    // A press with no popover shown has nothing to dismiss: most presses, on most pages.
    if ((q.kind === 'down' || q.kind === 'up') && this.shown.size === 0) {
      this.downIn = undefined;
      return;
    }
    const node = mirror.getNode(q.id) as Node | null | undefined;
    if (!node || typeof node.nodeType !== 'number' || !node.isConnected) {
      if (q.kind === 'up') this.downIn = undefined;
      return;
    }
    if (q.kind === 'expanded') this.follow(node as Element);
    else if (q.kind === 'down') this.downIn = clickedPopover(node);
    else if (q.kind === 'up') {
      // The browser dismisses only when the press went down and up in the same popover (or outside all).
      const upIn = clickedPopover(node);
      if (this.downIn !== undefined && upIn === this.downIn) this.dismissAbove(upIn);
      this.downIn = undefined;
    } else {
      const invoker = invokerOf(node);
      const inv = invoker && invoked(invoker);
      if (!inv) return;
      const open = isOpen(inv.target);
      if (inv.action === 'hide' || (inv.action === 'toggle' && open)) {
        if (open) this.hide(inv.target);
      } else if (!open) this.show(inv.target, invoker);
    }
  }

  /** A controller's `aria-expanded` said what its popovers (`aria-controls`) show. */
  private follow(controller: Element): void {
    const ids = controller.getAttribute('aria-controls');
    if (!ids) return;
    const want = controller.getAttribute('aria-expanded') === 'true';
    const root = controller.getRootNode() as Partial<Document>;
    // A controller names one popover, or a few: a recorded attribute of thousands is not followed whole.
    for (const id of ids.split(/\s+/, MAX_CONTROLLED)) {
      const target = id && typeof root.getElementById === 'function' ? root.getElementById(id) : null;
      if (!isPopover(target) || isOpen(target) === want) continue;
      if (want) this.show(target, controller);
      else this.hide(target);
    }
  }

  /** The light dismiss: every open auto popover but `keep` and those it sits in (by the DOM or its opener). */
  private dismissAbove(keep: PopoverHost | null): void {
    const ancestors = new Set<Element>();
    for (let p: Node | null = keep, depth = 0; p && depth < 256; depth++) {
      if (p.nodeType === 1 && isPopover(p)) ancestors.add(p as Element);
      p = (p.nodeType === 1 && this.sources.get(p as Element)) || flatParent(p);
    }
    for (const el of Array.from(this.shown)) {
      if (!isOpen(el)) this.shown.delete(el);
      else if (dismissable(el) && !ancestors.has(el)) this.hide(el);
    }
  }

  private show(el: PopoverHost, source: Element): void {
    try {
      // The opener is the popover's implicit anchor (CSS anchor positioning) and its place in the
      // popover stack, as when the browser opens it from that invoker.
      el.showPopover({ source });
      this.sources.set(el, source);
      this.shown.add(el);
      this.dirty = true;
    } catch {
      // Not connected, or not a popover any more: the browser would not have shown it either.
    }
  }

  private hide(el: PopoverHost): void {
    try {
      el.hidePopover();
      this.shown.delete(el);
      this.dirty = true;
    } catch {
      // Already hidden by a popover it sat in.
    }
  }
}
