// A focus the recorder could not name. A script that adds a dialog, a search box or an inline editor
// and focuses its field in the same task (React's autoFocus, a modal's initial focus) is recorded
// focus first: rrweb sends the focus event at once, with id -1 (the field has no id until the
// mutation that added it is serialized, after the task), so every replay drops it. The field the
// user then typed into was drawn without its focus border and caret (Swagger UI's authorize dialog).
//
// The mutation that follows adds the focused element. Which one it is the recording does not say;
// it is taken to be, among the added elements that take typing (typing.ts) or carry `autofocus`:
// the one with `autofocus`; else the one the user typed into next, if the next input event is
// theirs; else the only one. A focus with no such answer stays unnamed (a replay then shows no
// focus, as before): a button a script focused is not guessed at.
import { IncrementalSource, MouseInteraction, NodeType, type SerializedNode } from './rrweb-shape.js';
import { takesTyping } from './typing.js';
import { EventType, isRecord, type RrwebEvent } from './types.js';

/**
 * How long after an unnamed focus the mutation that added its element may come: rrweb sends a
 * task's mutations when its observer fires, after the task (21 ms on Swagger UI).
 */
const ADDED_WITHIN_MS = 500;

/** An added element that can have taken the focus. */
interface Candidate {
  id: number;
  autofocus: boolean;
}

function interaction(e: RrwebEvent): { type: number; id: unknown } | undefined {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data) || e.data.source !== IncrementalSource.MouseInteraction) return undefined;
  return typeof e.data.type === 'number' ? { type: e.data.type, id: e.data.id } : undefined;
}

const isUnnamedFocus = (e: RrwebEvent) => {
  const i = interaction(e);
  return i?.type === MouseInteraction.Focus && i.id === -1;
};

/** The elements a mutation event adds that can take the focus; undefined when it is no mutation. */
function candidatesOf(e: RrwebEvent): Candidate[] | undefined {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data) || e.data.source !== IncrementalSource.Mutation) return undefined;
  const out: Candidate[] = [];
  if (!Array.isArray(e.data.adds)) return out;
  for (const add of e.data.adds) {
    const node = (isRecord(add) ? add.node : undefined) as SerializedNode | undefined;
    if (!isRecord(node) || node.type !== NodeType.Element || typeof node.id !== 'number' || typeof node.tagName !== 'string') continue;
    const attrs = isRecord(node.attributes) ? node.attributes : {};
    const editable = attrs.contenteditable !== undefined && attrs.contenteditable !== 'false';
    const autofocus = attrs.autofocus !== undefined && attrs.autofocus !== false;
    if (autofocus || takesTyping(node.tagName, attrs.type, editable)) out.push({ id: node.id, autofocus });
  }
  return out;
}

/** The id an input event names, if it is one. */
function inputId(e: RrwebEvent): number | undefined {
  if (e.type !== EventType.IncrementalSnapshot || !isRecord(e.data) || e.data.source !== IncrementalSource.Input) return undefined;
  return typeof e.data.id === 'number' ? e.data.id : undefined;
}

/**
 * Which candidate took the focus, by the events after the mutation (from `from`): the one with
 * `autofocus`, else the one typed into next before focus moved on, else the only one.
 */
function chosen(candidates: Candidate[], events: RrwebEvent[], from: number): number | undefined {
  const auto = candidates.filter((c) => c.autofocus);
  if (auto.length) return auto[0]!.id;
  for (let i = from; i < events.length; i++) {
    const e = events[i]!;
    const typed = inputId(e);
    if (typed !== undefined) {
      if (candidates.some((c) => c.id === typed)) return typed;
      break;
    }
    const it = interaction(e);
    if (it && it.type !== MouseInteraction.Focus && it.type !== MouseInteraction.Blur) continue;
    // Focus moved (or a blur, or a press elsewhere would show as a focus): typing after it is not evidence.
    if (it) break;
  }
  return candidates.length === 1 ? candidates[0]!.id : undefined;
}

/**
 * The events (in time order) with each unnamed focus named where the mutation after it shows which
 * element took it: the focus moves to right after that mutation, with the element's id. The same
 * array when there is none.
 */
export function withUnnamedFocusNamed(events: RrwebEvent[]): RrwebEvent[] {
  if (!events.some(isUnnamedFocus)) return events;
  const out: RrwebEvent[] = [];
  /** Named focuses to put in right after the mutation event at each index of `events`. */
  const after = new Map<number, RrwebEvent>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (isUnnamedFocus(e)) {
      const named = name(events, i);
      if (named) after.set(named.at, named.focus);
      else out.push(e);
    } else out.push(e);
    const focus = after.get(i);
    if (focus) out.push(focus);
  }
  return out;
}

/** Where (the index of the mutation event) and with what the unnamed focus at `i` is named. */
function name(events: RrwebEvent[], i: number): { at: number; focus: RrwebEvent } | undefined {
  const focus = events[i]!;
  for (let j = i + 1; j < events.length; j++) {
    const e = events[j]!;
    if (e.timestamp - focus.timestamp > ADDED_WITHIN_MS) return undefined;
    if (e.windowId !== focus.windowId) continue;
    if (interaction(e)?.type === MouseInteraction.Focus || interaction(e)?.type === MouseInteraction.Blur) return undefined;
    const candidates = candidatesOf(e);
    if (!candidates?.length) continue;
    const id = chosen(candidates, events, j + 1);
    if (id === undefined) return undefined;
    const named: RrwebEvent = { ...focus, timestamp: e.timestamp, data: { ...(focus.data as Record<string, unknown>), id } };
    return { at: j, focus: named };
  }
  return undefined;
}
