// Stylesheets the recorder serialized without some of their declarations (src/render/lost-css.ts):
// repaired where the loss needs no source, else taken again from the site where it still serves the
// same sheet. rustdoc's body font is such a declaration: without it every replay, rrweb's own
// included, draws the fallback font.
import type { eventWithTime } from '@posthog/rrweb-types';
import { hasCutLists, withListsRepeated } from '../src/render/cut-lists.js';
import { absolutizeUrls, holdsLostCss, isLink, LINKED_STYLESHEETS_PATH, lostCssOf, repairedCss, replaceUrls, stylesheetPage, type DocumentStylesheets, type LostCss } from '../src/render/lost-css.js';
import type { StylesheetReport } from '../src/render/player-protocol.js';
import { EventType, forEachSerializedNode, IncrementalSource, NodeType } from '../src/recording/rrweb-shape.js';

/**
 * At most this long for the pages' documents and their sheets, all told: Node fetched the documents
 * while Chromium started (asset-prefetch.ts), and a render waits for nothing else meanwhile.
 */
const RESTORE_TIMEOUT_MS = 2500;
/** A sheet bigger than this is left as recorded (the verification parses it twice). */
const MAX_SHEET_CHARS = 4_000_000;

/**
 * A candidate sheet: the site's text (url()s made absolute), and the sheet a recorder in this
 * browser would have recorded from it (its rules' cssText, parsed again), to compare with the
 * recorded one.
 */
interface SiteSheet {
  text: string;
  recordable: CSSStyleSheet;
}

/** A recorded text that lost declarations (lostCssOf), and for a linked sheet its own address when the recording has it. */
interface LostUse extends LostCss {
  href?: string;
}

const textOf = (use: LostUse) => use.holder[use.key] as string;

/**
 * Repairs, in place, the recorded stylesheet texts whose loss needs no source (repairedCss: linked
 * sheets, style elements, constructed sheets), then replaces the recorded text of each stylesheet
 * that lost declarations only the site can give back with the site's own text: a linked sheet's
 * (`_cssText`) and a style element's (its text node's `textContent`). rrweb drops the link's href
 * when it inlines a sheet, so a linked sheet's candidates are the stylesheets the page's document
 * links today, and, for a sheet that loaded after its link was recorded (its text comes in an
 * attribute change, rrweb's StylesheetManager), the href its link was recorded with; a style
 * element's are the style elements of the page's document. One is taken only
 * where it has the same rules as the recorded sheet and no declaration differs (sameRules): the
 * sheet the user had, not a later version of it. Anything else (the site unreachable or refused by
 * the network policy, the sheet changed, a page whose scripts add its links or write its styles, a
 * recording made by another browser whose serialization differs) leaves the recording as it is,
 * but for a transition's or animation's cut lists, which are then repeated as a guess (cut-lists.ts).
 */
export async function restoreLostStylesheets(eventLists: readonly eventWithTime[][]): Promise<StylesheetReport> {
  /** The lost sheets, by the page whose document links them. */
  const byPage = new Map<string, LostUse[]>();
  /** Distinct recorded texts repaired where they are (repairedCss). */
  const repaired = new Set<string>();
  /** Every recorded text, where it is, whose lists look cut (cut-lists.ts): the site's text, else a guess. */
  const cut: { holder: Record<string, unknown>; key: string; text: string }[] = [];
  const repair = (holder: Record<string, unknown>, key: string) => {
    const text = holder[key];
    if (typeof text !== 'string') return;
    const fixed = repairedCss(text);
    if (hasCutLists(fixed)) cut.push({ holder, key, text: fixed });
    if (fixed === text) return;
    repaired.add(text);
    holder[key] = fixed;
  };
  /** Lists repeated where the site did not give the text back (`verdicts`: recorded text to the site's). */
  const guessCut = (verdicts: ReadonlyMap<string, string | null>) => {
    for (const { holder, key, text } of cut) {
      if (verdicts.get(text) || holder[key] !== text) continue;
      holder[key] = withListsRepeated(text);
      repaired.add(text);
    }
  };
  for (const events of eventLists) {
    let page: string | null = null;
    /** Link elements recorded with their href (not inlined yet), by node id. */
    const linkHrefs = new Map<number, string>();
    const note = (use: LostUse) => {
      if (!page) return;
      const uses = byPage.get(page) ?? [];
      uses.push(use);
      byPage.set(page, uses);
    };
    const visit = (root: unknown) =>
      forEachSerializedNode(root, (n) => {
        if (n.type === NodeType.Text && n.isStyle === true) repair(n as Record<string, unknown>, 'textContent');
        if (n.type === NodeType.Element && n.attributes) repair(n.attributes, '_cssText');
        const lost = lostCssOf(n);
        if (lost) note(lost);
        if (n.type === NodeType.Element && n.attributes) {
          const href = n.attributes.href;
          if (typeof n.id === 'number' && typeof href === 'string' && /^https?:/i.test(href) && isLink(n.tagName)) linkHrefs.set(n.id, href);
        }
      });
    for (const e of events) {
      const data = e.data as { node?: unknown; source?: number; adds?: unknown; attributes?: unknown; href?: unknown; styles?: unknown };
      if (e.type === EventType.Meta) page = stylesheetPage(data.href);
      else if (e.type === EventType.FullSnapshot) {
        linkHrefs.clear();
        visit(data.node);
      } else if (e.type === EventType.IncrementalSnapshot && data.source === IncrementalSource.Mutation) {
        if (Array.isArray(data.adds)) for (const add of data.adds as ({ node?: unknown } | null)[]) visit(add?.node);
        if (Array.isArray(data.attributes)) {
          for (const change of data.attributes as ({ id?: unknown; attributes?: Record<string, unknown> } | null)[]) {
            const attrs = change?.attributes;
            if (attrs && typeof attrs === 'object') repair(attrs, '_cssText');
            // Only a link's: linkHrefs holds links alone.
            if (typeof change?.id !== 'number' || !attrs || typeof attrs !== 'object' || !linkHrefs.has(change.id)) continue;
            if (holdsLostCss(attrs)) note({ holder: attrs, key: '_cssText', inline: false, href: linkHrefs.get(change.id) });
          }
        }
      } else if (e.type === EventType.IncrementalSnapshot && data.source === IncrementalSource.AdoptedStyleSheet && Array.isArray(data.styles)) {
        // Constructed sheets (CSS-in-JS, web components) are recorded through the CSSOM too, rule by
        // rule; they have no text on the site to take again, but this loss needs none.
        for (const style of data.styles as ({ rules?: unknown } | null)[]) {
          if (!Array.isArray(style?.rules)) continue;
          for (const rule of style.rules as (Record<string, unknown> | null)[]) if (rule && typeof rule === 'object') repair(rule, 'rule');
        }
      }
    }
  }
  const lost = new Set<string>();
  for (const uses of byPage.values()) for (const use of uses) lost.add(textOf(use));
  if (!lost.size) {
    guessCut(new Map());
    return { lost: 0, restored: 0, repaired: repaired.size };
  }

  const signal = AbortSignal.timeout(RESTORE_TIMEOUT_MS);
  const sheets = new Map<string, Promise<SiteSheet | null>>();
  const sheetAt = (url: string) => {
    let got = sheets.get(url);
    if (!got) sheets.set(url, (got = fetchSheet(url, signal)));
    return got;
  };
  /** The site's text for each recorded text, once found; null where no candidate matched yet. */
  const verdicts = new Map<string, string | null>();
  const judge = (uses: LostUse[], candidates: (SiteSheet | null)[]) => {
    for (const use of uses) {
      const recorded = textOf(use);
      if (verdicts.get(recorded)) continue;
      const rec = parse(recorded);
      const match = rec && candidates.find((c) => c !== null && sameRules(rec.cssRules, c.recordable.cssRules));
      verdicts.set(recorded, match ? match.text : null);
    }
  };
  const unfound = (uses: LostUse[]) => uses.filter((u) => !verdicts.get(textOf(u)));
  // Page by page: the sheets late links were recorded with first, then the page's document. A
  // site's pages share their sheets, so the first page's document usually finds them all, and the
  // other documents are not asked for.
  for (const [page, uses] of byPage) {
    const direct = unfound(uses).filter((u) => u.href);
    if (direct.length) judge(direct, await Promise.all([...new Set(direct.map((u) => u.href!))].map(sheetAt)));
    const rest = unfound(uses);
    if (!rest.length) continue;
    const doc = await pageStylesheets(page, signal);
    const linked = rest.filter((u) => !u.inline);
    if (linked.length) judge(linked, await Promise.all(doc.links.map(sheetAt)));
    const inline = rest.filter((u) => u.inline);
    if (inline.length) judge(inline, doc.styles.map(siteSheet));
  }
  for (const uses of byPage.values()) {
    for (const use of uses) {
      const text = verdicts.get(textOf(use));
      if (text) use.holder[use.key] = text;
    }
  }
  guessCut(verdicts);
  let restored = 0;
  for (const text of verdicts.values()) if (text) restored++;
  return { lost: lost.size, restored, repaired: repaired.size };
}

/** The stylesheets `page`'s document links, in its order, and its style elements' text (Node reads the document: asset-proxy.ts). */
async function pageStylesheets(page: string, signal: AbortSignal): Promise<DocumentStylesheets> {
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((u): u is string => typeof u === 'string') : []);
  try {
    const res = await fetch(`${LINKED_STYLESHEETS_PATH}?page=${encodeURIComponent(page)}`, { signal });
    const doc = (await res.json()) as Partial<Record<keyof DocumentStylesheets, unknown>> | null;
    return { links: strings(doc?.links), styles: strings(doc?.styles) };
  } catch {
    return { links: [], styles: [] };
  }
}

async function fetchSheet(url: string, signal: AbortSignal): Promise<SiteSheet | null> {
  try {
    const res = await fetch(url, { credentials: 'omit', signal });
    if (!res.ok) return null;
    const source = await res.text();
    return siteSheet(absolutizeUrls(source, url));
  } catch {
    return null;
  }
}

/** A candidate from the site's text (url()s already absolute). */
function siteSheet(text: string): SiteSheet | null {
  if (text.length > MAX_SHEET_CHARS) return null;
  // Through the CSSOM and back, as the recorder took it: the same declarations lost, and values
  // the round trip changes (`white-space: initial` comes back as its longhands) changed alike.
  const sheet = parse(text);
  // Repaired as the recorded texts were (restoreLostStylesheets), or a sheet that lost both kinds
  // would never match.
  const recordable = sheet && parse(repairedCss(Array.from(sheet.cssRules, (r) => r.cssText).join('')));
  return recordable && { text, recordable };
}

function parse(css: string): CSSStyleSheet | null {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    return sheet;
  } catch {
    return null;
  }
}

/** url() values compare equal whatever address they hold: the recorder's absolute form is its own. */
function withoutUrls(s: string): string {
  return replaceUrls(s, () => 'url()');
}

function prelude(rule: CSSRule): string {
  const text = rule.cssText;
  const brace = text.indexOf('{');
  return withoutUrls(brace < 0 ? text : text.slice(0, brace));
}

/**
 * Whether two sheets parsed here hold the same rules in the same order, with the same selectors and
 * conditions and the same declarations (values and priorities; url()s aside, which the recorder made
 * absolute its own way).
 */
function sameRules(recorded: CSSRuleList, site: CSSRuleList): boolean {
  if (recorded.length !== site.length) return false;
  for (let i = 0; i < recorded.length; i++) {
    const a = recorded[i]!;
    const b = site[i]!;
    if (a.constructor !== b.constructor || prelude(a) !== prelude(b)) return false;
    const styleA = (a as { style?: CSSStyleDeclaration }).style;
    const styleB = (b as { style?: CSSStyleDeclaration }).style;
    if (styleA && styleB) {
      if (styleA.length !== styleB.length) return false;
      for (let j = 0; j < styleA.length; j++) {
        const name = styleA[j]!;
        if (withoutUrls(styleA.getPropertyValue(name)) !== withoutUrls(styleB.getPropertyValue(name))) return false;
        if (styleA.getPropertyPriority(name) !== styleB.getPropertyPriority(name)) return false;
      }
    }
    const rulesA = (a as { cssRules?: CSSRuleList }).cssRules;
    const rulesB = (b as { cssRules?: CSSRuleList }).cssRules;
    if (rulesA && rulesB && !sameRules(rulesA, rulesB)) return false;
  }
  return true;
}
