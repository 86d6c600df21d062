/**
 * Edits real rrweb recordings the way an attacker who controls the file would: the recorder on a
 * live page strips or neutralises some things (script bodies become placeholders, a meta refresh
 * would navigate the page it records), but nothing stops someone writing them into the JSON. Every
 * helper returns new events and leaves its input alone.
 */

/** rrweb-snapshot's NodeType. */
export const NodeType = { Document: 0, DocumentType: 1, Element: 2, Text: 3, CDATA: 4, Comment: 5 } as const;

export interface SerializedNode {
  type: number;
  id: number;
  tagName?: string;
  attributes?: Record<string, string | number | boolean | null>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isSVG?: boolean;
  isStyle?: boolean;
  [key: string]: unknown;
}

export interface RawEvent {
  type: number;
  timestamp: number;
  data: unknown;
  [key: string]: unknown;
}

const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const MUTATION = 0;

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Walks a serialized tree without recursion (a hostile tree may be thousands of levels deep). */
export function* walk(root: SerializedNode): Generator<SerializedNode> {
  const stack: SerializedNode[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    yield n;
    if (Array.isArray(n.childNodes)) for (let i = n.childNodes.length - 1; i >= 0; i--) stack.push(n.childNodes[i]!);
  }
}

export function fullSnapshots(events: RawEvent[]): RawEvent[] {
  return events.filter((e) => e.type === FULL_SNAPSHOT);
}

export function snapshotRoot(e: RawEvent): SerializedNode {
  return (e.data as { node: SerializedNode }).node;
}

/** Hands out node ids above every id the recording already uses. */
export class Ids {
  private next: number;
  constructor(events: RawEvent[]) {
    let max = 0;
    for (const e of events) {
      if (e.type === FULL_SNAPSHOT) for (const n of walk(snapshotRoot(e))) max = Math.max(max, n.id);
      if (e.type === INCREMENTAL && (e.data as { source?: number }).source === MUTATION) {
        for (const a of (e.data as { adds?: { node: SerializedNode }[] }).adds ?? []) for (const n of walk(a.node)) max = Math.max(max, n.id);
      }
    }
    this.next = max + 1;
  }
  take(): number {
    return this.next++;
  }
}

export function findElement(root: SerializedNode, tagName: string): SerializedNode | undefined {
  for (const n of walk(root)) if (n.type === NodeType.Element && n.tagName === tagName) return n;
  return undefined;
}

/** Builders for serialized nodes, each taking its id from `ids`. */
export function builders(ids: Ids) {
  const el = (tagName: string, attributes: SerializedNode['attributes'] = {}, childNodes: SerializedNode[] = [], extra: Partial<SerializedNode> = {}): SerializedNode => ({
    type: NodeType.Element,
    tagName,
    attributes,
    childNodes,
    id: ids.take(),
    ...extra,
  });
  const svg = (tagName: string, attributes: SerializedNode['attributes'] = {}, childNodes: SerializedNode[] = []): SerializedNode =>
    el(tagName, attributes, childNodes, { isSVG: true });
  const text = (textContent: string, extra: Partial<SerializedNode> = {}): SerializedNode => ({ type: NodeType.Text, textContent, id: ids.take(), ...extra });
  return { el, svg, text };
}

/**
 * Appends nodes to the first `parentTag` element (head or body) of every full snapshot, so every
 * page load of the recording carries them.
 */
export function injectIntoSnapshots(events: RawEvent[], parentTag: string, make: (ids: Ids) => SerializedNode[]): RawEvent[] {
  const out = clone(events);
  const ids = new Ids(out);
  let injected = 0;
  for (const e of fullSnapshots(out)) {
    const parent = findElement(snapshotRoot(e), parentTag);
    if (!parent) continue;
    parent.childNodes ??= [];
    parent.childNodes.push(...make(ids));
    injected++;
  }
  if (injected === 0) throw new Error(`no <${parentTag}> in any full snapshot`);
  return out;
}

/** Sets attributes on the root element of every full snapshot (e.g. a <base> or an onload on <html>). */
export function setSnapshotAttributes(events: RawEvent[], tagName: string, attributes: Record<string, string>): RawEvent[] {
  const out = clone(events);
  for (const e of fullSnapshots(out)) {
    const node = findElement(snapshotRoot(e), tagName);
    if (node) node.attributes = { ...node.attributes, ...attributes };
  }
  return out;
}

/**
 * A mutation event adding `nodes` under the recording's first <parentTag>, the way rrweb's recorder
 * writes one: every node its own entry, parents before children, children not nested.
 */
export function mutationAdding(events: RawEvent[], timestamp: number, parentTag: string, nodes: SerializedNode[]): RawEvent {
  const snap = fullSnapshots(events)[0];
  if (!snap) throw new Error('no full snapshot');
  const parent = findElement(snapshotRoot(snap), parentTag);
  if (!parent) throw new Error(`no <${parentTag}> in the first full snapshot`);
  const adds: { parentId: number; nextId: number | null; node: SerializedNode }[] = [];
  const flatten = (n: SerializedNode, parentId: number) => {
    // Iterative: a burst may be very deep.
    const stack: [SerializedNode, number][] = [[n, parentId]];
    while (stack.length) {
      const [node, pid] = stack.pop()!;
      const { childNodes, ...rest } = node;
      adds.push({ parentId: pid, nextId: null, node: { ...rest, ...(node.type === NodeType.Element ? { childNodes: [] } : {}) } as SerializedNode });
      if (Array.isArray(childNodes)) for (let i = childNodes.length - 1; i >= 0; i--) stack.push([childNodes[i]!, node.id]);
    }
  };
  for (const n of nodes) flatten(n, parent.id);
  return { type: INCREMENTAL, timestamp, data: { source: MUTATION, texts: [], attributes: [], removes: [], adds } };
}

/** A mutation event changing attributes of existing nodes. */
export function mutationSettingAttributes(timestamp: number, changes: { id: number; attributes: Record<string, string | null> }[]): RawEvent {
  return { type: INCREMENTAL, timestamp, data: { source: MUTATION, texts: [], attributes: changes, removes: [], adds: [] } };
}

/** Inserts events and returns the list sorted by time (the parser sorts too; this keeps files tidy). */
export function withEvents(events: RawEvent[], ...extra: RawEvent[]): RawEvent[] {
  return [...clone(events), ...extra].sort((a, b) => a.timestamp - b.timestamp);
}

export function firstSnapshotTs(events: RawEvent[]): number {
  const s = fullSnapshots(events)[0];
  if (!s) throw new Error('no full snapshot');
  return s.timestamp;
}

export function lastTs(events: RawEvent[]): number {
  return events.reduce((m, e) => Math.max(m, e.timestamp), 0);
}
