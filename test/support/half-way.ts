import { build } from 'esbuild';
import type { Journey } from './recorder.js';

/**
 * `/page.html`: a click on `#open`, a shot labelled `half-way` `afterMs` after it (rounded up to the
 * GIF's grid), one at rest.
 */
export function openAndShoot(afterMs: number): Journey {
  return async ({ page, origin, idle, shot, shotAt, moveTo, firstEventTs }) => {
    await page.goto(`${origin}/page.html`);
    const t0 = await firstEventTs();
    await idle(600);
    await moveTo('#open');
    const t = Date.now();
    await page.click('#open');
    await shotAt('half-way', t0 + Math.ceil((t + afterMs - t0) / 100) * 100);
    await idle(1200);
    await shot('end');
    // A recording ends at its last event, and a transition records none.
    await page.mouse.move(5, 300);
    await idle(300);
  };
}

/** Half-way through a 1.2 s transition or animation started by the click. */
export const openHalfWay: Journey = openAndShoot(600);

/** Mean red level of a box of RGBA pixels (x, y, w, h in pixels of a picture `width` wide). */
export function level(rgba: ArrayLike<number>, width: number, [x, y, w, h]: readonly number[]): number {
  let sum = 0;
  for (let j = y!; j < y! + h!; j++) for (let i = x!; i < x! + w!; i++) sum += rgba[(j * width + i) * 4]!;
  return sum / (w! * h!);
}

/** A page script importing npm packages (a library's own build), bundled by esbuild for production. */
export async function bundleApp(source: string): Promise<Buffer> {
  const out = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return Buffer.from(out.outputFiles[0]!.contents);
}
