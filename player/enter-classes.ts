// Bootstrap's names for the two states of an entering element (versions 3 to 5): it enters in the
// start state, Bootstrap forces a style update, then adds the end state's classes, and the recorder
// sees only the end (player/forced-starts.ts). Plain functions of class lists, tested in Node.

/** A start-state class and the end-state classes a script adds after a forced style update. */
const ENTER_CLASSES: readonly { start: readonly string[]; end: readonly string[] }[] = [
  // Modals, their backdrops, tooltips, popovers, alerts, toasts, tab panes (3: `in`).
  { start: ['fade'], end: ['show', 'in'] },
  // A carousel's incoming item, placed to the side, then moved in (4: -left and -right).
  { start: ['carousel-item-next', 'carousel-item-prev'], end: ['carousel-item-start', 'carousel-item-end', 'carousel-item-left', 'carousel-item-right'] },
];

/** Every end-state class: a record without one cannot need staging for an entering element. */
export const END_CLASSES: ReadonlySet<string> = new Set(ENTER_CLASSES.flatMap(({ end }) => end));

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
  return null;
}

export function classesOf(value: string | null): string[] {
  return value ? value.split(/\s+/).filter(Boolean) : [];
}

