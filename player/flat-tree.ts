// The flat tree, as the browser's hit test and its hover and active chains walk it: across open
// shadow roots and slots, where the DOM's own parents and elementFromPoint stop at a shadow root.

/** Elements in a chain at most, up from the one under the pointer (a hostile page can nest without end). */
const CHAIN_MAX = 4096;

/** The parent in the flat tree: a slotted element's slot, a shadow root's host, else the parent element. */
export function flatParent(e: Element): Element | null {
  if (e.assignedSlot) return e.assignedSlot;
  if (e.parentElement) return e.parentElement;
  const root = e.parentNode as (Node & { host?: Element }) | null;
  return root?.nodeType === 11 && root.host ? root.host : null;
}

/**
 * Down from `el` through the open shadow roots under (x, y), as the browser's hit test goes. A
 * root's elementFromPoint gives its host back where the point is on the host's slotted text; the
 * root's own elements there (the label's box, the button part) come from its stack of elements.
 */
export function intoShadows(el: Element | null, x: number, y: number): Element | null {
  for (let depth = 0; el?.shadowRoot && depth < 64; depth++) {
    const root: ShadowRoot = el.shadowRoot;
    let inner = root.elementFromPoint(x, y);
    if (!inner || inner === el) inner = root.elementsFromPoint(x, y).find((e) => e !== el && e.getRootNode() === root) ?? null;
    if (!inner) break;
    el = inner;
  }
  return el;
}

/**
 * The elements a pointer over `node` hovers or presses (`:hover`, `:active`): `node` and its
 * ancestors in the flat tree (a slotted element's slot and the shadow hosts around it too), and the
 * control of each label among them, which HTML's `:hover` and `:active` match with its label (a
 * pointer over a checkbox's label lights the box). Only the nodes with a class list: an event's
 * target can be a text node or a document.
 */
export function pointerChain(node: Element | null): Element[] {
  const chain: Element[] = [];
  for (let e: Element | null = node, n = 0; e && n < CHAIN_MAX; e = flatParent(e), n++) {
    if (!e.classList) continue;
    chain.push(e);
    const control = e.tagName === 'LABEL' ? (e as HTMLLabelElement).control : null;
    if (control && control !== e) chain.push(control);
  }
  return chain;
}

/** How the elements of a chain carry a state: rrweb's `:hover` class, the player's `:active` attribute. */
export interface ChainMark {
  has(e: Element): boolean;
  add(e: Element): void;
  remove(e: Element): void;
}

/**
 * Moves `mark` from the elements of `previous` to those of `chain`, touching only those that differ:
 * restyling an element that keeps its state restyles its dependents for nothing (on a rustdoc page,
 * 17-19 ms a step for a pointer that only moved, BENCHMARKS.md stop 20). True when any changed.
 */
export function moveMark(previous: readonly Element[], chain: readonly Element[], mark: ChainMark): boolean {
  const now = new Set(chain);
  let changed = false;
  for (const e of previous) {
    if (now.has(e) || !mark.has(e)) continue;
    mark.remove(e);
    changed = true;
  }
  for (const e of chain) {
    if (mark.has(e)) continue;
    mark.add(e);
    changed = true;
  }
  return changed;
}
