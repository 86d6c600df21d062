// A page in quirks or limited-quirks mode whose doctype says so. A doctype of HTML 4.01
// Transitional without its system identifier (and the other legacy ones) puts a page in quirks mode,
// as no doctype at all does: tables and blocks of percentage height take their share of the
// viewport, tables do not inherit font sizes. rrweb records the mode (`compatMode` on the serialized
// document), but its rebuild writes a doctype to the replay's parser only when the document's first
// node is not one, and appends the recorded doctype as a node, which leaves the parser's mode alone:
// such a page was replayed in standards mode, laid out otherwise than the user saw it (SSIM 0.70 on a
// page of two tables and a block). The doctype is left out of such a document, so that rrweb writes
// its own quirks doctype first, before any node or stylesheet (a document that changes mode later
// matches the classes of its elements otherwise than its rules: see player/smil.ts). A page in
// limited-quirks mode (XHTML 1.0 Transitional) is recorded as a standards one; its doctype tells.
import { IncrementalSource, NodeType, type SerializedNode } from './rrweb-shape.js';
import { EventType, isRecord, type RrwebEvent } from './types.js';

const XHTML_NS = 'http://www.w3.org/1999/xhtml';
/**
 * Public identifiers whose doctype puts a page in limited-quirks mode (HTML's "initial" insertion
 * mode); the HTML 4.01 ones only with a system identifier, as a document recorded in standards mode
 * by one had (without it, it is in quirks mode and says so).
 */
const LIMITED_QUIRKS_PUBLIC_IDS = ['-//w3c//dtd xhtml 1.0 frameset//', '-//w3c//dtd xhtml 1.0 transitional//'];
const LIMITED_QUIRKS_WITH_SYSTEM_ID = ['-//w3c//dtd html 4.01 frameset//', '-//w3c//dtd html 4.01 transitional//'];

function isLimitedQuirksDoctype(node: Record<string, unknown>): boolean {
  const id = typeof node.publicId === 'string' ? node.publicId.toLowerCase() : '';
  if (LIMITED_QUIRKS_PUBLIC_IDS.some((p) => id.startsWith(p))) return true;
  return typeof node.systemId === 'string' && node.systemId !== '' && LIMITED_QUIRKS_WITH_SYSTEM_ID.some((p) => id.startsWith(p));
}

/**
 * A serialized document in quirks or limited-quirks mode whose first node is its doctype, rewritten
 * so that rrweb's rebuild writes a doctype of that mode to the replay's parser; else undefined.
 */
function inItsMode(node: unknown): SerializedNode | undefined {
  if (!isRecord(node) || node.type !== NodeType.Document) return undefined;
  const children = node.childNodes;
  if (!Array.isArray(children) || children.length === 0 || !isRecord(children[0]) || children[0].type !== NodeType.DocumentType) return undefined;
  if (node.compatMode === 'BackCompat') return { ...(node as SerializedNode), childNodes: children.slice(1) as SerializedNode[] };
  // Limited-quirks mode (XHTML 1.0 Transitional, as many pages of the 2000s are) differs from
  // standards mode in one thing: a line of images alone gets no strut, so a table of sliced images
  // or a cell holding one icon is as high as its pictures, not a few pixels higher each. rrweb
  // writes a doctype of that mode only for a quirks document whose root is an XHTML <html>; such a
  // document is what it is given (the compatMode is read nowhere else, and an xmlns attribute on
  // <html> is what XHTML pages carry anyway).
  const root = children[1];
  if (node.compatMode !== undefined || !isLimitedQuirksDoctype(children[0]) || !isRecord(root) || root.type !== NodeType.Element || root.tagName !== 'html' || !isRecord(root.attributes)) return undefined;
  const html = { ...root, attributes: { ...root.attributes, xmlns: XHTML_NS } };
  return { ...node, compatMode: 'BackCompat', childNodes: [html, ...children.slice(2)] } as SerializedNode;
}

/**
 * The events with each quirks or limited-quirks document in its mode (inItsMode): a full snapshot's
 * document, and the documents of same-origin iframes, which rrweb adds to their frame in a mutation.
 * Other events are the same objects.
 */
export function withQuirksModeKept(events: RrwebEvent[]): RrwebEvent[] {
  return events.map((e) => {
    if (!isRecord(e.data)) return e;
    if (e.type === EventType.FullSnapshot) {
      const node = inItsMode(e.data.node);
      return node ? { ...e, data: { ...e.data, node } } : e;
    }
    if (e.type !== EventType.IncrementalSnapshot || e.data.source !== IncrementalSource.Mutation || !Array.isArray(e.data.adds)) return e;
    let adds: unknown[] | undefined;
    e.data.adds.forEach((add: unknown, i: number) => {
      const node = isRecord(add) ? inItsMode(add.node) : undefined;
      if (!node) return;
      adds ??= [...(e.data as { adds: unknown[] }).adds];
      adds[i] = { ...(add as Record<string, unknown>), node };
    });
    return adds ? { ...e, data: { ...e.data, adds } } : e;
  });
}
