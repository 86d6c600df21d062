// Layered shorthands (transition, animation) the CSSOM serialized with their shorter lists cut short.
// Shared by Node and the player page through lost-css.ts: no DOM, no Node.
//
// A shorthand's longhands are lists, and a shorter list repeats to the longest one's length
// (`transition: 100ms; transition-property: color, border-color, background-color` is three
// transitions of 100 ms: mdBook's code-block buttons). Chromium writes such a rule as one layer per
// item of the longest list, each with only the items its lists have (`transition: color 100ms,
// border-color, background-color`), so parsed again the shorter lists hold their initial values from
// the second layer on: two of the three transitions take 0 s (Chromium 156; test/lost-css.test.ts
// records it with rrweb's recorder). The text cannot tell that apart from a rule written so
// (`transition: opacity 0.3s, visibility` comes back as it was), so the site's own text is asked
// first (lost-css.ts) and withListsRepeated is the guess where the site does not give it back.

const LAYERED = /([;{]\s*(transition|animation)\s*:)([^;{}]*)/gi;
const PRIORITY = /\s*!\s*important\s*$/i;

/** Keywords a layer of either shorthand can hold besides the property or animation name. */
const KEYWORDS = new Set([
  'ease', 'linear', 'ease-in', 'ease-out', 'ease-in-out', 'step-start', 'step-end', 'normal', 'allow-discrete',
  'infinite', 'reverse', 'alternate', 'alternate-reverse', 'none', 'forwards', 'backwards', 'both', 'running', 'paused',
  'initial', 'inherit', 'unset', 'revert', 'revert-layer',
]);

/** `text` split at `separator` outside parentheses (a timing function's arguments stay whole), pieces trimmed, empty ones dropped. */
function splitTop(text: string, separator: RegExp): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && separator.test(c)) {
      pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces.map((p) => p.trim()).filter(Boolean);
}

/** A layer that is one name alone (a property or an animation's), which only a cut list leaves. */
function bare(layer: string[]): boolean {
  return layer.length === 1 && /^-?[a-z_][\w-]*$/i.test(layer[0]!) && !KEYWORDS.has(layer[0]!.toLowerCase());
}

/**
 * A layer without its name: a transition's property comes first when written (Chromium leaves out
 * `all`), an animation's name last (Chromium writes every part of an animation layer).
 */
function withoutName(kind: string, layer: string[]): string[] {
  if (kind === 'animation') return layer.slice(0, -1);
  return bare(layer.slice(0, 1)) ? layer.slice(1) : layer;
}

/**
 * The repeated layers of one value, or null when it is not a cut list: some layers with more than a
 * name, then at least one name alone. Each name alone takes the other parts of the layer its place
 * repeats (layer i of k written ones: i mod k).
 */
function repeatedLayers(kind: string, value: string): string | null {
  const priority = PRIORITY.exec(value)?.[0] ?? '';
  const layers = splitTop(value.slice(0, value.length - priority.length), /,/).map((l) => splitTop(l, /\s/));
  const written = layers.findIndex(bare);
  if (written < 1 || !layers.slice(written).every(bare)) return null;
  const parts = layers.map((layer, i) => {
    if (i < written) return layer.join(' ');
    const rest = withoutName(kind, layers[i % written]!);
    return kind === 'animation' ? [...rest, layer[0]].join(' ') : [layer[0], ...rest].join(' ');
  });
  return `${parts.join(', ')}${priority}`;
}

/** Whether a stylesheet's text holds a transition or animation whose lists look cut (see above). */
export function hasCutLists(css: string): boolean {
  // Texts come from recordings: every pattern here runs in time linear in their length (LAYERED's
  // matches consume what they scan; a pattern that scans on and fails, as `transition\s*:[^;{}]*,`
  // did, is quadratic on `transition:` repeated).
  if (!/transition|animation/i.test(css)) return false;
  for (const m of css.matchAll(LAYERED)) if (repeatedLayers(m[2]!.toLowerCase(), m[3]!)) return true;
  return false;
}

/**
 * The text with each cut list repeated as the longhands it came from repeat: `transition: color
 * 100ms, border-color, background-color` as `color 100ms, border-color 100ms, background-color
 * 100ms`. The same string when nothing looks cut.
 */
export function withListsRepeated(css: string): string {
  if (!hasCutLists(css)) return css;
  return css.replace(LAYERED, (whole, head: string, kind: string, value: string) => {
    const repeated = repeatedLayers(kind.toLowerCase(), value);
    return repeated === null ? whole : `${head} ${repeated}`;
  });
}
