import { InputError } from '../recording/errors.js';

/** A bad window, naming the field at fault (the HTTP layer reports it per field). */
export class WindowError extends InputError {
  constructor(
    readonly field: 'start_offset_s' | 'end_offset_s' | 'min_duration_s' | 'recording_duration_s',
    message: string,
  ) {
    super(message);
  }
}

export interface WindowRequest {
  startS: number;
  endS: number;
  /** Shortest clip worth showing; a shorter moment is widened around its midpoint. */
  minDurationS?: number;
  /** The recording's length when known: the window is kept inside it. */
  recordingDurationS?: number;
}

export const DEFAULT_MIN_DURATION_S = 30;

/** Milliseconds are the finest the player seeks to; rounding keeps float noise out of rows and keys. */
const round = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The clip to render for a moment: at least `minDurationS` long, centred on the moment's midpoint.
 * At the recording's start the clip is pushed later (the end grows by what the start lost); at its
 * end, when known, pushed earlier. A recording no longer than the minimum is shown whole.
 */
export function widenWindow(req: WindowRequest): { startS: number; endS: number } {
  const min = req.minDurationS ?? DEFAULT_MIN_DURATION_S;
  const duration = req.recordingDurationS;
  if (!Number.isFinite(req.startS) || req.startS < 0) throw new WindowError('start_offset_s', 'start_offset_s must be a number of seconds, 0 or more');
  if (!Number.isFinite(req.endS) || req.endS < req.startS) throw new WindowError('end_offset_s', 'end_offset_s must be a number of seconds, not before start_offset_s');
  if (!Number.isFinite(min) || min < 0) throw new WindowError('min_duration_s', 'min_duration_s must be a number of seconds, 0 or more');
  if (duration !== undefined && (!Number.isFinite(duration) || duration <= 0)) {
    throw new WindowError('recording_duration_s', 'recording_duration_s must be a positive number of seconds');
  }

  if (duration !== undefined) {
    if (duration <= min) return { startS: 0, endS: round(duration) };
    if (req.startS >= duration) {
      throw new WindowError('start_offset_s', `start_offset_s (${req.startS}) is at or past the recording's end (${duration} s)`);
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
