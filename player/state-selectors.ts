// Selectors of states the replay's document cannot be in, rewritten to match an attribute the player
// sets instead: `:hover` (no pointer hovers the replay's document: player.ts), `:active` (none is ever
// pressed: press.ts), `:target` (the replay's document has no fragment: target.ts) and
// `:user-invalid` / `:user-valid` (no user ever touched the replay's fields: user-validity.ts).
// rrweb's replay matches `:hover` with a class, `:hover`, added to the hovered elements and to the
// selectors of the stylesheets a page is built with; but a class is seen by every selector of the
// class attribute: a table under the pointer no longer matched `table:not([class])` (the way Material
// for MkDocs styles tables, as CSS resets do links and lists), and kept an empty class attribute once
// the pointer left it, so every table the pointer passed over was drawn unstyled for the rest of
// the replay. Nor did rrweb rewrite the rules a page adds later (CSS-in-JS libraries insert theirs
// one by one) and the constructed stylesheets shadow roots adopt (every web component's styles). An
// attribute of its own is seen by no page's selector. The rewrite has no DOM: the tests read it in Node.
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, forEachSerializedNode, IncrementalSource, NodeType } from '../src/recording/rrweb-shape.js';

/** The attribute the rewritten `:target` selectors also match. */
export const TARGET_ATTRIBUTE = 'data-rr-target';
/** The attribute of a form control the user interacted with, which the rewritten `:user-invalid` and `:user-valid` also match. */
export const USER_INTERACTED_ATTRIBUTE = 'data-rr-user-interacted';

/** The attribute of the elements the pointer is over (and their flat-tree ancestors), which the rewritten `:hover` also matches. */
export const HOVER_ATTRIBUTE = 'data-rr-hover';

/** The attribute of the elements the pointer is held down on (and their flat-tree ancestors), which the rewritten `:active` also matches. */
export const ACTIVE_ATTRIBUTE = 'data-rr-active';

/** Each pseudo-class (not a pseudo-element, not a longer name) and what it becomes. */
const REWRITES: { name: string; pattern: RegExp; to: string }[] = [
  // Not after a pseudo-element either (`::-webkit-scrollbar-thumb:active`), where an attribute is not allowed.
  { name: ':active', pattern: /(?<!\\)(?<!::[\w-]+(?:\([^()]*\))?)(?<!:):active(?![\w-])/g, to: `:is(:active, [${ACTIVE_ATTRIBUTE}])` },
  { name: ':target', pattern: /(?<!:):target(?![\w-])/g, to: `:is(:target, [${TARGET_ATTRIBUTE}])` },
  { name: ':user-invalid', pattern: /(?<!:):user-invalid(?![\w-])/g, to: `:is(:user-invalid, [${USER_INTERACTED_ATTRIBUTE}]:invalid)` },
  { name: ':user-valid', pattern: /(?<!:):user-valid(?![\w-])/g, to: `:is(:user-valid, [${USER_INTERACTED_ATTRIBUTE}]:valid)` },
];

/**
 * `:hover`, not escaped, not a longer name, and not after a pseudo-element (`::part(label):hover`,
 * `::-webkit-scrollbar-thumb:hover`), where an attribute is not allowed and an invalid selector would
 * drop its whole rule; nor a media feature's value (`@media (hover:hover)`).
 */
const HOVER = /(?<!\\)(?<!::[\w-]+(?:\([^()]*\))?)(?<!\(\s*(?:any-)?hover\s*):hover(?![\w-])/g;

/** A stylesheet text whose `:hover` also matches the attribute the player gives hovered elements. */
export function withHoverAttribute(css: string): string {
  return css.includes(':hover') ? css.replace(HOVER, `:is(:hover, [${HOVER_ATTRIBUTE}])`) : css;
}

/** A stylesheet text whose `:active`, `:target`, `:user-invalid` and `:user-valid` selectors also match the player's attributes. */
export function withStateSelectors(css: string): string {
  let out = css;
  for (const r of REWRITES) if (out.includes(r.name)) out = out.replace(r.pattern, r.to);
  return out;
}

/**
 * Rewrites, in place, every recorded stylesheet text (style elements, linked sheets rrweb inlined,
 * rules inserted or adopted later) with withHoverAttribute and withStateSelectors. rrweb's own
 * rewrite then adds its class to the `:hover` inside the built page's (a selector no element
 * matches). Returns how many texts changed.
 */
export function rewriteStateSelectors(eventLists: readonly eventWithTime[][]): number {
  let rewritten = 0;
  const rewrite = (holder: Record<string, unknown> | null | undefined, key: string) => {
    const text = holder?.[key];
    if (typeof text !== 'string') return;
    const next = withStateSelectors(withHoverAttribute(text));
    if (next === text) return;
    holder![key] = next;
    rewritten++;
  };
  const visit = (root: unknown) =>
    forEachSerializedNode(root, (n) => {
      if (n.type === NodeType.Text && n.isStyle === true) rewrite(n as Record<string, unknown>, 'textContent');
      else if (n.type === NodeType.Element) rewrite(n.attributes, '_cssText');
    });
  const rules = (list: unknown) => {
    if (Array.isArray(list)) for (const r of list as (Record<string, unknown> | null)[]) rewrite(r, 'rule');
  };
  for (const events of eventLists) {
    for (const e of events) {
      if (e.type === EventType.FullSnapshot) {
        visit((e.data as { node?: unknown }).node);
        continue;
      }
      if (e.type !== EventType.IncrementalSnapshot) continue;
      const d = e.data as { source?: number; adds?: unknown; attributes?: unknown; styles?: unknown; replace?: unknown; replaceSync?: unknown };
      if (d.source === IncrementalSource.Mutation) {
        if (Array.isArray(d.adds)) for (const add of d.adds as ({ node?: unknown } | null)[]) visit(add?.node);
        if (Array.isArray(d.attributes)) for (const change of d.attributes as ({ attributes?: Record<string, unknown> } | null)[]) rewrite(change?.attributes, '_cssText');
      } else if (d.source === IncrementalSource.StyleSheetRule) {
        rules(d.adds);
        rewrite(d as Record<string, unknown>, 'replace');
        rewrite(d as Record<string, unknown>, 'replaceSync');
      } else if (d.source === IncrementalSource.AdoptedStyleSheet && Array.isArray(d.styles)) {
        for (const style of d.styles as ({ rules?: unknown } | null)[]) rules(style?.rules);
      }
    }
  }
  return rewritten;
}

