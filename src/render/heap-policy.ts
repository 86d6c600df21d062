import { setFlagsFromString } from 'node:v8';

/**
 * A render allocates memory outside V8's heap faster than anything else in the process: every
 * picture the browser sends is a PNG buffer, decoded into 1.6 MB of pixels at 800x500, kept until
 * the encode. V8 starts a full garbage collection whenever such external memory has grown by a
 * fixed 64 MB since the last one, however big the heap: 6-12 full collections a 30 s moment, each
 * marking the whole heap (Playwright alone is 32 MB of it) on a second thread that the browser's
 * compositor and renderer need. With external memory counted in the heap's own growing limit
 * instead, a render does 4; Node's CPU in a render fell by 14-18 % and the render's wall by 4-6 %
 * (fixture, rustdoc and bootstrap moments, 4 alternated pairs each, peak RSS within 20 MB;
 * BENCHMARKS.md, stop 59).
 *
 * The flag is V8's own (default off in Node 24's V8 13.6) and process-wide: every isolate made after
 * it, the encoder's worker threads too, follows it. Set on the first render; only on V8 13, where
 * it was measured: another V8 may lack the flag (it would print "unrecognized flag") or count
 * differently, so it is left as it is.
 */
let applied = false;

export function countExternalMemoryInHeapLimit(): void {
  if (applied) return;
  applied = true;
  if (process.versions.v8.split('.')[0] !== '13') return;
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
