import { readFileSync } from 'node:fs';

/**
 * What touching a fresh page of memory costs on this machine, in microseconds (median of three
 * 32 MiB buffers, one write a page). Machines of the same kind here differ by 2x on the same render
 * (BENCHMARKS.md); on stop 32's, a fault cost 10 us (a PVM guest) and the display compositor took
 * about 1,500 of them a picture, so the figure is printed beside every bench run to explain walls.
 */
export function pageFaultMicros(): number {
  const page = 4096;
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    // Large zero-filled buffers come from fresh mmap'd memory, so each page's first write faults.
    const buf = Buffer.alloc(32 * 1024 * 1024);
    const from = performance.now();
    for (let i = 0; i < buf.length; i += page) buf[i] = 1;
    runs.push(((performance.now() - from) * 1000) / (buf.length / page));
  }
  return runs.sort((a, b) => a - b)[1]!;
}

/** The kernel's transparent huge page mode ("always", "madvise", "never"), if it says. */
export function transparentHugePages(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}
