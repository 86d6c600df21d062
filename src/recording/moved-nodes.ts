// Nodes a page moves among their siblings (a sorted table's rows, a reordered list: React moves the
// fewest it can with insertBefore). rrweb's recorder writes each moved node as removed and added
// again under its own id, with the id of the sibling it now stands before; that sibling is often
// moved in the same mutation too, and listed after it. rrweb's replay applies the removes first,
// which takes the moved nodes out of its map, then each add in order: an add whose next sibling is
// not in the map yet is appended at the parent's end (rrweb's own replay queued it; this fork's
// does not). An Ant Design table sorted by name was replayed with three of its eight rows
// at the bottom, by rrweb's own Replayer as by ours. Within a mutation, an add is put after the add
// of the sibling it must stand before, so that sibling is in place when it comes.
import { IncrementalSource } from './rrweb-shape.js';
import { EventType, isRecord, type RrwebEvent } from './types.js';

interface Add {
  parentId?: unknown;
  nextId?: unknown;
  node?: { id?: unknown };
}

function nodeIdOf(add: unknown): number | undefined {
  const id = isRecord(add) && isRecord(add.node) ? add.node.id : undefined;
  return typeof id === 'number' ? id : undefined;
}

/** An add and the adds of its subtree that follow it, as the recorder lists a node it serialized. */
interface Group {
  adds: unknown[];
  id: number | undefined;
  nextId: unknown;
}

function groupsOf(adds: readonly unknown[]): Group[] {
  const groups: Group[] = [];
  const inGroup = new Set<number>();
  for (const add of adds) {
    const parentId = isRecord(add) ? (add as Add).parentId : undefined;
    const id = nodeIdOf(add);
    const last = groups.at(-1);
    if (last && typeof parentId === 'number' && inGroup.has(parentId)) {
      last.adds.push(add);
    } else {
      groups.push({ adds: [add], id, nextId: isRecord(add) ? (add as Add).nextId : undefined });
      inGroup.clear();
    }
    if (id !== undefined) inGroup.add(id);
  }
  return groups;
}

/**
 * `adds` with each added node (and the adds of its subtree after it) placed after the add of the
 * sibling it must stand before, when the same list adds that sibling; the others keep their order.
 * The same array when nothing moves. Siblings that name each other in a ring (no page's DOM can)
 * keep their order.
 */
export function orderedAdds(adds: readonly unknown[]): readonly unknown[] {
  const groups = groupsOf(adds);
  const roots = new Set<number>();
  for (const g of groups) if (g.id !== undefined) roots.add(g.id);
  const out: unknown[] = [];
  const placed = new Set<number>();
  /** Groups waiting for the group of the node they stand before, by that node's id. */
  const waiting = new Map<number, Group[]>();
  const place = (group: Group) => {
    // A stack, not recursion: a list of 10,000 rows reversed is one chain 10,000 long.
    const stack = [group];
    while (stack.length) {
      const g = stack.pop()!;
      // Not push(...adds): a subtree of a few hundred thousand nodes is more arguments than a call takes.
      for (const a of g.adds) out.push(a);
      if (g.id === undefined) continue;
      placed.add(g.id);
      const next = waiting.get(g.id);
      if (next) {
        waiting.delete(g.id);
        for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
      }
    }
  };
  let moved = false;
  for (const g of groups) {
    if (typeof g.nextId === 'number' && roots.has(g.nextId) && !placed.has(g.nextId) && g.nextId !== g.id) {
      const list = waiting.get(g.nextId);
      if (list) list.push(g);
      else waiting.set(g.nextId, [g]);
      moved = true;
      continue;
    }
    place(g);
  }
  if (!moved) return adds;
  // What still waits stands before a node the list never places: left in its order, at the end.
  const left = new Set<Group>();
  for (const list of waiting.values()) for (const g of list) left.add(g);
  for (const g of groups) if (left.has(g)) for (const a of g.adds) out.push(a);
  return out;
}

/** The events with each mutation's adds in an order rrweb's replay builds right (orderedAdds); other events are the same objects. */
export function withMovedNodesOrdered(events: RrwebEvent[]): RrwebEvent[] {
  return events.map((e) => {
    if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data) || e.data.source !== IncrementalSource.Mutation) return e;
    const adds = e.data.adds;
    if (!Array.isArray(adds) || adds.length < 2) return e;
    const ordered = orderedAdds(adds);
    return ordered === adds ? e : { ...e, data: { ...e.data, adds: ordered } };
  });
}
