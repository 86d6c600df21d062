// SVG's own animations (SMIL: `<animate>`, `<animateTransform>`, `<animateMotion>`, `<set>`), which
// many loading spinners are made of (the SVG spinner collections, react-loader-spinner's): they run
// in the replay's document with no script, on the frame clock Node drives, but no page API lists
// them with the CSS ones (`getAnimations()` does not), so the player did not know they moved and
// drew no picture while only they did: a spinner stood still in the GIF, which reads as an app
// that froze. Nor did they run at all: an SVG's timeline starts when its document has loaded, and
// rrweb builds the replay's document between a `document.open()` and no `close()`, so it stays
// "loading" for good. The player closes it once it holds SMIL animations (startSmil), and reports
// the ones running for the motion report (runningSmil, player.ts motion()).
const SVG_NS = 'http://www.w3.org/2000/svg';
const SMIL_TAGS = ['animate', 'animateTransform', 'animateMotion', 'set'];
/** Animation elements looked at, at most, per document: a hostile page must not make every step long. */
const ELEMENTS_MAX = 2_000;

export interface SmilRun {
  /** The animated element: what shows the motion. */
  target: Element;
  /** The simple duration in ms, for one that ends; null for one that repeats without end. */
  finiteMs: number | null;
  /** Ms of its timeline until it begins, for one waiting for its begin time; 0 for one running. */
  startsInMs: number;
}

/** The part of SVGAnimationElement read here (the replay's elements are of another realm). */
interface AnimationElementLike extends Element {
  targetElement: Element | null;
  ownerSVGElement: { getCurrentTime(): number; animationsPaused(): boolean } | null;
  getStartTime(): number;
  getSimpleDuration(): number;
}

/** Seconds a SMIL repeat attribute allows, or Infinity for `indefinite`, or null where it is not set or not read. */
function repeatOf(el: Element): number | null {
  const count = el.getAttribute('repeatCount')?.trim();
  const dur = el.getAttribute('repeatDur')?.trim();
  if (count === 'indefinite' || dur === 'indefinite') return Infinity;
  const n = count ? Number(count) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** Whether `doc` holds any SMIL animation element. */
function hasSmil(doc: Document): boolean {
  if (doc.getElementsByTagNameNS(SVG_NS, 'svg').length === 0) return false;
  return SMIL_TAGS.some((tag) => doc.getElementsByTagNameNS(SVG_NS, tag).length > 0);
}

/**
 * Lets the SVG timelines of `doc` start: closes the document rrweb built and left open, once it
 * holds a SMIL animation (nothing else is left to parse: rrweb builds with the DOM; the document
 * then loads as a page does, its timelines starting then). A page without one is left as rrweb
 * leaves it. True when it closed the document.
 *
 * The parser `document.open()` started has seen no doctype (rrweb appends the recorded one as a
 * node), and a parser that ends without one puts its document in quirks mode: closing alone turned
 * a standards page into a quirks one, with the layout and selector matching that go with it (Swagger
 * UI's responses table lost its markdown styles and moved by 12 px, from the moment its loading
 * spinner was added). A document still in standards mode is given a doctype to parse first, so it
 * stays in the mode its earlier frames were drawn in; one rrweb put in quirks mode (the user's page
 * was) is closed as it is.
 */
export function startSmil(doc: Document): boolean {
  if (doc.readyState !== 'loading' || !hasSmil(doc)) return false;
  if (doc.compatMode === 'CSS1Compat') doc.write('<!DOCTYPE html>');
  doc.close();
  return true;
}

/**
 * The SMIL animations of `doc` that run now (an interval has begun and not ended) or wait for their
 * interval's begin, on a timeline not paused. Where they are on screen is for the caller to judge.
 */
export function runningSmil(doc: Document): SmilRun[] {
  const out: SmilRun[] = [];
  // Each step: one collection's length on a page without SVG, the animation elements' own otherwise.
  if (doc.getElementsByTagNameNS(SVG_NS, 'svg').length === 0) return out;
  let seen = 0;
  for (const tag of SMIL_TAGS) {
    for (const node of Array.from(doc.getElementsByTagNameNS(SVG_NS, tag))) {
      if (++seen > ELEMENTS_MAX) return out;
      const el = node as unknown as AnimationElementLike;
      const svg = el.ownerSVGElement;
      const target = el.targetElement;
      if (!svg || !target || svg.animationsPaused()) continue;
      let start: number;
      try {
        // Throws where the element has no current interval: not begun, or ended for good.
        start = el.getStartTime();
      } catch {
        continue;
      }
      const now = svg.getCurrentTime();
      const startsInMs = Math.max(0, (start - now) * 1000);
      let simple: number;
      try {
        simple = el.getSimpleDuration();
      } catch {
        // `dur="indefinite"` or none: a `<set>` or a value held, no motion after it starts.
        continue;
      }
      const repeat = repeatOf(el);
      if (repeat === Infinity) {
        out.push({ target, finiteMs: null, startsInMs });
        continue;
      }
      // An `end` attribute can stop it earlier; the interval's own end is a bound either way.
      if (now >= start + simple * (repeat ?? 1)) continue;
      out.push({ target, finiteMs: simple * 1000, startsInMs });
    }
  }
  return out;
}
