// What the pointer is held down on (`:active`). A pressed button darkens, sinks or shrinks while the
// user holds it (Bootstrap's and GitHub's buttons, Tailwind's `active:`), a dragged slider thumb
// grows, and everything around it in the flat tree matches too; a long press or a drag is the
// moment a confused user is seen hesitating. No pointer is ever pressed in the replay, and rrweb
// does not emulate it as it does `:hover`, so a press showed nothing. The player marks the element
// the recording says the pointer went down on, with its flat-tree ancestors and a label's control
// (as the browser's active chain holds them), from the press to its release, and the recorded
// stylesheets' `:active` also matches the mark (state-selectors.ts).
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';
import { moveMark, pointerChain, type ChainMark } from './flat-tree.js';
import { ACTIVE_ATTRIBUTE } from './state-selectors.js';

interface MirrorLike {
  getNode(id: number): unknown;
}

const ACTIVE_MARK: ChainMark = {
  has: (e) => e.hasAttribute(ACTIVE_ATTRIBUTE),
  add: (e) => e.setAttribute(ACTIVE_ATTRIBUTE, ''),
  remove: (e) => e.removeAttribute(ACTIVE_ATTRIBUTE),
};

/**
 * Follows the recording's presses and releases (a Replayer plugin) and marks what is held down
 * (apply: as each press is cast, so that a transition it starts is placed at its time, and after
 * each step, since a batch written through rrweb's virtual DOM drops attributes it does not know).
 */
export class PressReplay {
  /** The node the pointer went down on and is still held on, by id. */
  private pressedId: number | null = null;
  /** The elements marked: the active chain of the pressed node when last applied. */
  private marked: Element[] = [];

  readonly plugin = {
    handler: (event: eventWithTime) => {
      // A new document: the browser starts it with nothing pressed.
      if (event.type === EventType.Meta) {
        this.pressedId = null;
        return;
      }
      if (event.type !== EventType.IncrementalSnapshot) return;
      const d = event.data as { source?: number; type?: number; id?: unknown };
      if (d.source !== IncrementalSource.MouseInteraction) return;
      if (d.type === MouseInteraction.MouseDown || d.type === MouseInteraction.TouchStart) this.pressedId = typeof d.id === 'number' ? d.id : null;
      // A right press opens a context menu, which takes its release: the page may see no mouseup.
      else if (d.type === MouseInteraction.MouseUp || d.type === MouseInteraction.TouchEnd || d.type === MouseInteraction.TouchCancel || d.type === MouseInteraction.ContextMenu) this.pressedId = null;
    },
  };

  /** Marks the active chain of what is held down now, and unmarks the rest. True when that changed the page. */
  apply(mirror: MirrorLike): boolean {
    const node = this.pressedId === null ? null : (mirror.getNode(this.pressedId) as Partial<Node> | null);
    // A pressed node the page removed (or one the recorder could not name): the browser hands the
    // press to its ancestors still in the document, which stay marked as they were.
    if (this.pressedId !== null && (!node || node.isConnected === false)) return false;
    // An element, or a text node whose chain starts at its parent (pointerChain keeps only elements).
    const chain = pointerChain(node as Element | null);
    const changed = moveMark(this.marked, chain, ACTIVE_MARK);
    this.marked = chain;
    return changed;
  }
}
