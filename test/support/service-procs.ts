import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * The service's processes as the Docker image runs them (`node bin/replay-rasterizer.js server|worker`),
 * with their JSON log lines collected, and what the reliability tests read from /proc about them:
 * the Chromium processes under a worker and resident memory.
 */

const root = join(import.meta.dirname, '..', '..');

export interface ServiceProcess {
  name: string;
  role: 'server' | 'worker';
  child: ChildProcess;
  pid: number;
  /** Parsed JSON log lines (pino), in order. */
  lines: Record<string, unknown>[];
  /** stderr and stdout lines that are not JSON. */
  other: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether it is still running. */
  running(): boolean;
}

const launched: ServiceProcess[] = [];

export function launchService(role: 'server' | 'worker', env: Record<string, string>, name: string = role): ServiceProcess {
  const child = spawn(process.execPath, ['bin/replay-rasterizer.js', role], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}),
      ...(process.env.CHROMIUM_KEEP_PAGES ? { CHROMIUM_KEEP_PAGES: process.env.CHROMIUM_KEEP_PAGES } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service: ServiceProcess = {
    name,
    role,
    child,
    pid: child.pid!,
    lines: [],
    other: [],
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    running: () => child.exitCode === null && child.signalCode === null,
  };
  launched.push(service);
  const reader = (into: 'stdout' | 'stderr') => {
    let buffered = '';
    return (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        if (line.trim() === '') continue;
        if (into === 'stdout' && line.startsWith('{')) {
          try {
            service.lines.push(JSON.parse(line) as Record<string, unknown>);
            continue;
          } catch {
            // fall through
          }
        }
        service.other.push(line);
      }
    };
  };
  child.stdout!.on('data', reader('stdout'));
  child.stderr!.on('data', reader('stderr'));
  return service;
}

/** Log lines of a process with this `msg` (and, if given, about this asset). */
export function logLines(service: ServiceProcess | ServiceProcess[], msg: string | RegExp, assetId?: number): Record<string, unknown>[] {
  const all = Array.isArray(service) ? service.flatMap((s) => s.lines) : service.lines;
  return all.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))) && (assetId === undefined || l.asset_id === assetId));
}

export async function waitUntil<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits for the worker's metrics listener or the server's /healthz to answer 200. */
export async function waitHealthy(service: ServiceProcess, url: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(`${service.name} to answer ${url}`, async () => {
    if (!service.running()) throw new Error(`${service.name} exited: ${service.other.join('\n').slice(-2000)}`);
    return fetch(url).then((r) => r.ok, () => false);
  }, timeoutMs, 100);
}

// --- /proc ---------------------------------------------------------------------------------------

interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  cmdline: string;
}

/** Fields of a /proc/<pid>/stat line ("pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses). */
export function parseStat(stat: string): { name: string; ppid: number; pgid: number; minorFaults: number; cpuTicks: number } {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    minorFaults: Number(rest[7]),
    cpuTicks: Number(rest[11]) + Number(rest[12]),
  };
}

/** A process's command line, its arguments joined by spaces ('' when it is gone or exiting). */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function readProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid, pgid } = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(entry), ppid, pgid, cmdline });
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/** Every process below `pid` (children, grandchildren, ...). */
export function descendants(pid: number): ProcInfo[] {
  const procs = readProcs();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of byParent.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

/** Chromium processes whose parent chain leads to `pid` (the launcher script, the browser, its helpers). */
export function chromiumUnder(pid: number): ProcInfo[] {
  return descendants(pid).filter((p) => CHROMIUM.test(p.cmdline));
}

const CHROMIUM = /chromium|chrome|headless_shell/;
/** Not chrome_crashpad_handler, which runs without --type. */
const BROWSER_BINARIES = new Set(['chromium-headless-shell', 'headless_shell', 'chromium', 'chrome']);

/** Chromium processes on the machine whose ancestry is not among live processes we know (leftovers of a killed worker). */
export function chromiumInGroups(pgids: number[]): ProcInfo[] {
  const set = new Set(pgids);
  return readProcs().filter((p) => set.has(p.pgid) && CHROMIUM.test(p.cmdline));
}

/**
 * What a Chromium process is, from its command line: 'browser' for the main browser process (the
 * real binary with no --type), its --type (with a utility's sub-type: 'utility:network') for the
 * others, 'launcher' for what runs without --type but is not the browser (Debian's
 * /usr/bin/chromium-headless-shell is a shell script that runs the browser as its child;
 * chrome_crashpad_handler); undefined when it is not Chromium. Chromium rewrites its children's
 * command lines as one string, so --type is matched as text.
 */
export function chromiumKind(cmdline: string): string | undefined {
  if (!CHROMIUM.test(cmdline)) return undefined;
  const type = / --type=([a-z-]+)/.exec(cmdline)?.[1];
  if (type) {
    const sub = / --utility-sub-type=(\w+)/.exec(cmdline)?.[1];
    return sub ? `${type}:${sub}` : type;
  }
  return BROWSER_BINARIES.has(basename(cmdline.split(' ')[0] ?? '')) ? 'browser' : 'launcher';
}

/** The main browser processes (chromiumKind 'browser') under `pid`. */
export function mainBrowserProcesses(pid: number): ProcInfo[] {
  return chromiumUnder(pid).filter((p) => chromiumKind(p.cmdline) === 'browser');
}

/** Resident memory of a process in KiB (VmRSS), or undefined when it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGKILLs a worker and every Chromium process group it started (Playwright starts them detached). */
export async function killWithBrowsers(service: ServiceProcess): Promise<void> {
  const groups = [...new Set(chromiumUnder(service.pid).map((p) => p.pgid))];
  if (service.running()) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** For afterAll: every process launched by this file, and its browsers, whatever state a failed test left. */
export async function killAllLaunched(): Promise<void> {
  await Promise.all(launched.splice(0).map((s) => killWithBrowsers(s)));
}

