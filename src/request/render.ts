import { z } from 'zod';
import { DEFAULTS, field, fromWire, wireShape } from './fields.js';
import { parseRequest } from './parse.js';

/** How a clip is drawn. The engine's RenderOptions extend this. */
export const renderOptionsShape = {
  fps: field.fps.default(DEFAULTS.fps),
  width: field.width.default(DEFAULTS.width),
  playbackSpeed: field.playbackSpeed.default(DEFAULTS.playbackSpeed),
  footer: field.footer.default(DEFAULTS.footer),
  /** The GIF's byte budget; absent = no budget. */
  maxBytes: field.maxBytes.optional(),
};
export const renderOptions = z.strictObject(renderOptionsShape);
export type RenderOptionsInput = z.input<typeof renderOptions>;
export type ClipRenderOptions = z.output<typeof renderOptions>;

/** The service's options: every render has a byte budget, 1 MiB unless the caller says otherwise. */
export const serviceRenderOptionsShape = { ...renderOptionsShape, maxBytes: field.maxBytes.default(DEFAULTS.serviceMaxBytes) };
/** The same on the wire (job data): `playback_speed`, `max_bytes`. */
export const wireServiceRenderOptions = z.strictObject(wireShape(serviceRenderOptionsShape)).transform(fromWire);
export type ServiceRenderOptions = z.output<typeof wireServiceRenderOptions>;

/** The same options where each one may be left out (HTTP, producer): the service fills its defaults. */
export const optionalRenderOptionsShape = {
  fps: field.fps.optional(),
  width: field.width.optional(),
  playbackSpeed: field.playbackSpeed.optional(),
  footer: field.footer.optional(),
  maxBytes: field.maxBytes.optional(),
};

/** A clip must have a length: its end after its start. */
export function clipHasLength(v: { startS: number; endS?: number | undefined }, ctx: z.RefinementCtx): void {
  if (v.endS !== undefined && v.endS <= v.startS) ctx.addIssue({ code: 'custom', path: ['endS'], message: `(${v.endS} s) must be after {startS} (${v.startS} s)` });
}

/** A moment may be an instant (it is widened): its end not before its start. */
export function momentInOrder(v: { startS: number; endS: number }, ctx: z.RefinementCtx): void {
  if (v.endS < v.startS) ctx.addIssue({ code: 'custom', path: ['endS'], message: `(${v.endS} s) must not be before {startS} (${v.startS} s)` });
}

/** What the engine is asked for: a window (its end defaults to the recording's) and how to draw it. */
export const renderRequest = z
  .object({
    startS: field.offset.default(0),
    endS: field.offset.optional(),
    maxDurationS: field.maxDurationS.default(DEFAULTS.maxDurationS),
    ...renderOptionsShape,
  })
  .superRefine(clipHasLength);
export type RenderRequest = z.output<typeof renderRequest>;
export type RenderRequestInput = z.input<typeof renderRequest>;

/** The engine's check of what it is asked (library callers skip the edges). */
export function parseRenderRequest(value: RenderRequestInput): RenderRequest {
  return parseRequest(renderRequest, value);
}
