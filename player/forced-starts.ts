// Transitions a script starts by forcing a style update between two changes it makes in one task.
// Bootstrap (on about a fifth of the web's sites) opens an accordion by giving the panel its
// `collapsing` class (height 0), reading its height, then setting its height to the content's; it
// fades a modal in by showing it, reading, then adding `show`; it inserts a backdrop with `fade`,
// reads, then adds `show`; it slides a carousel's next item in by placing it off to the side, reading,
// then adding the class that moves it. The browser starts each transition at the read. rrweb's
// recorder sees the task's end state only (one mutation record per element, or a node inserted
// with its last classes), so in the replay the element appeared where it ended: the accordion open,
// the modal and its backdrop shown, the next slide in place, in the frame of the click.
//
// Before such a mutation is cast, the player passes the element through the state the page must
// have passed it through, with a style update there, and lets rrweb apply the recorded end state:
// - an element the record makes rendered, changing both its class and its style: it became rendered
//   by one of them first (a transition starts only on a rendered element), so the one that renders
//   it alone is applied first; unless the new class names the state it enters in (Vue's
//   `-enter-from`, enter-states.ts), which it was rendered in from the start;
// - a rendered element whose class and style change together (a panel closing): its size is held
//   where it was while the class changes, as the script held it, so that a transition of its height
//   or width starts from there;
// - an element entering (inserted, or rendered by the record) with Bootstrap's classes for a start
//   state and an end state (`fade` and `show`, a carousel item's `-next` and `-start`), or
//   react-transition-group's (`<name>-enter` and `<name>-enter-active`): it enters without the end
//   state's classes first (player/enter-states.ts); a rendered element given both passes through
//   the start state too;
// - an element inserted with `opacity: 1` and an inline transition of opacity (Material UI's Fade
//   and Grow: inserted at 0, a style update, then 1): it enters at 0 first, and at Grow's scale;
// - Material UI's Drawer paper inserted at `transform: none` with a transition of it: it enters off
//   the viewport's edge its laid-out box is against. Slide's offset on any other element starts
//   where the record has it: its direction and its container are not known.
import { forEachSerializedNode } from '../src/recording/rrweb-shape.js';
import { addsStartState, classesOf, enterClasses, fadedStart, hasEndClass, slideStart, slidIn } from './enter-states.js';

interface MirrorLike {
  getNode(id: number): unknown;
}

interface AttributeChange {
  id?: unknown;
  attributes?: Record<string, unknown>;
}

/** rrweb's style change: the attribute's text, or property -> value (false: removed; [value, priority]). */
type StyleChange = string | null | Record<string, string | false | [string, string]>;

/**
 * Elements staged per mutation at most. Each costs a style update (and a layout for a held size)
 * between the page's changes; a page that rewrites the class and style of many elements at once (a
 * chart's data update) is applied as recorded, since a script that forces a style update per element
 * is not what Bootstrap's one or two elements a click are.
 */
const MAX_STAGED = 16;

/** The size a closing element is held at while its class changes. */
const HELD = ['height', 'width'] as const;

function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) el.removeAttribute(name);
  else el.setAttribute(name, value);
}

function applyStyle(el: HTMLElement, change: StyleChange): void {
  if (change === null || typeof change === 'string') return setAttr(el, 'style', change);
  for (const [name, v] of Object.entries(change)) {
    if (v === false) el.style.removeProperty(name);
    else if (Array.isArray(v)) el.style.setProperty(name, v[0], v[1]);
    else el.style.setProperty(name, v);
  }
}

/** Whether the element has a box (no `display: none` on it or above it); updates the document's style. */
function rendered(el: Element): boolean {
  return el.checkVisibility();
}

/** Updates the document's style: transitions the changes before it made start here. */
function restyle(el: Element): void {
  el.ownerDocument.defaultView?.getComputedStyle(el).getPropertyValue('opacity');
}

/**
 * Call `before` with each mutation about to be cast onto the page (not in a virtual DOM batch,
 * whose diff writes each node once) and the function it returns, if any, after the cast.
 */
export class ForcedStarts {
  before(data: { adds?: unknown; attributes?: unknown }, mirror: MirrorLike): (() => void) | undefined {
    const after: (() => void)[] = [];
    const changes = Array.isArray(data.attributes) ? (data.attributes as (AttributeChange | null)[]).filter(mayStage) : [];
    if (changes.length <= MAX_STAGED) {
      for (const change of changes) {
        const done = this.stage(change, mirror);
        if (done) after.push(done);
      }
    }
    const entering = Array.isArray(data.adds) ? insertedEntering(data.adds as { node?: unknown }[]) : [];
    if (entering.length && entering.length <= MAX_STAGED) after.push(() => enterInserted(entering, mirror));
    if (!after.length) return undefined;
    return () => {
      for (const f of after) f();
    };
  }

  /** Passes one element through its intermediate state; returns what to undo after the cast. */
  private stage(change: AttributeChange | null, mirror: MirrorLike): (() => void) | undefined {
    const attrs = change?.attributes;
    if (typeof change?.id !== 'number' || !attrs) return undefined;
    const hasClass = 'class' in attrs && (attrs.class === null || typeof attrs.class === 'string');
    // typeof null is 'object': a removed style attribute counts.
    const hasStyle = 'style' in attrs && (typeof attrs.style === 'string' || typeof attrs.style === 'object');
    if (!hasClass) return undefined;
    const el = mirror.getNode(change.id) as HTMLElement | null;
    if (!el || el.nodeType !== 1 || !el.isConnected || typeof el.checkVisibility !== 'function' || !el.style) return undefined;
    const oldClass = el.getAttribute('class');
    const newClass = attrs.class as string | null;
    const enter = enterClasses(classesOf(newClass), new Set(classesOf(oldClass)));
    if (!hasStyle && !enter) return undefined;
    const style = attrs.style as StyleChange;
    const oldStyle = el.getAttribute('style');
    if (rendered(el)) {
      if (hasStyle) return holdSize(el, newClass, style);
      // Its start state, restyled there (react-transition-group's kept-mounted element).
      if (enter) {
        setAttr(el, 'class', enter.join(' '));
        restyle(el);
      }
      return undefined;
    }
    // Rendered with its old class first, it would transition towards its enter state: Vue's
    // drawer slid out and back in the frame of the click, and was in place at the next.
    if (!enter && addsStartState(classesOf(newClass), new Set(classesOf(oldClass)))) return undefined;
    const tries: [string | null, boolean][] = [];
    if (enter) tries.push([enter.join(' '), hasStyle]);
    if (hasStyle) tries.push([newClass, false], [oldClass, true]);
    for (const [cls, withStyle] of tries) {
      setAttr(el, 'class', cls);
      if (withStyle) applyStyle(el, style);
      else setAttr(el, 'style', oldStyle);
      if (rendered(el)) return undefined;
    }
    setAttr(el, 'class', oldClass);
    setAttr(el, 'style', oldStyle);
    return undefined;
  }
}

/** A record that changes a class, with the style or to one that can carry an end-state class (cheap: no DOM). */
function mayStage(change: AttributeChange | null): boolean {
  const attrs = change?.attributes;
  if (!attrs || !('class' in attrs)) return false;
  return 'style' in attrs || (typeof attrs.class === 'string' && hasEndClass(classesOf(attrs.class)));
}

/**
 * A rendered element whose class and style change together: holds its size while the new class
 * applies (restyled), as Bootstrap's collapse does before it lets the height go to the class's 0.
 * Returns the cleanup for a style change that names properties (rrweb leaves the others alone).
 */
function holdSize(el: HTMLElement, newClass: string | null, style: StyleChange): (() => void) | undefined {
  const view = el.ownerDocument.defaultView;
  if (!view) return undefined;
  const cs = view.getComputedStyle(el);
  const before = HELD.map((p) => ({ p, value: el.style.getPropertyValue(p), priority: el.style.getPropertyPriority(p), used: cs.getPropertyValue(p) }));
  for (const b of before) if (b.used.endsWith('px')) el.style.setProperty(b.p, b.used);
  setAttr(el, 'class', newClass);
  restyle(el);
  if (style === null || typeof style === 'string') return undefined;
  return () => {
    for (const b of before) if (!(b.p in style)) el.style.setProperty(b.p, b.value, b.priority);
  };
}

/**
 * An inserted element to restyle once in its start state (an attribute's value), then give its
 * recorded one; a slide's start is worked out from where its recorded style lays it out.
 */
type Entering = { id: number; end: string } & ({ attr: 'class' | 'style'; start: string } | { attr: 'style'; slide: true });

/** Element nodes in serialized added trees that enter with a start state the record does not show. */
function insertedEntering(adds: { node?: unknown }[]): Entering[] {
  const out: Entering[] = [];
  for (const a of adds)
    forEachSerializedNode(a?.node, (n) => {
      if (typeof n.id !== 'number') return;
      const { class: cls, style } = n.attributes ?? {};
      const start = typeof cls === 'string' ? enterClasses(classesOf(cls), new Set()) : null;
      if (start) out.push({ id: n.id, attr: 'class', start: start.join(' '), end: cls as string });
      if (typeof style !== 'string') return;
      if (typeof cls === 'string' && slidIn(classesOf(cls), style)) return void out.push({ id: n.id, attr: 'style', slide: true, end: style });
      const faded = fadedStart(style);
      if (faded !== null) out.push({ id: n.id, attr: 'style', start: faded, end: style });
    });
  return out;
}

/** Inserted elements: restyled once in their start state, then given their recorded attributes. */
function enterInserted(entering: Entering[], mirror: MirrorLike): void {
  const placed: { el: HTMLElement; e: Entering }[] = [];
  for (const e of entering) {
    const el = mirror.getNode(e.id) as HTMLElement | null;
    if (!el || el.nodeType !== 1 || !el.isConnected) continue;
    if ('start' in e) el.setAttribute(e.attr, e.start);
    placed.push({ el, e });
  }
  if (!placed.length) return;
  // A slide's box is read with the others in their start states already (read in their end states,
  // they would transition back to their starts), and its own start is set without a transition:
  // computed here at its end, it would otherwise slide out first.
  const view = placed[0]!.el.ownerDocument.defaultView;
  for (const { el, e } of placed) {
    if (!('slide' in e) || !view || !el.style) continue;
    el.setAttribute('style', slideStart(e.end, el.getBoundingClientRect(), { width: view.innerWidth, height: view.innerHeight }));
    el.style.setProperty('transition', 'none');
  }
  // Each one: Chromium's getComputedStyle brings only the element asked about (and what it depends
  // on) up to date, and an element left out would go from its end state to its end state.
  for (const { el } of placed) restyle(el);
  for (const { el, e } of placed) el.setAttribute(e.attr, e.end);
}
