import { z } from 'zod';

/** Problems a segment can show, most severe first: a segment is previewed for the first that applies. */
export const PROBLEM_TYPES = ['blocking_exception', 'abandonment', 'non_blocking_exception', 'confusion', 'failure'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

/**
 * A segment of a session summary, in the signals pipeline's shape: times from the recording's start
 * as `MM:SS` or `HH:MM:SS`, and what was seen in it. Other fields are kept and ignored.
 */
export const segmentSchema = z.looseObject({
  start_time: z.string({ error: 'must be a string such as 01:05 or 00:01:05' }),
  end_time: z.string({ error: 'must be a string such as 01:35 or 00:01:35' }),
  exception: z.enum(['blocking', 'non-blocking'], { error: 'must be "blocking", "non-blocking" or null' }).nullish(),
  abandonment_detected: z.boolean({ error: 'must be true or false' }).nullish(),
  confusion_detected: z.boolean({ error: 'must be true or false' }).nullish(),
  success: z.boolean({ error: 'must be true or false' }).nullish(),
});
export type Segment = z.input<typeof segmentSchema>;

export function classifySegment(segment: z.output<typeof segmentSchema>): ProblemType | undefined {
  if (segment.exception === 'blocking') return 'blocking_exception';
  if (segment.abandonment_detected === true) return 'abandonment';
  if (segment.exception === 'non-blocking') return 'non_blocking_exception';
  if (segment.confusion_detected === true) return 'confusion';
  if (segment.success === false) return 'failure';
  return undefined;
}

const SECONDS = String.raw`([0-5]?\d(?:\.\d+)?)`;
const MM_SS = new RegExp(String.raw`^(\d+):${SECONDS}$`);
const HH_MM_SS = new RegExp(String.raw`^(\d+):([0-5]?\d):${SECONDS}$`);

/**
 * `MM:SS` or `HH:MM:SS` (seconds may be fractional) as seconds; undefined for anything else, so a
 * garbled time is reported instead of silently becoming 0.
 */
export function parseSegmentTime(value: string): number | undefined {
  const text = value.trim();
  let m = HH_MM_SS.exec(text);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  m = MM_SS.exec(text);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  return undefined;
}
