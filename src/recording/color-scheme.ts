import { EventType, isRecord, type RrwebEvent } from './types.js';

/**
 * The colour scheme the user's browser preferred, as far as the recording shows it. rrweb records no
 * media features, but pages that follow `prefers-color-scheme` in script mark their root with it
 * (`data-theme="dark"`, `class="dark"`, `style="color-scheme: dark"`) or declare it
 * (`<meta name="color-scheme" content="dark">`), and the same pages' `@media (prefers-color-scheme)`
 * rules must then agree with that mark. Without a mark the page looked the same either way, or we
 * cannot know: light, the common default.
 */
export function inferColorScheme(events: RrwebEvent[]): 'light' | 'dark' {
  const snapshot = events.find((e) => e.type === EventType.FullSnapshot);
  if (!snapshot || !isRecord(snapshot.data)) return 'light';
  const html = childElements(snapshot.data.node).find((n) => n.tagName === 'html');
  if (!html) return 'light';
  const marks = [html, ...childElements(html).filter((n) => n.tagName === 'body')].map((n) => schemeOfAttributes(n.attributes));
  const meta = childElements(childElements(html).find((n) => n.tagName === 'head')).find(
    (n) => n.tagName === 'meta' && String(n.attributes['name'] ?? '').toLowerCase() === 'color-scheme',
  );
  const declared = meta ? schemeOfList(String(meta.attributes['content'] ?? '')) : undefined;
  return marks.find((m) => m !== undefined) ?? declared ?? 'light';
}

interface SnapshotElement {
  tagName: string;
  attributes: Record<string, unknown>;
  childNodes: unknown[];
}

function childElements(node: unknown): SnapshotElement[] {
  if (!isRecord(node) || !Array.isArray(node.childNodes)) return [];
  return node.childNodes.filter(
    (c): c is SnapshotElement => isRecord(c) && typeof c.tagName === 'string' && isRecord(c.attributes) && Array.isArray(c.childNodes),
  ).map((c) => ({ ...c, tagName: c.tagName.toLowerCase() }));
}

const DARK = /^(dark|dark-mode|theme-dark|dark-theme)$/i;
const LIGHT = /^(light|light-mode|theme-light|light-theme)$/i;

function schemeOfAttributes(attributes: Record<string, unknown>): 'light' | 'dark' | undefined {
  const style = String(attributes['style'] ?? '');
  const inline = /color-scheme\s*:\s*([a-z ]+)/i.exec(style);
  if (inline) {
    const s = schemeOfList(inline[1]!);
    if (s) return s;
  }
  for (const name of ['data-theme', 'data-color-scheme', 'data-mode', 'data-bs-theme', 'class']) {
    const tokens = String(attributes[name] ?? '').split(/\s+/);
    if (tokens.some((t) => DARK.test(t))) return 'dark';
    if (tokens.some((t) => LIGHT.test(t))) return 'light';
  }
  return undefined;
}

/** `color-scheme` values: "dark" alone means dark; "light dark" leaves it to the preference. */
function schemeOfList(value: string): 'light' | 'dark' | undefined {
  const tokens = value.toLowerCase().split(/\s+/).filter(Boolean);
  if (tokens.includes('dark') && !tokens.includes('light')) return 'dark';
  if (tokens.includes('light') && !tokens.includes('dark')) return 'light';
  return undefined;
}
