// Stylesheets the recorder serialized without some of their declarations (src/render/lost-css.ts),
// taken again from the site where it still serves the same sheet. rustdoc's body font is such a
// declaration: without it every replay, rrweb's own included, draws the fallback font.
import type { eventWithTime } from '@posthog/rrweb-types';
import { holdsLostCss, isLink, isLostStylesheet, LINKED_STYLESHEETS_PATH, stylesheetPage } from '../src/render/lost-css.js';
import type { StylesheetReport } from '../src/render/player-protocol.js';
import { EventType, IncrementalSource, NodeType, type SerializedNode } from '../src/recording/rrweb-shape.js';

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

/** A recorded text that lost declarations: where it is held, and the sheet's own address when the recording has it. */
interface LostUse {
  attrs: Record<string, unknown>;
  href?: string;
}

/**
 * Replaces, in place, the recorded text (`_cssText`) of each linked stylesheet that lost
 * declarations with the site's own text. rrweb drops the link's href when it inlines a sheet, so
 * the candidates are the stylesheets the page's document links today, and, for a sheet that loaded
 * after its link was recorded (its text comes in an attribute change, rrweb's StylesheetManager),
 * the href its link was recorded with. One is taken only where it has the same rules as the
 * recorded sheet and no declaration differs (sameRules): the sheet the user had, not a later
 * version of it. Anything else (the site unreachable or refused by the network policy, the sheet
 * changed, a page whose scripts add its links, a recording made by another browser whose
 * serialization differs) leaves the recording as it is.
 */
export async function restoreLostStylesheets(eventLists: readonly eventWithTime[][]): Promise<StylesheetReport> {
  /** The lost sheets, by the page whose document links them. */
  const byPage = new Map<string, LostUse[]>();
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
    const visit = (node: unknown) => {
      const stack = [node as SerializedNode];
      while (stack.length) {
        const n = stack.pop();
        if (typeof n !== 'object' || n === null) continue;
        if (n.type === NodeType.Element && n.attributes) {
          if (isLostStylesheet(n.tagName, n.attributes)) note({ attrs: n.attributes });
          const href = n.attributes.href;
          if (typeof n.id === 'number' && typeof href === 'string' && /^https?:/i.test(href) && isLink(n.tagName)) linkHrefs.set(n.id, href);
        }
        // Not spread into push: a snapshot can hold more siblings than a call takes arguments.
        if (Array.isArray(n.childNodes)) for (const child of n.childNodes) stack.push(child);
      }
    };
    for (const e of events) {
      const data = e.data as { node?: unknown; source?: number; adds?: unknown; attributes?: unknown; href?: unknown };
      if (e.type === EventType.Meta) page = stylesheetPage(data.href);
      else if (e.type === EventType.FullSnapshot) {
        linkHrefs.clear();
        visit(data.node);
      } else if (e.type === EventType.IncrementalSnapshot && data.source === IncrementalSource.Mutation) {
        if (Array.isArray(data.adds)) for (const add of data.adds as ({ node?: unknown } | null)[]) visit(add?.node);
        if (Array.isArray(data.attributes)) {
          for (const change of data.attributes as ({ id?: unknown; attributes?: Record<string, unknown> } | null)[]) {
            const attrs = change?.attributes;
            // Only a link's: linkHrefs holds links alone.
            if (typeof change?.id !== 'number' || !attrs || typeof attrs !== 'object' || !linkHrefs.has(change.id)) continue;
            if (holdsLostCss(attrs)) note({ attrs, href: linkHrefs.get(change.id) });
          }
        }
      }
    }
  }
  const lost = new Set<string>();
  for (const uses of byPage.values()) for (const use of uses) lost.add(use.attrs._cssText as string);
  if (!lost.size) return { lost: 0, restored: 0 };

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
    for (const { attrs } of uses) {
      const recorded = attrs._cssText as string;
      if (verdicts.get(recorded)) continue;
      const rec = parse(recorded);
      const match = rec && candidates.find((c) => c !== null && sameRules(rec.cssRules, c.recordable.cssRules));
      verdicts.set(recorded, match ? match.text : null);
    }
  };
  const unfound = (uses: LostUse[]) => uses.filter((u) => !verdicts.get(u.attrs._cssText as string));
  // Page by page: the sheets late links were recorded with first, then the page's document. A
  // site's pages share their sheets, so the first page's document usually finds them all, and the
  // other documents are not asked for.
  for (const [page, uses] of byPage) {
    const direct = unfound(uses).filter((u) => u.href);
    if (direct.length) judge(direct, await Promise.all([...new Set(direct.map((u) => u.href!))].map(sheetAt)));
    const rest = unfound(uses);
    if (rest.length) judge(rest, await Promise.all((await linkedSheets(page, signal)).map(sheetAt)));
  }
  for (const uses of byPage.values()) {
    for (const { attrs } of uses) {
      const text = verdicts.get(attrs._cssText as string);
      if (text) attrs._cssText = text;
    }
  }
  let restored = 0;
  for (const text of verdicts.values()) if (text) restored++;
  return { lost: lost.size, restored };
}

/** The stylesheets `page`'s document links, in its order (Node reads the document: asset-proxy.ts). */
async function linkedSheets(page: string, signal: AbortSignal): Promise<string[]> {
  try {
    const res = await fetch(`${LINKED_STYLESHEETS_PATH}?page=${encodeURIComponent(page)}`, { signal });
    const urls: unknown = await res.json();
    return Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    return [];
  }
}

async function fetchSheet(url: string, signal: AbortSignal): Promise<SiteSheet | null> {
  try {
    const res = await fetch(url, { credentials: 'omit', signal });
    if (!res.ok) return null;
    const source = await res.text();
    if (source.length > MAX_SHEET_CHARS) return null;
    const text = absolutize(source, url);
    // Through the CSSOM and back, as the recorder took it: the same declarations lost, and values
    // the round trip changes (`white-space: initial` comes back as its longhands) changed alike.
    const sheet = parse(text);
    const recordable = sheet && parse(Array.from(sheet.cssRules, (r) => r.cssText).join(''));
    return recordable && { text, recordable };
  } catch {
    return null;
  }
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

/** The sheet's url()s made absolute against its own address, as the recorder made the recorded ones. */
function absolutize(css: string, href: string): string {
  return css.replace(/url\(\s*(['"]?)(.*?)\1\s*\)/gi, (whole, quote: string, url: string) => {
    if (/^(?:[a-z][a-z0-9+.-]*:|#)/i.test(url)) return whole;
    try {
      return `url(${quote}${new URL(url, href).href}${quote})`;
    } catch {
      return whole;
    }
  });
}

/** url() values compare equal whatever address they hold: the recorder's absolute form is its own. */
function withoutUrls(s: string): string {
  return s.replace(/url\([^)]*\)/gi, 'url()');
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
