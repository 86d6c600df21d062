// CPU and minor page faults of this process and every process below it (Chromium's), read from
// /proc while a render runs: by kind of process for the bench rows (measure.ts), by thread for
// bench/profile-render.ts. Linux only; elsewhere nothing is read and the figures are empty.
import { readdirSync, readFileSync } from 'node:fs';
import { chromiumKind, cmdlineOf, parseStat } from '../../test/support/service-procs.js';

/** Per kind (node, chromiumKind's: browser, renderer, zygote, utility:network, launcher; other): processes seen, CPU ms, minor faults. */
export type ProcessUsage = Record<string, { processes: number; cpuMs: number; minorFaults: number }>;

/** One thread's figures over the sampling, by `kind: thread name` (threads of one name summed). */
export interface ThreadUsage {
  key: string;
  cpuMs: number;
  minorFaults: number;
}

interface Figures {
  kind: string;
  thread?: string;
  ticks: number;
  faults: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function kindOf(pid: number): string {
  if (pid === process.pid) return 'node';
  return chromiumKind(cmdlineOf(pid)) ?? 'other';
}

/**
 * Samples until stopped; each process's (or thread's) last figures seen, less what it had when
 * sampling began, are its own over the sampling. `threads` reads every thread too (about ten times
 * the reads). A sample of processes costs about 1.4 ms of Node with 87 processes on the machine.
 */
export class ProcessSampler {
  private readonly procs = new Map<number, Figures>();
  private readonly threadFigures = new Map<string, Figures>();
  private readonly before = new Map<string, { ticks: number; faults: number }>();
  private readonly ours = new Set<number>([process.pid]);
  /** Processes found not to be below this one: not read again (a sample reads only new ones and ours). */
  private readonly others = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: { threads?: boolean; intervalMs?: number } = {}) {
    this.sample();
    for (const [pid, f] of this.procs) this.before.set(`${pid}`, f);
    for (const [key, f] of this.threadFigures) this.before.set(key, f);
    this.timer = setInterval(() => this.sample(), opts.intervalMs ?? 100);
  }

  private sample(): void {
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
      if (this.others.has(pid)) continue;
      const stat = read(`/proc/${pid}/stat`);
      if (!stat) continue;
      const s = parseStat(stat);
      if (!this.ours.has(pid) && !this.ours.has(s.ppid)) {
        this.others.add(pid);
        continue;
      }
      this.ours.add(pid);
      // Read each time: a renderer forked by the zygote shows the zygote's command line until it
      // retitles itself; an exiting process shows none.
      const kind = kindOf(pid);
      const known = this.procs.get(pid)?.kind;
      const k = kind === 'other' && known ? known : kind;
      this.procs.set(pid, { kind: k, ticks: s.cpuTicks, faults: s.minorFaults });
      if (this.opts.threads) this.sampleThreads(pid, k);
    }
  }

  private sampleThreads(pid: number, kind: string): void {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      const s = parseStat(stat);
      this.threadFigures.set(`${pid}/${tid}`, { kind, thread: s.name.replace(/\d+$/, ''), ticks: s.cpuTicks, faults: s.minorFaults });
    }
  }

  private own(key: string, f: Figures): { cpuMs: number; minorFaults: number } {
    const had = this.before.get(key) ?? { ticks: 0, faults: 0 };
    return { cpuMs: (f.ticks - had.ticks) * TICK_MS, minorFaults: f.faults - had.faults };
  }

  /** Stops sampling: the figures by kind of process, and (with `threads`) by thread, busiest first. */
  stop(): { byKind: ProcessUsage; byThread: ThreadUsage[] } {
    this.sample();
    clearInterval(this.timer);
    const byKind: ProcessUsage = {};
    for (const [pid, f] of this.procs) {
      const { cpuMs, minorFaults } = this.own(`${pid}`, f);
      const u = (byKind[f.kind] ??= { processes: 0, cpuMs: 0, minorFaults: 0 });
      u.processes++;
      u.cpuMs += cpuMs;
      u.minorFaults += minorFaults;
    }
    const threads = new Map<string, ThreadUsage>();
    for (const [key, f] of this.threadFigures) {
      const name = `${f.kind}: ${f.thread}`;
      const { cpuMs, minorFaults } = this.own(key, f);
      const t = threads.get(name) ?? { key: name, cpuMs: 0, minorFaults: 0 };
      t.cpuMs += cpuMs;
      t.minorFaults += minorFaults;
      threads.set(name, t);
    }
    return { byKind, byThread: [...threads.values()].sort((a, b) => b.cpuMs - a.cpuMs) };
  }
}
