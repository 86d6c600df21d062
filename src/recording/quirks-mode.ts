// A page in quirks mode whose doctype says so. A doctype of HTML 4.01 Transitional without its
// system identifier (and the other legacy ones) puts a page in quirks mode, as no doctype at all
// does: tables and blocks of percentage height take their share of the viewport, tables do not
// inherit font sizes. rrweb records the mode (`compatMode` on the serialized document), but its
// rebuild writes a doctype to the replay's parser only when the document's first node is not one,
// and appends the recorded doctype as a node, which leaves the parser's mode alone: such a page was
// replayed in standards mode, laid out otherwise than the user saw it (SSIM 0.70 on a page of two
// tables and a block). The doctype is left out of such a document, so that rrweb writes its own
// quirks doctype first, before any node or stylesheet (a document that changes mode later matches
// the classes of its elements otherwise than its rules: see player/smil.ts).
import { IncrementalSource, NodeType, type SerializedNode } from './rrweb-shape.js';
import { EventType, isRecord, type RrwebEvent } from './types.js';

/** A serialized document in quirks mode whose first node is its doctype: the same without it; else undefined. */
function withoutQuirksDoctype(node: unknown): SerializedNode | undefined {
  if (!isRecord(node) || node.type !== NodeType.Document || node.compatMode !== 'BackCompat') return undefined;
  const children = node.childNodes;
  if (!Array.isArray(children) || children.length === 0 || !isRecord(children[0]) || children[0].type !== NodeType.DocumentType) return undefined;
  return { ...(node as SerializedNode), childNodes: children.slice(1) as SerializedNode[] };
}

/**
 * The events with each quirks-mode document's leading doctype left out: a full snapshot's document,
 * and the documents of same-origin iframes, which rrweb adds to their frame in a mutation. Other
 * events are the same objects.
 */
export function withQuirksModeKept(events: RrwebEvent[]): RrwebEvent[] {
  return events.map((e) => {
    if (!isRecord(e.data)) return e;
    if (e.type === EventType.FullSnapshot) {
      const node = withoutQuirksDoctype(e.data.node);
      return node ? { ...e, data: { ...e.data, node } } : e;
    }
    if (e.type !== EventType.IncrementalSnapshot || e.data.source !== IncrementalSource.Mutation || !Array.isArray(e.data.adds)) return e;
    let adds: unknown[] | undefined;
    e.data.adds.forEach((add: unknown, i: number) => {
      const node = isRecord(add) ? withoutQuirksDoctype(add.node) : undefined;
      if (!node) return;
      adds ??= [...(e.data as { adds: unknown[] }).adds];
      adds[i] = { ...(add as Record<string, unknown>), node };
    });
    return adds ? { ...e, data: { ...e.data, adds } } : e;
  });
}
