import { spawn } from 'node:child_process';
import type { RenderContext, RenderResult } from '../../src/render/types.js';

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
  /** Frame slots at which only one of the two renders took a picture ('+k': only under load, '-k': only quiet). */
  slotsDiffer: string[];
}

/** The same render twice, quiet then with busy cores, noting at which frame slots each took a picture. */
export async function renderQuietAndLoaded(render: (onProgress: RenderContext['onProgress']) => Promise<RenderResult>): Promise<QuietAndLoaded> {
  const slotsOf = () => {
    const slots = new Set<number>();
    let last = 0;
    const onProgress: RenderContext['onProgress'] = (p) => {
      if (p.captured > last) slots.add(p.done - 1);
      last = p.captured;
    };
    return { slots, onProgress };
  };
  const q = slotsOf();
  const quiet = await render(q.onProgress);
  const l = slotsOf();
  const loaded = await withBusyCores(() => render(l.onProgress));
  const slotsDiffer = [...[...l.slots].filter((k) => !q.slots.has(k)).map((k) => `+${k}`), ...[...q.slots].filter((k) => !l.slots.has(k)).map((k) => `-${k}`)];
  return { quiet, loaded, slotsDiffer };
}
