import { z } from 'zod';
import { EventType, IncrementalSource, MouseInteraction } from './rrweb-shape.js';

export { EventType, IncrementalSource, MouseInteraction };

/** The edge check for one event: the shape every rrweb event shares; `data` is the replayer's business. */
export const rrwebEventSchema = z.looseObject({
  type: z.number().int().min(0).max(6),
  timestamp: z.number().finite().nonnegative(),
  data: z.unknown(),
});

export interface RrwebEvent {
  type: number;
  timestamp: number;
  data: unknown;
  /** The browser window (tab) the event came from, when the source format says so. */
  windowId?: string;
  [key: string]: unknown;
}

export interface MetaData {
  href?: string;
  width: number;
  height: number;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function metaData(e: RrwebEvent): MetaData | undefined {
  if (e.type !== EventType.Meta || !isRecord(e.data)) return undefined;
  const { width, height, href } = e.data;
  if (typeof width !== 'number' || typeof height !== 'number' || !(width > 0) || !(height > 0)) return undefined;
  return { width, height, href: typeof href === 'string' ? href : undefined };
}
