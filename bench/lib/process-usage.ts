// CPU and page faults of a render's processes: Node itself and every Chromium process below it, by
// kind (the bench's answer to "where does a heavy page's time go" beyond the render's own timings).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessUsage {
  /** Per kind (node, browser, renderer, gpu-process, utility:..., zygote): processes seen, CPU ms, minor faults. */
  [kind: string]: { processes: number; cpuMs: number; minorFaults: number };
}

interface Seen {
  kind: string;
  cpuTicks: number;
  minflt: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux
/** A sample costs about 1.4 ms of Node (87 processes listed): 1-2 % of a core at this rate. */
const SAMPLE_MS = 100;

function statOf(pid: number): { ppid: number; minflt: number; cpuTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state ppid ... minflt(10) ... utime(14) stime(15).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), minflt: Number(f[7]), cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

function kindOf(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const type = /--type=([a-z-]+)/.exec(cmd)?.[1];
    if (!type) return cmd.includes('chrom') ? 'browser' : 'other';
    const sub = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1];
    return sub ? `${type}:${sub.split('.')[0]}` : type;
  } catch {
    return 'other';
  }
}

/**
 * Samples every process below this one until stopped; the last figures seen of each are its own
 * (a process's counters only grow). Linux only: elsewhere, only Node's own figures.
 */
export function sampleProcessUsage(): { stop: () => ProcessUsage } {
  const seen = new Map<number, Seen>();
  const ours = new Set<number>([process.pid]);
  // Processes found not to be below this one are not read again: a sample reads only new ones and ours.
  const others = new Set<number>();
  const startNode = process.resourceUsage();
  const sample = () => {
    let pids: number[];
    try {
      pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
    } catch {
      return;
    }
    // Ascending: a parent's pid is below its children's (but after a wrap-around, which a render's
    // few seconds do not see).
    pids.sort((a, b) => a - b);
    for (const pid of pids) {
      if (pid === process.pid || others.has(pid)) continue;
      const s = statOf(pid);
      if (!s) continue;
      if (!ours.has(pid) && !ours.has(s.ppid)) {
        others.add(pid);
        continue;
      }
      ours.add(pid);
      // Read each time: a renderer forked by the zygote shows the zygote's command line until it
      // retitles itself; an exiting process shows none.
      const kind = kindOf(pid);
      seen.set(pid, { kind: kind === 'other' ? (seen.get(pid)?.kind ?? kind) : kind, cpuTicks: s.cpuTicks, minflt: s.minflt });
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop() {
      sample();
      clearInterval(timer);
      const end = process.resourceUsage();
      const usage: ProcessUsage = {
        node: {
          processes: 1,
          cpuMs: Math.round((end.userCPUTime + end.systemCPUTime - startNode.userCPUTime - startNode.systemCPUTime) / 1000),
          minorFaults: end.minorPageFault - startNode.minorPageFault,
        },
      };
      for (const s of seen.values()) {
        const u = (usage[s.kind] ??= { processes: 0, cpuMs: 0, minorFaults: 0 });
        u.processes++;
        u.cpuMs += s.cpuTicks * TICK_MS;
        u.minorFaults += s.minflt;
      }
      return usage;
    },
  };
}
