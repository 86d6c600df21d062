// An entering element's start state, worked out from the end state the recorder saw (the script
// forced a style update in the start state, then set the end one, in one task: player/forced-starts.ts).
// - Bootstrap's class names for the two states (versions 3 to 5): it enters in the start state,
//   Bootstrap forces a style update, then adds the end state's classes; react-transition-group's
//   CSSTransition the same with `<name>-enter` and `<name>-enter-active`.
// - A fade set inline: Material UI's Fade and Grow (react-transition-group) insert an element at
//   `opacity: 0`, force a style update, then set `opacity: 1` with an inline `transition` of it;
//   Grow's scale the same way, from `scale(0.75, 0.5625)` to `scale(1, 1)`.
// - Material UI's Drawer: its paper is inserted off the viewport's edge it is anchored to (Slide),
//   then moved to `transform: none`; where that is depends on its laid-out box (slideStart).
// Plain functions of class lists and style text, tested in Node.

/** A start-state class and the end-state classes a script adds after a forced style update. */
const ENTER_CLASSES: readonly { start: readonly string[]; end: readonly string[] }[] = [
  // Modals, their backdrops, tooltips, popovers, alerts, toasts, tab panes (3: `in`).
  { start: ['fade'], end: ['show', 'in'] },
  // A carousel's incoming item, placed to the side, then moved in (4: -left and -right).
  { start: ['carousel-item-next', 'carousel-item-prev'], end: ['carousel-item-start', 'carousel-item-end', 'carousel-item-left', 'carousel-item-right'] },
];

/** Bootstrap's end-state classes. */
const END_CLASSES: ReadonlySet<string> = new Set(ENTER_CLASSES.flatMap(({ end }) => end));

/**
 * react-transition-group's CSSTransition: the element gets `<name>-enter` (the start values), its
 * layout is read, then it gets `<name>-enter-active` (the end values and the transition), in one
 * task; `-appear` the same as it mounts. With both in one record, the active class is the end state
 * (Vue 2's `-enter` and `-enter-active` come in one record too, the start values in `-enter` and
 * only the transition in `-enter-active`: passing through `-enter` alone changes nothing there).
 */
const ACTIVE_SUFFIXES = ['-enter-active', '-appear-active'] as const;

function isActive(c: string): boolean {
  return ACTIVE_SUFFIXES.some((s) => c.endsWith(s));
}

/** Whether a class list has an end-state class: a record without one cannot need staging for an entering element. */
export function hasEndClass(classes: readonly string[]): boolean {
  return classes.some((c) => END_CLASSES.has(c) || isActive(c));
}

/**
 * The classes an element enters with before its end-state classes are added (`had`: the classes it
 * had, none when inserted), or null when it carries no such pair, or had its end state already.
 */
export function enterClasses(classes: readonly string[], had: ReadonlySet<string>): string[] | null {
  for (const { start, end } of ENTER_CLASSES) {
    if (!classes.some((c) => start.includes(c))) continue;
    const added = classes.filter((c) => end.includes(c) && !had.has(c));
    if (added.length) return classes.filter((c) => !added.includes(c));
  }
  // An active class added beside its start class (`<name>-enter-active` beside `<name>-enter`).
  const active = classes.filter((c) => isActive(c) && !had.has(c) && classes.includes(c.slice(0, -'-active'.length)));
  return active.length ? classes.filter((c) => !active.includes(c)) : null;
}

/**
 * A class naming the state an element enters in, which its script swaps for the end state a display
 * frame later (no style update forced between): Vue's `<name>-enter-from` and `<name>-appear-from`
 * (Vue 2: `<name>-enter`, `<name>-appear`). Vue's `<Transition>` around a `v-show` adds them, then
 * shows the element, in one task: it is first rendered in that state.
 */
const START_STATE = /-(?:enter|appear)(?:-from)?$/;

/** Whether `classes` add (to those the element `had`) a class naming its enter state (START_STATE). */
export function addsStartState(classes: readonly string[], had: ReadonlySet<string>): boolean {
  return classes.some((c) => START_STATE.test(c) && !had.has(c));
}

export function classesOf(value: string | null): string[] {
  return value ? value.split(/\s+/).filter(Boolean) : [];
}


/** `opacity: 1` (or 1.0) as a declaration of an inline style. */
const OPAQUE = /(^|;)(\s*)opacity\s*:\s*1(?:\.0*)?\s*(?=;|$)/i;
/** An inline `transition` (or its `transition-property`) that names opacity or all. */
const FADES = /(?:^|;)\s*transition(?:-property)?\s*:[^;]*\b(?:opacity|all)\b/i;
/** An inline `transition` (or its `transition-property`) that names transform or all. */
const MOVES = /(?:^|;)\s*transition(?:-property)?\s*:[^;]*\b(?:transform|all)\b/i;
/** Material UI's Grow at its end while entering: `getScale(1)`. */
const GROWN = /(^|;)(\s*)transform\s*:\s*scale\(\s*1\s*,\s*1\s*\)\s*(?=;|$)/i;
/** `transform: none`, where Slide leaves an element it has moved in. */
const UNMOVED = /(^|;)(\s*)transform\s*:\s*none\s*(?=;|$)/i;

/**
 * The inline style an inserted element faded in from, or null: only a style that both sets
 * `opacity: 1` and transitions opacity, which says a script has just moved it there (an element
 * merely made ready to fade on hover does not set its opacity inline). Material UI's Grow also
 * scales it from `getScale(0.75)` (its scale's height is the square of its width's), which only
 * Grow writes as `scale(1, 1)` beside a transition of transform.
 */
export function fadedStart(style: string): string | null {
  if (!FADES.test(style) || !OPAQUE.test(style)) return null;
  const faded = style.replace(OPAQUE, '$1$2opacity: 0');
  return MOVES.test(style) ? faded.replace(GROWN, '$1$2transform: scale(0.75, 0.5625)') : faded;
}

/**
 * Whether an inserted element slid in from off the viewport: a Material UI Drawer's paper (a
 * temporary drawer, mounted as it opens; `MuiDrawer-paper` in versions 5 to 9) whose style has it at
 * `transform: none` with a transition of transform, as Slide leaves it after moving it in.
 */
export function slidIn(classes: readonly string[], style: string): boolean {
  return classes.includes('MuiDrawer-paper') && MOVES.test(style) && UNMOVED.test(style);
}

/**
 * The style a slide started from: the element (laid out at `box`, in a viewport `view` big) moved
 * just off the viewport's edge it is laid against, as Slide's getTranslateValue places it. The edge
 * is read from the box, not from the drawer's anchor class: a right-to-left page swaps left and right.
 */
export function slideStart(style: string, box: { left: number; top: number; width: number; height: number }, view: { width: number; height: number }): string {
  const px = (v: number) => `${Math.round(v * 1000) / 1000}px`;
  const [left, right] = [box.left, view.width - box.left - box.width];
  const [top, bottom] = [box.top, view.height - box.top - box.height];
  // A side drawer spans the viewport's height, a top or bottom one its width.
  const moved =
    top + bottom <= left + right
      ? right <= left
        ? `translateX(${px(view.width - box.left)})`
        : `translateX(${px(-(box.left + box.width))})`
      : bottom <= top
        ? `translateY(${px(view.height - box.top)})`
        : `translateY(${px(-(box.top + box.height))})`;
  return style.replace(UNMOVED, `$1$2transform: ${moved}`);
}
