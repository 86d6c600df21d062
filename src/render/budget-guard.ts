import { RasterizerError } from '../errors.js';
import type { RenderResult } from './types.js';

/**
 * The last word on a byte budget, at the edges that hand a GIF out (CLI, worker): a GIF over its
 * budget is never delivered silently, whatever the encoder did. The encoder degrades the GIF to fit
 * and reports its steps; this only catches one that still does not.
 */
export function enforceBudget(result: Pick<RenderResult, 'gif' | 'budget'>, maxBytes: number | undefined): string[] | null {
  if (maxBytes === undefined) return result.budget?.steps ?? null;
  if (result.gif.length > maxBytes) {
    throw new RasterizerError('over_budget', `the GIF is ${result.gif.length} bytes, over its budget of ${maxBytes} bytes${result.budget ? ` after ${result.budget.steps.join(', ') || 'no steps'}` : ''}`);
  }
  return result.budget?.steps ?? [];
}
