import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HEAVY_MOMENT } from '../../test/support/heavy-journeys.js';
import type { Shot } from '../../test/support/recorder.js';
import type { ServedAs } from '../../test/support/site-server.js';
import { FIXTURE_WINDOW } from '../rows/fixture.js';
import { MOTION_MOMENT } from '../rows/motion.js';
import { serveSession } from './sessions.js';

export const STORED_NAMES = ['fixture', 'motion', 'rustdoc', 'mdbook', 'reading', 'print', 'nodedocs', 'dashboard', 'apidocs', 'components', 'bootstrap', 'mkdocs'] as const;
export type StoredName = (typeof STORED_NAMES)[number];

export interface StoredRecording {
  raw: unknown[];
  origin: string;
  /** The recording's first viewport, and the live screenshots taken while it was recorded (PNG in base64). */
  viewport: Shot['viewport'];
  shots: (Omit<Shot, 'png'> & { png: string })[];
  /** The moment its bench row renders. */
  startS: number;
  endS: number;
  /** Stops serving its site. */
  close(): Promise<void>;
}

/**
 * A recording saved by `npm run bench -- --reuse-recordings <dir>`, with its site served again on the
 * port the recording names (in this process: a render's assets come from here).
 */
export async function openStored(recordings: string, which: StoredName, served: ServedAs = {}): Promise<StoredRecording> {
  const stored = JSON.parse(await readFile(join(recordings, `${which}.json`), 'utf8')) as Pick<StoredRecording, 'origin' | 'raw' | 'viewport' | 'shots'>;
  const port = Number(new URL(stored.origin).port);
  const { server } = await serveSession(which, port, served);
  const { startS, endS } = which === 'fixture' ? FIXTURE_WINDOW : which === 'motion' ? MOTION_MOMENT : HEAVY_MOMENT;
  return { raw: stored.raw, origin: stored.origin, viewport: stored.viewport, shots: stored.shots ?? [], startS, endS, close: () => server.close() };
}
