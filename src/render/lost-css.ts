// Recorded stylesheets that lost declarations, and where their text can be found again. Shared by
// Node (asset-prefetch.ts, asset-proxy.ts) and the player page (player/stylesheets.ts): no DOM, no Node.
import { NodeType, type SerializedNode } from '../recording/rrweb-shape.js';
import { hasCutLists } from './cut-lists.js';

/**
 * Recorders read a stylesheet back through the CSSOM (its rules' cssText), and Chromium serializes
 * some declarations as text no parser accepts, so the declaration is lost from the recording. Two
 * ways are known (Chromium 156; test/lost-css.test.ts records each with rrweb's recorder):
 * - a declaration with no value, as `padding-top: ;`: a shorthand whose value uses var()
 *   (`font: 1rem/1.5 var(--font-family)`) followed by one of its longhands in the same rule comes
 *   back as its longhands with empty values (CSS Custom Properties: they hold pending-substitution
 *   values; rrweb-io/rrweb#1322). rustdoc's body font is lost so. Only the site's own text can give
 *   it back. Custom properties (`--x: ;`) may be empty and are not matched;
 * - a CSS-wide keyword among other components, as `border-block: initial solid initial;`: both sides
 *   of `border-block` or `border-inline` set by their side shorthands to the same value with a part
 *   left implicit (`border-inline-start: 1px solid; border-inline-end: 1px solid`, or `none` on
 *   both, which mdBook's blockquote tags and the Rust Reference's notes set) come back as the
 *   two-sided shorthand with `initial` for each implicit part. That one is repaired where it is
 *   (repairedCss): an implicit part is its initial value, which the shorthand without it gives;
 * - a transition or animation whose shorter longhand lists were cut to one layer each
 *   (cut-lists.ts: mdBook's `transition: 100ms; transition-property: color, border-color, ...`).
 *   The text reads the same as a rule written so; the site's text says which, and where the site
 *   does not give it back, the lists are repeated as a guess (withListsRepeated).
 */
const EMPTY_DECLARATION = /(?:^|[\s;{}])-?[a-zA-Z][\w-]*\s*:\s*;/;
/** A declaration (not a custom property's) and its value. */
const DECLARATION = /[;{]\s*-?[a-zA-Z][\w-]*\s*:([^;{}]*)/g;
const WIDE_KEYWORDS = new Set(['initial', 'inherit', 'unset', 'revert', 'revert-layer']);
const PRIORITY = /\s*!\s*important\s*$/i;

/** A value's components (split at spaces: a function's arguments come apart, and join again the same). */
function components(value: string): { parts: string[]; priority: string } {
  const priority = PRIORITY.exec(value)?.[0] ?? '';
  const parts = value.slice(0, value.length - priority.length).trim().split(/\s+/).filter(Boolean);
  return { parts, priority };
}

function mixesWideKeyword(css: string): boolean {
  // Most sheets say `inherit` somewhere, alone: only a keyword next to another component is looked at closely.
  if (!/(?:initial|inherit|unset|revert)[ \t\n]+[^\s;!}]|[^\s:;{][ \t\n]+(?:initial|inherit|unset|revert)\b/i.test(css)) return false;
  for (const m of css.matchAll(DECLARATION)) {
    const { parts } = components(m[1]!);
    if (parts.length > 1 && parts.some((p) => WIDE_KEYWORDS.has(p.toLowerCase()))) return true;
  }
  return false;
}

/**
 * Whether a recorded stylesheet's text lost declarations to the CSSOM's serialization that only the
 * site's own text can give back (what repairedCss repairs aside).
 */
export function hasLostDeclarations(css: string): boolean {
  return EMPTY_DECLARATION.test(css) || mixesWideKeyword(repairedCss(css)) || hasCutLists(css);
}

const BORDER_PAIR = /([;{]\s*border-(?:block|inline)\s*:)([^;{}]*)/gi;

/**
 * The text with each `border-block` and `border-inline` value that holds `initial` among other
 * components written without those: the side shorthands' implicit parts, which Chromium serializes
 * as `initial` (above) and which are initial without being written (`initial solid initial` is
 * `solid`; `initial initial`, both sides `none`, is `none`). Any other CSS-wide keyword among them
 * is left as it is. The same string when there is nothing to repair.
 */
export function repairedCss(css: string): string {
  // Two scans, not `border-block\s*:[^;{}]*initial`: that one scans on from every `border-block:`
  // and fails, quadratic in a recording's text of them repeated.
  if (!/border-(?:block|inline)/i.test(css) || !/initial/i.test(css)) return css;
  return css.replace(BORDER_PAIR, (whole, head: string, value: string) => {
    const { parts, priority } = components(value);
    if (parts.length < 2) return whole;
    const kept = parts.filter((p) => p.toLowerCase() !== 'initial');
    if (kept.length === parts.length || kept.some((p) => WIDE_KEYWORDS.has(p.toLowerCase()))) return whole;
    return `${head} ${kept.length ? kept.join(' ') : 'none'}${priority}`;
  });
}

/**
 * Where a recorded node holds stylesheet text that lost declarations, and what kind of sheet it is:
 * - a linked sheet rrweb inlined (`_cssText` on the link). rrweb drops such a link's href, so the
 *   sheet can be found again only among the stylesheets the page's document links;
 * - a style element's text (its text node's `textContent`): rrweb reads a style's rules back through
 *   the CSSOM too when the text is the element's only child, and its own text can be found again in
 *   the page's document when the server wrote it there;
 * - a style element whose rules a script inserted (`_cssText` on the style, no text).
 * `inline`: a style element's, whose candidates are the document's style elements (documentStylesheets).
 */
export interface LostCss {
  holder: Record<string, unknown>;
  key: '_cssText' | 'textContent';
  inline: boolean;
}

export function lostCssOf(node: SerializedNode): LostCss | undefined {
  if (node.type === NodeType.Text) {
    return node.isStyle === true && typeof node.textContent === 'string' && hasLostDeclarations(node.textContent)
      ? { holder: node as Record<string, unknown>, key: 'textContent', inline: true }
      : undefined;
  }
  if (node.type !== NodeType.Element || !holdsLostCss(node.attributes)) return undefined;
  const tag = typeof node.tagName === 'string' ? node.tagName.toLowerCase() : '';
  if (tag !== 'link' && tag !== 'style') return undefined;
  return { holder: node.attributes!, key: '_cssText', inline: tag === 'style' };
}

/** Whether recorded attributes (a node's, or an attribute change's) carry a `_cssText` that lost declarations. */
export function holdsLostCss(attributes: Record<string, unknown> | undefined): boolean {
  const css = attributes?._cssText;
  return typeof css === 'string' && hasLostDeclarations(css);
}

export function isLink(tagName: unknown): boolean {
  return typeof tagName === 'string' && tagName.toLowerCase() === 'link';
}

/**
 * The address asked for the document of a recorded page (its Meta event's href) to read which
 * stylesheets it links: without query or fragment, which a static page's links do not depend on and
 * which may carry what a visitor's session alone should send (tokens, search terms). Null for
 * anything but http(s).
 */
export function stylesheetPage(href: unknown): string | null {
  if (typeof href !== 'string') return null;
  try {
    const url = new URL(href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    url.search = '';
    url.hash = '';
    return url.href;
  } catch {
    return null;
  }
}

/** Where the player asks Node which stylesheets a page's document links and holds (asset-proxy.ts answers). */
export const LINKED_STYLESHEETS_PATH = '/linked-stylesheets';

/** What a page's document says of its stylesheets: the sheets it links, and the text of its `<style>` elements. */
export interface DocumentStylesheets {
  links: string[];
  styles: string[];
}

/** Stylesheets taken from one document at most, and how much of it is read. */
const MAX_LINKS = 24;
const MAX_STYLES = 64;
const MAX_DOCUMENT_CHARS = 2_000_000;
const MAX_TAG_CHARS = 8192;

/**
 * The stylesheets an HTML document links (`<link rel="stylesheet" href>`), absolute against its
 * address or its `<base href>`, in its order, without repeats; and the text of its `<style>`
 * elements, url()s made absolute against its address as the recorder made them. Read with patterns,
 * not parsed: a tag inside a comment or a script may be taken too, which costs a candidate that does
 * not match.
 */
export function documentStylesheets(html: string, page: string): DocumentStylesheets {
  const doc = html.length > MAX_DOCUMENT_CHARS ? html.slice(0, MAX_DOCUMENT_CHARS) : html;
  let base = page;
  const [baseTag] = tagsOf(doc, 'base');
  const baseHref = baseTag && attribute(baseTag.tag, 'href');
  if (baseHref) base = absolute(baseHref, page) ?? page;
  const links: string[] = [];
  for (const { tag } of tagsOf(doc, 'link')) {
    if (!/(?:^|\s)stylesheet(?:\s|$)/i.test(attribute(tag, 'rel') ?? '')) continue;
    const href = attribute(tag, 'href');
    const url = href === null ? null : absolute(href, base);
    if (url && /^https?:/i.test(url) && !links.includes(url)) links.push(url);
    if (links.length >= MAX_LINKS) break;
  }
  const styles: string[] = [];
  const lower = doc.toLowerCase();
  for (const { end } of tagsOf(doc, 'style')) {
    // A style element's text is raw text in HTML: no entities to decode, and it ends at the first </style.
    const close = lower.indexOf('</style', end);
    if (close < 0) break;
    const css = doc.slice(end, close);
    // Only a sheet with a var(), a transition or an animation can lose what the site alone gives back (hasLostDeclarations): the others are not sent.
    if (!/var\(|transition|animation/i.test(css)) continue;
    const text = absolutizeUrls(css, base);
    if (!styles.includes(text)) styles.push(text);
    if (styles.length >= MAX_STYLES) break;
  }
  return { links, styles };
}

/**
 * The start tags `<name ...>` of an HTML text in order (the tag's text, and where it ends), found
 * with indexOf: a pattern such as `<link\b[^>]*>` scans on from every `<link` and fails where no `>`
 * follows, quadratic in a document of them repeated. A tag longer than MAX_TAG_CHARS is left out
 * (reading its attributes by pattern would cost as much).
 */
function* tagsOf(html: string, name: string): Generator<{ tag: string; end: number }> {
  const lower = html.toLowerCase();
  const open = `<${name}`;
  for (let at = lower.indexOf(open); at >= 0; at = lower.indexOf(open, at + 1)) {
    const next = lower[at + open.length];
    // `<linked>` is not `<link>`: the name ends at a space, `/` or `>`.
    if (next !== undefined && !/[\s/>]/.test(next)) continue;
    const close = html.indexOf('>', at);
    if (close < 0) return;
    if (close - at < MAX_TAG_CHARS) yield { tag: html.slice(at, close + 1), end: close + 1 };
    at = close;
  }
}

/**
 * A stylesheet's url()s made absolute against `href`, as the recorder made the recorded ones (its
 * own address for a linked sheet, the document's for a style element's text).
 */
export function absolutizeUrls(css: string, href: string): string {
  return replaceUrls(css, (whole, inner) => {
    const m = /^\s*(['"]?)(.*?)\1\s*$/s.exec(inner);
    const quote = m?.[1] ?? '';
    const url = m?.[2] ?? inner;
    if (/^(?:[a-z][a-z0-9+.-]*:|#)/i.test(url)) return whole;
    try {
      return `url(${quote}${new URL(url, href).href}${quote})`;
    } catch {
      return whole;
    }
  });
}

/**
 * Each `url(...)` of a stylesheet text (to the first `)`) through `replace`, found with indexOf: a
 * pattern such as `url\([^)]*\)` scans on from every `url(` and fails where no `)` follows, which is
 * quadratic in a text of `url(` repeated.
 */
export function replaceUrls(css: string, replace: (whole: string, inner: string) => string): string {
  const lower = css.toLowerCase();
  let out = '';
  let from = 0;
  for (let at = lower.indexOf('url(', from); at >= 0; at = lower.indexOf('url(', from)) {
    let open = at + 4;
    while (open < css.length && /\s/.test(css[open]!)) open++;
    const quote = css[open] === '"' || css[open] === "'" ? css[open]! : '';
    // A quoted address may hold `)` (an SVG's `rgb(0,0,0)` in a data: URL): its `)` follows the quote.
    const end = quote ? css.indexOf(quote, open + 1) : open;
    const close = end < 0 ? -1 : css.indexOf(')', end + (quote ? 1 : 0));
    // None after this one: none after any later `url(` either.
    if (close < 0) break;
    out += css.slice(from, at) + replace(css.slice(at, close + 1), css.slice(at + 4, close));
    from = close + 1;
  }
  return from === 0 ? css : out + css.slice(from);
}

function attribute(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3] ?? '').replace(/&amp;/gi, '&').trim() : null;
}

function absolute(href: string, base: string): string | null {
  try {
    return new URL(href, base).href;
  } catch {
    return null;
  }
}
