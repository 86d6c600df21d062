import { z } from 'zod';

/**
 * Every input the product takes, defined once: its limits, its default, its schema and its names.
 * The CLI, the HTTP API, the producer, the job and the engine all parse through these. Inside the
 * code a field has one camelCase name; on the wire (HTTP, job data) one snake_case name; the CLI has
 * its flags. Messages never name the field: each edge adds the name its audience knows.
 */
export const LIMITS = {
  fps: { min: 1, max: 50 },
  width: { min: 64, max: 1920 },
  playbackSpeed: { max: 16 },
  /** A GIF budget below a few KiB cannot hold even one frame at the smallest width. */
  maxBytes: { min: 4096, max: 256 * 1024 * 1024 },
  maxDurationS: { max: 3600 },
  sessionIdLength: 200,
  /** Segments in one problem-previews call, ids in one preview-urls call. */
  segmentsPerCall: 100,
  assetIdsPerCall: 1000,
} as const;

export const DEFAULTS = {
  fps: 10,
  width: 800,
  playbackSpeed: 1,
  footer: false,
  /** The service's GIF budget (1 MiB); the CLI has none unless --max-bytes is given. */
  serviceMaxBytes: 1024 * 1024,
  /** Problem previews carry the metadata footer, as the product's previews always have. */
  problemPreviewFooter: true,
  /** A moment shorter than this is widened around its midpoint. */
  minDurationS: 30,
  maxDurationS: 600,
} as const;

/** Session ids are file names and URL path parts: letters, digits, `.`, `_`, `-`, no leading dot. */
export const SESSION_ID_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${LIMITS.sessionIdLength - 1}}$`);

/** "is required" when absent, "must be <what>" when of the wrong type. */
const typed = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });

const wholeId = (what: string) =>
  z
    .number(typed(what))
    .int('must be a whole number')
    .positive('must be positive')
    .refine(Number.isSafeInteger, 'is too large');

/** The field schemas. z.number() already refuses NaN and ±Infinity. */
export const field = {
  assetId: wholeId('an asset id (a positive whole number)'),
  teamId: wholeId('a number'),
  sessionId: z
    .string(typed('a string'))
    .regex(SESSION_ID_PATTERN, `may hold only letters, digits, '.', '_' and '-' (at most ${LIMITS.sessionIdLength}, not starting with '.')`)
    .refine((v) => !v.includes('..'), "must not contain '..'"),
  /** Seconds from the recording's first event. */
  offset: z.number(typed('a number of seconds')).nonnegative('must not be negative'),
  minDurationS: z.number(typed('a number of seconds')).nonnegative('must not be negative'),
  recordingDurationS: z.number(typed('a number of seconds')).positive('must be above 0'),
  maxDurationS: z.number(typed('a number of seconds')).positive('must be above 0').max(LIMITS.maxDurationS.max, `must be at most ${LIMITS.maxDurationS.max}`),
  fps: z
    .number(typed('a number'))
    .int('must be a whole number')
    .min(LIMITS.fps.min, `must be at least ${LIMITS.fps.min}`)
    .max(LIMITS.fps.max, `must be at most ${LIMITS.fps.max}`),
  width: z
    .number(typed('a number'))
    .int('must be a whole number of pixels')
    .min(LIMITS.width.min, `must be at least ${LIMITS.width.min}`)
    .max(LIMITS.width.max, `must be at most ${LIMITS.width.max}`),
  playbackSpeed: z
    .number(typed('a number'))
    .positive(`must be above 0 and at most ${LIMITS.playbackSpeed.max}`)
    .max(LIMITS.playbackSpeed.max, `must be above 0 and at most ${LIMITS.playbackSpeed.max}`),
  footer: z.boolean(typed('true or false')),
  maxBytes: z
    .number(typed('a number of bytes'))
    .int('must be a whole number of bytes')
    .min(LIMITS.maxBytes.min, `must be at least ${LIMITS.maxBytes.min}`)
    .max(LIMITS.maxBytes.max, `must be at most ${LIMITS.maxBytes.max}`),
};

/** Inside name → wire name. Names not listed are the same on both sides (`fps`, `width`, `footer`, `options`). */
export const WIRE_NAMES = {
  assetId: 'asset_id',
  teamId: 'team_id',
  sessionId: 'session_id',
  startS: 'start_offset_s',
  endS: 'end_offset_s',
  minDurationS: 'min_duration_s',
  recordingDurationS: 'recording_duration_s',
  playbackSpeed: 'playback_speed',
  maxBytes: 'max_bytes',
  assetIds: 'asset_ids',
  jobKey: 'job_key',
  problemType: 'problem_type',
} as const;

/** Inside name → CLI flag. */
export const CLI_FLAGS: Record<string, string> = {
  startS: '--start',
  endS: '--end',
  fps: '--fps',
  width: '--width',
  playbackSpeed: '--speed',
  footer: '--footer',
  maxBytes: '--max-bytes',
  maxDurationS: '--max-duration',
  allowOrigins: '--allow-origin',
  out: '--out',
};

type InsideName = keyof typeof WIRE_NAMES;
type WireName = (typeof WIRE_NAMES)[InsideName];
type InsideOf<W> = { [K in InsideName]: (typeof WIRE_NAMES)[K] extends W ? K : never }[InsideName];

const INSIDE_OF = new Map<string, string>(Object.entries(WIRE_NAMES).map(([inside, wire]) => [wire, inside]));

/** A field's wire name (a path's parts each), for HTTP messages and job errors. */
export const wireName = (name: string): string => (Object.hasOwn(WIRE_NAMES, name) ? (WIRE_NAMES as Record<string, string>)[name]! : name);
/** A field's CLI flag. */
export const flagName = (name: string): string => (Object.hasOwn(CLI_FLAGS, name) ? CLI_FLAGS[name]! : name);
/** A wire or inside name as the inside name. */
export const insideName = (name: string): string => INSIDE_OF.get(name) ?? name;

export type WireShape<S> = { [K in keyof S as K extends InsideName ? (typeof WIRE_NAMES)[K] : K]: S[K] };
export type FromWire<T> = { [K in keyof T as K extends WireName ? InsideOf<K> : K]: T[K] };

/** The same shape keyed by wire names: the wire schema is the inside schema renamed, never written twice. */
export function wireShape<S extends Record<string, z.ZodType>>(shape: S): WireShape<S> {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [wireName(k), v])) as WireShape<S>;
}

/** Parsed wire data with inside names (a zod transform). */
export function fromWire<T extends Record<string, unknown>>(value: T): FromWire<T> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [insideName(k), v])) as FromWire<T>;
}

/** Inside data with wire names (job data, HTTP answers). */
export function toWire<T extends Record<string, unknown>>(value: T): WireShape<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [wireName(k), v])) as WireShape<T>;
}

/** A number schema fed from text (a CLI flag, a path or query parameter): '' and junk are NaN, so "must be a number". */
export function fromText<S extends z.ZodType>(schema: S) {
  return z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? Number.NaN : Number(v)) : v), schema);
}
