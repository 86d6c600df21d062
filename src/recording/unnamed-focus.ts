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

/**
 * Unnamed focuses waiting for their change at once, at most (the latest are kept): a page has one,
 * a recording of several tabs a few; a hostile one with thousands would make every event after them
 * look through all.
 */
const OPEN_MAX = 8;

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

/** Whether an event settles which field took the focus by the typing after it: typing, or focus moving on. */
function decisive(e: RrwebEvent): boolean {
  if (inputId(e) !== undefined) return true;
  const it = interaction(e);
  return it?.type === MouseInteraction.Focus || it?.type === MouseInteraction.Blur;
}

/**
 * Which candidate took the focus: the one with `autofocus`, else the one typed into next before
 * focus moved on (`next`: the first decisive event after the mutation, if any), else the only one.
 */
function chosen(candidates: Candidate[], next: RrwebEvent | undefined): number | undefined {
  const auto = candidates.find((c) => c.autofocus);
  if (auto) return auto.id;
  const typed = next ? inputId(next) : undefined;
  if (typed !== undefined && candidates.some((c) => c.id === typed)) return typed;
  return candidates.length === 1 ? candidates[0]!.id : undefined;
}

/**
 * The events (in time order) with each unnamed focus named where the mutation after it shows which
 * element took it: the focus moves to right after that mutation, with the element's id. The same
 * array when there is none. One pass (and one back to find each event's next decisive one): a
 * recording of any length, hostile or not, costs time in proportion to its events.
 */
export function withUnnamedFocusNamed(events: RrwebEvent[]): RrwebEvent[] {
  if (!events.some(isUnnamedFocus)) return events;
  const nextDecisive = new Int32Array(events.length + 1).fill(-1);
  for (let i = events.length - 1; i >= 0; i--) nextDecisive[i] = decisive(events[i]!) ? i : nextDecisive[i + 1]!;
  const out: RrwebEvent[] = [];
  const named = new Set<RrwebEvent>();
  /** Unnamed focuses waiting for the mutation that added their element, oldest first. */
  let open: RrwebEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    out.push(e);
    if (isUnnamedFocus(e)) {
      open.push(e);
      if (open.length > OPEN_MAX) open.shift();
      continue;
    }
    if (!open.length) continue;
    open = open.filter((f) => e.timestamp - f.timestamp <= ADDED_WITHIN_MS);
    const mine = open.filter((f) => f.windowId === e.windowId);
    if (!mine.length) continue;
    const it = interaction(e);
    // Focus moved on (or left) before any such change: that focus stays unnamed.
    const moved = it?.type === MouseInteraction.Focus || it?.type === MouseInteraction.Blur;
    const candidates = moved ? undefined : candidatesOf(e);
    if (!moved && !candidates?.length) continue;
    // Either way this window's waiting focuses are settled here.
    open = open.filter((f) => f.windowId !== e.windowId);
    if (!candidates) continue;
    const after = nextDecisive[i + 1]!;
    const id = chosen(candidates, after >= 0 ? events[after] : undefined);
    if (id === undefined) continue;
    for (const f of mine) named.add(f);
    const focus = mine[mine.length - 1]!;
    out.push({ ...focus, timestamp: e.timestamp, data: { ...(focus.data as Record<string, unknown>), id } });
  }
  return named.size ? out.filter((e) => !named.has(e)) : out;
}
