// Form fields' validity as the user saw it (`:user-invalid`, `:user-valid`). A page styles a field
// as wrong only once the user has dealt with it (a red border on an email address typed wrong, once
// they left the field; every field of a form they tried to send): the moment a checkout is given up.
// Chromium tracks that per field, and the replay's fields were only ever set by scripts, so those
// selectors matched nothing. The player marks the fields the recording shows the user dealt with,
// and the rewritten selectors (state-selectors.ts) match the mark with the field's validity:
// - a field typed into, once it loses focus (its change is committed then);
// - a box, radio button, select or slider, at its first input event (committed at once);
// - every field of a form whose submit button was clicked (a submission attempt), unless the form
//   or the button says not to validate.
// A submission by the Enter key is not in the recording (rrweb records no keys).
import type { eventWithTime } from '@posthog/rrweb-types';
import { EventType, IncrementalSource, MouseInteraction } from '../src/recording/rrweb-shape.js';
import { takesTyping } from '../src/recording/typing.js';
import { USER_INTERACTED_ATTRIBUTE } from './state-selectors.js';

/**
 * Fields followed at most: far beyond any form a person fills in, and each step looks at every one
 * (a hostile recording naming a million fields must not make every step long).
 */
const FIELDS_MAX = 10_000;

interface MirrorLike {
  getNode(id: number): unknown;
  getId(node: unknown): number;
}

interface FieldLike {
  tagName: string;
  type?: unknown;
  isContentEditable?: boolean;
  form?: FormLike | null;
  hasAttribute(name: string): boolean;
  setAttribute(name: string, value: string): void;
  closest?(selector: string): FieldLike | null;
}

interface FormLike {
  elements: ArrayLike<unknown>;
  hasAttribute(name: string): boolean;
}

/** The replay's elements live in the iframe's realm: checked by shape, not instanceof. */
function element(node: unknown): FieldLike | null {
  const el = node as Partial<FieldLike> | null;
  return el && typeof el.tagName === 'string' && typeof el.setAttribute === 'function' ? (el as FieldLike) : null;
}

/** A field whose change is committed as the user makes it: no typing goes into it. */
function commitsAtOnce(el: FieldLike): boolean {
  return el.tagName.toLowerCase() === 'select' || !takesTyping(el.tagName, el.type, el.isContentEditable === true);
}

/**
 * Follows the recording's input, blur and click events (a Replayer plugin) and marks the fields the
 * user dealt with (mark, after each step: a batch written through rrweb's virtual DOM drops
 * attributes it does not know).
 */
export class UserValidity {
  /** Fields typed into, by id: 'typed' until they lose focus, then 'committed'. */
  private readonly fields = new Map<number, 'typed' | 'committed'>();
  /** Clicks not looked at yet, by the id they landed on (a submit button's, maybe). */
  private clicks: number[] = [];

  readonly plugin = {
    handler: (event: eventWithTime) => {
      // A new page: none of its fields has been dealt with.
      if (event.type === EventType.Meta) {
        this.fields.clear();
        this.clicks = [];
        return;
      }
      if (event.type !== EventType.IncrementalSnapshot) return;
      const d = event.data as { source?: number; type?: number; id?: number };
      if (typeof d.id !== 'number') return;
      if (d.source === IncrementalSource.Input) {
        if (!this.fields.has(d.id) && this.fields.size < FIELDS_MAX) this.fields.set(d.id, 'typed');
      } else if (d.source === IncrementalSource.MouseInteraction) {
        if (d.type === MouseInteraction.Blur && this.fields.get(d.id) === 'typed') this.fields.set(d.id, 'committed');
        else if (d.type === MouseInteraction.Click) this.clicks.push(d.id);
      }
    },
  };

  /** Puts the mark on each field the user dealt with so far. True when that changed the page. */
  mark(mirror: MirrorLike): boolean {
    for (const id of this.clicks.splice(0)) this.submitted(mirror, id);
    let changed = false;
    for (const [id, state] of this.fields) {
      const el = element(mirror.getNode(id));
      if (!el || el.hasAttribute(USER_INTERACTED_ATTRIBUTE) || (state === 'typed' && !commitsAtOnce(el))) continue;
      el.setAttribute(USER_INTERACTED_ATTRIBUTE, '');
      changed = true;
    }
    return changed;
  }

  /** A click on a form's submit button: every field of that form is dealt with, as a submission attempt marks them. */
  private submitted(mirror: MirrorLike, id: number): void {
    const button = element(mirror.getNode(id))?.closest?.('button, input[type="submit" i], input[type="image" i]');
    if (!button || !button.form) return;
    const type = String(button.type ?? '').toLowerCase();
    if (type !== 'submit' && type !== 'image') return;
    if (button.form.hasAttribute('novalidate') || button.hasAttribute('formnovalidate')) return;
    for (const field of Array.from(button.form.elements)) {
      const fid = mirror.getId(field);
      if (fid > 0 && (this.fields.has(fid) || this.fields.size < FIELDS_MAX)) this.fields.set(fid, 'committed');
    }
  }
}
