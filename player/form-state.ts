// Checkboxes and radio buttons the recorder serialized as checked when they were not.
//
// rrweb's serializer (rrweb-snapshot's serializeElementNode) starts from an element's attributes and
// then, for a checkbox or a radio button, writes `checked: true` when its checked property is true;
// when the property is false it writes nothing, so a `checked` attribute from the page's markup stays
// as it was: a string. A page that unchecks such a box from a script before the snapshot (the
// Node.js docs' CJS/ESM toggles: `<input type="checkbox" checked>` in the markup, `checked = false`
// from the reader's stored preference) is rebuilt checked, and shows the other half of every toggled
// block, with everything below it moved. rrweb does the same for `<option selected>` right (it
// deletes `selected` when the option is not); this does it for `checked`. A `checked` that is a
// string in a serialized checkbox or radio button of type written so is therefore a box that was
// not checked. Attribute changes are left alone: they say what the page set, not the property.
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, forEachSerializedNode, IncrementalSource, NodeType } from '../src/recording/rrweb-shape.js';

/**
 * Drops, in place, the `checked` attribute of every serialized checkbox and radio button whose
 * property was false when the recorder serialized it (above), in full snapshots and added nodes.
 * Returns how many.
 */
export function uncheckRecordedBoxes(eventLists: readonly eventWithTime[][]): number {
  let unchecked = 0;
  const visit = (root: unknown) =>
    forEachSerializedNode(root, (n) => {
      const attrs = n.attributes;
      // The types exactly as rrweb's serializer compares them: another spelling takes its other branch.
      if (n.type === NodeType.Element && n.tagName === 'input' && attrs && (attrs.type === 'checkbox' || attrs.type === 'radio') && typeof attrs.checked === 'string') {
        delete attrs.checked;
        unchecked++;
      }
    });
  for (const events of eventLists) {
    for (const e of events) {
      const data = e.data as { node?: unknown; source?: number; adds?: unknown };
      if (e.type === EventType.FullSnapshot) visit(data.node);
      else if (e.type === EventType.IncrementalSnapshot && data.source === IncrementalSource.Mutation && Array.isArray(data.adds)) {
        for (const add of data.adds as ({ node?: unknown } | null)[]) visit(add?.node);
      }
    }
  }
  return unchecked;
}
