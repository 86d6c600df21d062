// rrweb's numbering and its serialized nodes' shape, without dependencies: read by Node
// (src/recording, src/render) and by the player page (player/) alike.

/** rrweb's EventType numbering (rrweb-types). */
export const EventType = {
  DomContentLoaded: 0,
  Load: 1,
  FullSnapshot: 2,
  IncrementalSnapshot: 3,
  Meta: 4,
  Custom: 5,
  Plugin: 6,
} as const;

/** rrweb's IncrementalSource numbering, for the sources the renderer looks at. */
export const IncrementalSource = {
  Mutation: 0,
  MouseMove: 1,
  MouseInteraction: 2,
  Scroll: 3,
  ViewportResize: 4,
  Input: 5,
  TouchMove: 6,
  MediaInteraction: 7,
  StyleSheetRule: 8,
  CanvasMutation: 9,
  Font: 10,
  Log: 11,
  Drag: 12,
  StyleDeclaration: 13,
  Selection: 14,
  AdoptedStyleSheet: 15,
  CustomElement: 16,
} as const;

/** rrweb's MouseInteractions numbering, for the interactions the renderer looks at. */
export const MouseInteraction = {
  MouseUp: 0,
  MouseDown: 1,
  Click: 2,
  ContextMenu: 3,
  DblClick: 4,
  Focus: 5,
  Blur: 6,
  TouchStart: 7,
  TouchEnd: 9,
  TouchCancel: 10,
} as const;

/** rrweb-snapshot's NodeType numbering. */
export const NodeType = {
  Document: 0,
  DocumentType: 1,
  Element: 2,
  Text: 3,
} as const;

/** A node of a full snapshot or a mutation's add, as far as the renderer reads one; untrusted. */
export interface SerializedNode {
  id?: number;
  type?: number;
  tagName?: unknown;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
}

/**
 * Calls `visit` on a serialized node (untrusted: anything) and every object under it, parents before
 * children. Iterative: a hostile snapshot can nest deeper than the stack, and hold more siblings than
 * a call takes arguments (so they are not spread into push).
 */
export function forEachSerializedNode(root: unknown, visit: (node: SerializedNode) => void): void {
  const stack: unknown[] = [root];
  while (stack.length) {
    const n = stack.pop();
    if (typeof n !== 'object' || n === null) continue;
    visit(n as SerializedNode);
    const children = (n as SerializedNode).childNodes;
    if (Array.isArray(children)) for (const child of children) stack.push(child);
  }
}
