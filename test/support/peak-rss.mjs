// Preloaded into a child process (node --import) by tests that bound a command's memory: at exit,
// writes the process's peak resident set size in KiB (Linux VmHWM) to $PEAK_RSS_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.PEAK_RSS_FILE;
if (out) {
  process.on('exit', () => {
    try {
      const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      if (m) writeFileSync(out, m[1]);
    } catch {
      // no /proc: nothing to report
    }
  });
}
