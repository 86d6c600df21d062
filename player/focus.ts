// Focus rings as the user saw them. rrweb records that an element got focus, not how: its Replayer
// calls focus() on it, and Chromium draws the focus ring (:focus-visible) for a script's focus in a
// page no one has touched. But a click focuses the button, link or <summary> it lands on, and the
// user saw no ring there: Chromium shows one on a pointer's focus only where the keyboard comes
// next (a text field, a <select>, an editable element), and on a script's focus only when the last
// interaction was the keyboard. Every clicked button of a replay had a ring the user never saw (the
// Node.js docs' <summary>: a white box across the column). This plugin focuses instead, with
// focusVisible as Chromium would have decided it live: from the last interaction the recording
// shows, a press (mouse or touch) or typing (an input event of a text field; rrweb records no keys).
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';

/** What rrweb's Replayer hands a plugin (the part used here). */
interface ReplayerLike {
  getMirror(): { getNode(id: number): unknown };
}

export interface FocusPlugin {
  handler(event: eventWithTime, isSync: boolean, context: { replayer: ReplayerLike }): void;
}

/** Input types Chromium draws no ring on when a press focuses them (the others take typing). */
const PRESSED_WITHOUT_RING = new Set(['checkbox', 'radio', 'range', 'submit', 'reset', 'button', 'image', 'color', 'file', 'hidden']);
const PRESSES: ReadonlySet<number> = new Set([
  MouseInteraction.MouseDown,
  MouseInteraction.MouseUp,
  MouseInteraction.Click,
  MouseInteraction.ContextMenu,
  MouseInteraction.DblClick,
  MouseInteraction.TouchStart,
  MouseInteraction.TouchEnd,
]);

interface Focusable {
  tagName: string;
  focus(options: { preventScroll: boolean; focusVisible: boolean }): void;
  isContentEditable?: boolean;
  type?: unknown;
}

/** The replay's elements live in the iframe's realm: checked by shape, not instanceof. */
function focusable(node: unknown): Focusable | null {
  const el = node as Partial<Focusable> | null;
  return el && typeof el.focus === 'function' && typeof el.tagName === 'string' ? (el as Focusable) : null;
}

/** Whether Chromium draws the ring when a press focuses `el`: where typing goes next. */
function ringOnPress(el: Focusable): boolean {
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || el.isContentEditable === true) return true;
  return tag === 'input' && !PRESSED_WITHOUT_RING.has(String(el.type ?? 'text').toLowerCase());
}

/** A Replayer plugin that applies the recording's focus events (with `triggerFocus: false`). */
export function focusPlugin(): FocusPlugin {
  /** The last interaction: a press, typing, or none yet (a script's focus then shows the ring). */
  let last: 'press' | 'typing' | 'none' = 'none';
  return {
    handler(event, _isSync, { replayer }) {
      if (event.type !== EventType.IncrementalSnapshot) return;
      const d = event.data as { source?: number; type?: number; id?: number };
      if (d.source === IncrementalSource.Input) {
        // A box's input event comes from the press that toggled it, not from keys.
        const el = focusable(typeof d.id === 'number' ? replayer.getMirror().getNode(d.id) : null);
        if (el && ringOnPress(el)) last = 'typing';
        return;
      }
      if (d.source !== IncrementalSource.MouseInteraction || typeof d.type !== 'number') return;
      if (PRESSES.has(d.type)) {
        last = 'press';
        return;
      }
      if (d.type !== MouseInteraction.Focus || typeof d.id !== 'number') return;
      const el = focusable(replayer.getMirror().getNode(d.id));
      if (!el) return;
      try {
        el.focus({ preventScroll: true, focusVisible: last !== 'press' || ringOnPress(el) });
      } catch {
        // A node the page took away meanwhile: rrweb's own focus() would not have mattered either.
      }
    },
  };
}
