// `:target` selectors rewritten to match an attribute too (player/target.ts says why). No DOM: the
// tests read it in Node.

/** The attribute the rewritten `:target` selectors also match. */
export const TARGET_ATTRIBUTE = 'data-rr-target';
/** `:target`, not `::target-text` or a longer name. */
const TARGET = /(?<!:):target(?![\w-])/g;
const TARGET_MATCH = `:is(:target, [${TARGET_ATTRIBUTE}])`;

/** A stylesheet text whose `:target` selectors also match the player's attribute. */
export function withTargetSelectors(css: string): string {
  return css.includes(':target') ? css.replace(TARGET, TARGET_MATCH) : css;
}
