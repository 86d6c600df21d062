// rrweb's serialized node trees (a full snapshot's, or the nodes a mutation adds), as plain data.

/** A serialized node as far as the player reads one; anything in a recording may be missing or of another type. */
export interface SerializedNode {
  id?: unknown;
  tagName?: unknown;
  attributes?: Record<string, unknown>;
  childNodes?: unknown[];
}

/**
 * Visits every node of serialized trees, depth first. Children are pushed one by one: spreading a
 * list of some 100,000 children into push overflows the call stack (a page's long list did, twice).
 */
export function eachSerialized(roots: Iterable<unknown>, visit: (n: SerializedNode) => void): void {
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop() as SerializedNode | undefined;
    if (!n || typeof n !== 'object') continue;
    visit(n);
    if (Array.isArray(n.childNodes)) for (const c of n.childNodes) stack.push(c);
  }
}
