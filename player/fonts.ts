// A built page's web fonts, loaded before anything lays it out (Player.seekFontsFirst). Laid out
// first with fallback fonts, a page is laid out again, whole, when they come: a rustdoc Vec page
// 280-320 ms each time (BENCHMARKS.md stop 32), the Rust Reference's print page 1.3 s.

/** Elements with text whose font is read before a built page's first layout. */
const FONT_SAMPLE_MAX = 3000;
/** Text nodes walked at most to find them: a page of millions of blank text nodes costs a bounded walk. */
const FONT_WALK_MAX = 20_000;
/** The text FontFaceSet.load is asked to draw: faces for other scripts are left to layout. */
const FONT_SAMPLE_TEXT = 'a';
/** Declared faces loaded at most when the page's styles cannot be read without a layout. */
const DECLARED_FACES_MAX = 24;
/** Style rules looked through at most for a container query. */
const RULES_MAX = 20_000;

/**
 * Loads the web fonts the built page's text asks for, within the deadline (ms, performance.now()).
 * Two ways:
 * - the font of each element holding text (at most FONT_SAMPLE_MAX of them, in document order) is
 *   read from its computed style, which the layout to come needs anyway, and FontFaceSet.load picks
 *   the faces as layout would. Loading every face that could draw Latin text instead cost more than
 *   the second layout it saves on small pages (mdBook, 11 faces declared, 3 used: stop 32);
 * - on a page whose styles hold container queries, computing any style lays the page out (Chromium
 *   interleaves the two for size containers): the Rust Reference's rules are containers, and reading
 *   the first element's font laid its print page out, 1.3 s, with fallback fonts. There every
 *   declared face that can draw Latin text is loaded instead (at most DECLARED_FACES_MAX), which
 *   touches no style.
 */
export async function loadPageFonts(doc: Document, deadline: number): Promise<void> {
  const view = doc.defaultView;
  if (!doc.fonts || !view || !doc.body || doc.fonts.size === 0) return;
  const loads = queriesContainers(doc) ? declaredLatinFaces(doc).map((face) => face.load()) : sampledFonts(doc, view).map((f) => doc.fonts.load(f, FONT_SAMPLE_TEXT));
  const left = deadline - performance.now();
  if (left <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(loads.map((l) => l.catch(() => {}))), new Promise((r) => (timer = setTimeout(r, left)))]);
  clearTimeout(timer);
}

function sampledFonts(doc: Document, view: Window): string[] {
  const fonts = new Set<string>();
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  let last: Element | null = null;
  // Two bounds: the elements read, and the text nodes walked (blank ones, and further ones in the same element, are walked but not read).
  for (let t = walker.nextNode(), n = 0, seen = 1; t && n < FONT_SAMPLE_MAX && seen < FONT_WALK_MAX; t = walker.nextNode(), seen++) {
    const el = t.parentElement;
    if (!el || el === last || !t.nodeValue?.trim()) continue;
    last = el;
    n++;
    const cs = view.getComputedStyle(el);
    if (cs.display === 'none') continue;
    fonts.add(`${cs.fontStyle} ${cs.fontWeight} 16px ${cs.fontFamily}`);
  }
  return [...fonts];
}

/**
 * Whether the document's stylesheets (and constructed sheets) hold a container query. Read through
 * the CSSOM, which needs no style; a sheet another origin serves cannot be read and is passed over.
 */
function queriesContainers(doc: Document): boolean {
  const sheets: CSSStyleSheet[] = [...Array.from(doc.styleSheets), ...(doc.adoptedStyleSheets ?? [])];
  let budget = RULES_MAX;
  const holds = (rules: CSSRuleList): boolean => {
    for (const rule of Array.from(rules)) {
      if (--budget < 0) return false;
      // The iframe's own CSSContainerRule, not this window's: compared by what it has.
      if ('containerQuery' in rule) return true;
      const inner = (rule as { cssRules?: CSSRuleList }).cssRules;
      if (inner && holds(inner)) return true;
    }
    return false;
  };
  for (const sheet of sheets) {
    let rules: CSSRuleList;
    try {
      rules = sheet.cssRules;
    } catch {
      continue;
    }
    if (holds(rules)) return true;
  }
  return false;
}

/** The declared faces not loaded yet whose unicode-range holds FONT_SAMPLE_TEXT, in declaration order. */
function declaredLatinFaces(doc: Document): FontFace[] {
  const code = FONT_SAMPLE_TEXT.codePointAt(0)!;
  const out: FontFace[] = [];
  for (const face of Array.from(doc.fonts as unknown as Iterable<FontFace>)) {
    if (out.length >= DECLARED_FACES_MAX) break;
    if (face.status === 'unloaded' && rangeHolds(face.unicodeRange, code)) out.push(face);
  }
  return out;
}

/** Whether a CSS unicode-range (`U+0-7F, U+4??`) holds `code`; one that cannot be read is taken to. */
function rangeHolds(range: string, code: number): boolean {
  for (const part of range.split(',')) {
    const m = /^\s*u\+([0-9a-f?]{1,6})(?:-([0-9a-f]{1,6}))?\s*$/i.exec(part);
    if (!m) return true;
    const lo = parseInt(m[1]!.replace(/\?/g, '0'), 16);
    const hi = m[2] !== undefined ? parseInt(m[2], 16) : parseInt(m[1]!.replace(/\?/g, 'f'), 16);
    if (code >= lo && code <= hi) return true;
  }
  return false;
}
