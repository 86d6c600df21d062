import { RasterizerError } from '../errors.js';
import { DEFAULTS } from './fields.js';

export interface WindowRequest {
  startS: number;
  endS: number;
  /** Shortest clip worth showing; a shorter moment is widened around its midpoint. */
  minDurationS?: number;
  /** The recording's length when known: the window is kept inside it. */
  recordingDurationS?: number;
}

/** Milliseconds are the finest the player seeks to; rounding keeps float noise out of rows and keys. */
const round = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The clip to render for a moment: at least `minDurationS` long, centred on the moment's midpoint.
 * At the recording's start the clip is pushed later (the end grows by what the start lost); at its
 * end, when known, pushed earlier (the start moves back, not below 0). A recording no longer than
 * the minimum is shown whole. The producer applies it with the length the caller knows; the worker
 * again once it has loaded the recording and knows it for sure. Inputs are already parsed.
 */
export function widenWindow(req: WindowRequest): { startS: number; endS: number } {
  const min = req.minDurationS ?? DEFAULTS.minDurationS;
  const duration = req.recordingDurationS;
  if (duration !== undefined) {
    if (duration <= min) return { startS: 0, endS: round(duration) };
    if (req.startS >= duration) {
      throw new RasterizerError('invalid_request', undefined, {
        fields: { startS: `(${req.startS} s) is at or past the end of the recording (${round(duration)} s long)` },
      });
    }
  }
  let start = req.startS;
  let end = duration !== undefined ? Math.min(req.endS, duration) : req.endS;
  if (end - start < min) {
    const mid = (start + end) / 2;
    start = mid - min / 2;
    end = mid + min / 2;
  }
  if (start < 0) {
    end -= start;
    start = 0;
  }
  if (duration !== undefined && end > duration) {
    start = Math.max(0, start - (end - duration));
    end = duration;
  }
  return { startS: round(start), endS: round(end) };
}
