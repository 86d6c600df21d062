// Focus rings as the user saw them. rrweb records that an element got focus, not how: its Replayer
// calls focus() on it, and Chromium draws the focus ring (:focus-visible) for a script's focus in a
// page no one has touched. But a click focuses the button, link or <summary> it lands on, and the
// user saw no ring there: Chromium shows one on a pointer's focus only where the keyboard comes
// next (a text field, a <select>, an editable element), and on a script's focus only when the last
// interaction was the keyboard. Every clicked button of a replay had a ring the user never saw (the
// Node.js docs' <summary>: a white box across the column). FocusReplay focuses instead, with
// focusVisible as Chromium would have decided it live: from the last interaction the recording
// shows, a press (mouse or touch) or typing (an input event of a text field; rrweb records no keys).
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';
import { takesTyping } from '../src/recording/typing.js';

/** What rrweb's Replayer hands a plugin (the part used here). */
interface ReplayerLike {
  getMirror(): { getNode(id: number): unknown };
}

export interface FocusPlugin {
  handler(event: eventWithTime, isSync: boolean, context: { replayer: ReplayerLike }): void;
}

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
  ownerDocument?: { activeElement: unknown } | null;
}

/** The replay's elements live in the iframe's realm: checked by shape, not instanceof. */
function focusable(node: unknown): Focusable | null {
  const el = node as Partial<Focusable> | null;
  return el && typeof el.focus === 'function' && typeof el.tagName === 'string' ? (el as Focusable) : null;
}

/** Whether Chromium draws the ring when a press focuses `el`: where typing goes next. */
function ringOnPress(el: Focusable): boolean {
  return takesTyping(el.tagName, el.type, el.isContentEditable === true);
}

/**
 * Applies the recording's focus events (a Replayer plugin, with `triggerFocus: false`). A script that
 * shows a menu and focuses its first item is recorded focus first: rrweb sends the focus event at
 * once and the mutations that showed the menu after the task, so the replay's focus() lands on a
 * hidden element and does nothing. Such a focus is tried again once the step's events are all in
 * (retry, before the picture), unless the recording moved focus or blurred it meanwhile.
 */
export class FocusReplay {
  /** The last interaction: a press, typing, or none yet (a script's focus then shows the ring). */
  private last: 'press' | 'typing' | 'none' = 'none';
  private pending: { el: Focusable; visible: boolean } | null = null;

  readonly plugin: FocusPlugin = {
    handler: (event, _isSync, { replayer }) => {
      if (event.type !== EventType.IncrementalSnapshot) return;
      const d = event.data as { source?: number; type?: number; id?: number };
      if (d.source === IncrementalSource.Input) {
        // A box's input event comes from the press that toggled it, not from keys.
        const el = focusable(typeof d.id === 'number' ? replayer.getMirror().getNode(d.id) : null);
        if (el && ringOnPress(el)) this.last = 'typing';
        return;
      }
      if (d.source !== IncrementalSource.MouseInteraction || typeof d.type !== 'number') return;
      if (PRESSES.has(d.type)) {
        this.last = 'press';
        return;
      }
      if ((d.type !== MouseInteraction.Focus && d.type !== MouseInteraction.Blur) || typeof d.id !== 'number') return;
      const el = focusable(replayer.getMirror().getNode(d.id));
      if (d.type === MouseInteraction.Blur) {
        if (this.pending?.el === el) this.pending = null;
        return;
      }
      this.pending = null;
      if (!el) return;
      const visible = this.last !== 'press' || ringOnPress(el);
      if (!this.focus(el, visible)) this.pending = { el, visible };
    },
  };

  /** Focuses again a focus that found its element not yet shown; true when that changed the page. */
  retry(): boolean {
    const p = this.pending;
    this.pending = null;
    return p !== null && this.focus(p.el, p.visible);
  }

  private focus(el: Focusable, visible: boolean): boolean {
    try {
      el.focus({ preventScroll: true, focusVisible: visible });
      return el.ownerDocument?.activeElement === el;
    } catch {
      // A node the page took away meanwhile: rrweb's own focus() would not have mattered either.
      return false;
    }
  }
}
