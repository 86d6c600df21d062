import { spawn } from 'node:child_process';
import type { RenderResult } from '../../src/render/types.js';
import { decodeGif } from './gif-frames.js';

/**
 * Runs `fn` while two busy processes take the machine's two cores, for checks that a render does not
 * depend on the machine's speed (every frame would be late if timing came from the wall clock).
 */
export async function withBusyCores<T>(fn: () => Promise<T>): Promise<T> {
  const burners = [0, 1].map(() => spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], { stdio: 'ignore' }));
  try {
    return await fn();
  } finally {
    for (const b of burners) b.kill('SIGKILL');
  }
}

export interface QuietAndLoaded {
  quiet: RenderResult;
  loaded: RenderResult;
  /** GIF frames (by start, in ms of GIF time) that only one of the two has: '+t' only under load, '-t' only quiet. */
  framesDiffer: string[];
}

/** The same render twice, quiet then with busy cores, and where their GIFs start different frames. */
export async function renderQuietAndLoaded(render: () => Promise<RenderResult>): Promise<QuietAndLoaded> {
  const quiet = await render();
  const loaded = await withBusyCores(render);
  const starts = (gif: Buffer) => new Set(decodeGif(gif).frames.map((f) => f.startMs));
  const q = starts(quiet.gif);
  const l = starts(loaded.gif);
  const framesDiffer = [...[...l].filter((t) => !q.has(t)).map((t) => `+${t}`), ...[...q].filter((t) => !l.has(t)).map((t) => `-${t}`)];
  return { quiet, loaded, framesDiffer };
}
