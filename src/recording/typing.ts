// Which elements take typing: Chromium rings them on any focus (player/focus.ts), and a focus the
// recorder could not name goes to one of them (unnamed-focus.ts). Read by Node and the player alike.

/** Input types that take no typing (a press toggles or sends them). */
const UNTYPED_INPUTS: ReadonlySet<string> = new Set(['checkbox', 'radio', 'range', 'submit', 'reset', 'button', 'image', 'color', 'file', 'hidden']);

/** Whether an element of this tag, input type and editability takes typing. */
export function takesTyping(tagName: string, inputType: unknown, editable: boolean): boolean {
  const tag = tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || editable) return true;
  return tag === 'input' && !UNTYPED_INPUTS.has(String(inputType ?? 'text').toLowerCase());
}
