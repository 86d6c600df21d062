// Where one render's time goes: npx tsx bench/profile-render.ts <recordings dir> <fixture|motion|rustdoc|mdbook|reading> [--trace out.json] [--chromium-arg=--flag ...] [--origin-latency-ms N] [--cache-control VALUE] [--no-prefetch] [--warm-up [--asset-cache]]
//
// Renders a recording saved by `npm run bench -- --reuse-recordings <dir>` in a browser started here
// and prints:
// - the render's own figures (RenderResult.timings);
// - CPU time by process and thread (Node's, and every Chromium process under this one), read from
//   /proc every 50 ms: which thread the two cores spent the render on; with each thread's minor page
//   faults, and what one costs on this machine (10 us on stop 32's PVM guest: BENCHMARKS.md);
// - with --trace: a Chromium trace of the render (written to the file), summarised: each main
//   thread's busiest trace events by self time, and the page's JavaScript by self time (V8's sampling
//   profiler in the trace). A forced style or layout shows up under the script call that forced it.
// --warm-up renders the moment once before the measured render, in the same browser (a worker's
// browser has rendered before); with --asset-cache both renders share a worker's asset cache
// (src/render/asset-cache.ts), so the measured render is a session's second job in a worker.
// --cache-control sets the site's Cache-Control (default no-cache, which no cache reuses unasked).
// The site is served by this process, as bench/lib/tree-render.ts does; the bench rows serve it from
// theirs. Traced renders are slower than untraced ones: read the shares, not the totals.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { RrwebEvent } from '../src/recording/types.js';
import { AssetCache } from '../src/render/asset-cache.js';
import { launchBrowser } from '../src/render/browser.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
import { pageFaultMicros, transparentHugePages } from './lib/page-faults.js';
import { keepPagesStatus } from '../src/render/keep-pages.js';
import { openStored, STORED_NAMES, type StoredName } from './lib/stored-recording.js';
import { mainBrowserProcesses } from '../test/support/service-procs.js';
import { ProcessSampler } from './lib/process-usage.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { trace: { type: 'string' }, 'chromium-arg': { type: 'string', multiple: true }, 'origin-latency-ms': { type: 'string' }, 'cache-control': { type: 'string' }, 'no-prefetch': { type: 'boolean' }, 'warm-up': { type: 'boolean' }, 'asset-cache': { type: 'boolean' } } });
const [recordings, which] = positionals as [string, StoredName];
if (!recordings || !STORED_NAMES.includes(which)) {
  console.error(`usage: tsx bench/profile-render.ts <recordings dir> <${STORED_NAMES.join('|')}> [--trace out.json] [--chromium-arg=--flag ...] [--origin-latency-ms N] [--cache-control VALUE] [--no-prefetch] [--warm-up [--asset-cache]]`);
  process.exit(2);
}

const TRACE_CATEGORIES = ['devtools.timeline', 'blink', 'cc', 'viz', 'toplevel', 'v8.execute', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler', 'blink.user_timing'];
/** VmHWM of the Chromium browser processes under this one, in MiB. */
function browserPeakRssMiB(): number {
  const kib = mainBrowserProcesses(process.pid).reduce((sum, p) => sum + Number(/VmHWM:\s+(\d+)/.exec(read(`/proc/${p.pid}/status`) ?? '')?.[1] ?? 0), 0);
  return Math.round(kib / 1024);
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string; data?: { cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } };
}
interface ProfileNode {
  id: number;
  parent?: number;
  callFrame: { functionName: string; url?: string };
}

/** Self time of each trace event name on the threads called `thread`, busiest first, and the thread's busy time. */
function selfTimes(events: TraceEvent[], thread: string): { busyMs: number; top: { name: string; selfMs: number; n: number }[] } {
  const threads = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === thread).map((e) => `${e.pid}/${e.tid}`));
  const xs = events.filter((e) => e.ph === 'X' && e.dur !== undefined && threads.has(`${e.pid}/${e.tid}`)).sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const self = new Map<string, { selfMs: number; n: number }>();
  const stack: TraceEvent[] = [];
  let busy = 0;
  for (const e of xs) {
    while (stack.length && stack[stack.length - 1]!.ts + stack[stack.length - 1]!.dur! <= e.ts) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) self.get(parent.name)!.selfMs -= e.dur! / 1000;
    else busy += e.dur!;
    const s = self.get(e.name) ?? { selfMs: 0, n: 0 };
    s.selfMs += e.dur! / 1000;
    s.n++;
    self.set(e.name, s);
    stack.push(e);
  }
  const top = [...self].map(([name, s]) => ({ name, ...s })).sort((a, b) => b.selfMs - a.selfMs);
  return { busyMs: busy / 1000, top };
}

/** The page's JavaScript by self time, from the V8 sampling profiler's chunks in the trace. */
function scriptSelfTimes(events: TraceEvent[]): { name: string; selfMs: number }[] {
  const nodes = new Map<number, ProfileNode>();
  const self = new Map<string, number>();
  for (const e of events) {
    if (e.name !== 'ProfileChunk') continue;
    const data = e.args?.data;
    for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    const samples = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    samples.forEach((id, i) => {
      const f = nodes.get(id)?.callFrame;
      if (!f) return;
      const name = `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.split('/').pop()}` : ''}`;
      self.set(name, (self.get(name) ?? 0) + (deltas[i] ?? 0) / 1000);
    });
  }
  return [...self].map(([name, selfMs]) => ({ name, selfMs })).sort((a, b) => b.selfMs - a.selfMs);
}

const stored = await openStored(recordings, which, { latencyMs: Number(values['origin-latency-ms'] ?? 0), cacheControl: values['cache-control'] });
const browser = await launchBrowser({ args: values['chromium-arg'] ?? [] }, 'begin-frame', { probe: false });
const options = { ...DEFAULT_RENDER_OPTIONS, startS: stored.startS, endS: stored.endS, allowOrigins: [stored.origin] };
// The worker's defaults (ASSET_CACHE_MB, ASSET_CACHE_MAX_AGE_S).
const assetCache = values['asset-cache'] ? new AssetCache({ maxBytes: 64 * 1024 * 1024, maxAgeMs: 600_000 }) : undefined;
if (values['warm-up']) {
  const w = await renderRecording(stored.raw as RrwebEvent[], options, { browser, prefetchAssets: !values['no-prefetch'], assetCache });
  console.log(`warm-up render: ${w.wallMs} ms, asset wait ${w.timings.assetWaitMs} ms${assetCache ? `; the asset cache kept ${assetCache.counts.stored} answers (${(assetCache.size / 1024).toFixed(0)} KiB)` : ''}`);
}
const events: TraceEvent[] = [];
const cdp = values.trace ? await browser.newBrowserCDPSession() : undefined;
if (cdp) {
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: TRACE_CATEGORIES } });
}
const cpu = new ProcessSampler({ threads: true, intervalMs: 50 });
try {
  const r = await renderRecording(stored.raw as RrwebEvent[], options, { browser, prefetchAssets: !values['no-prefetch'], assetCache });
  const threads = cpu.stop().byThread;
  console.log(`${which} ${stored.startS}-${stored.endS} s: ${r.wallMs} ms to the GIF (browser started before, so launch is not in it), ${r.captured} pictures, ${r.gif.length} bytes`);
  console.log(`timings: ${JSON.stringify(r.timings)}`);
  console.log(`assets: prefetched ${r.assetsPrefetched.urls}, asked for by the page ${r.assetsPrefetched.used}, failed ${r.assetFailures}, from the asset cache ${r.assetsFromCache}`);
  const total = threads.reduce((s, t) => s + t.cpuMs, 0) / 1000;
  const faults = threads.reduce((s, t) => s + t.minorFaults, 0);
  const faultUs = pageFaultMicros();
  const keep = await keepPagesStatus();
  console.log(`\nCPU and minor page faults by process and thread while rendering (${total.toFixed(2)} s, ${faults} faults in all; a fault costs ${faultUs.toFixed(2)} us here, transparent huge pages: ${transparentHugePages()}; keep-pages ${keep.state === 'on' ? 'on' : `off: ${keep.why}`}):`);
  for (const t of threads.filter((t) => t.cpuMs >= 10 || t.minorFaults >= 1000)) console.log(`  ${(t.cpuMs / 1000).toFixed(2).padStart(6)} s  ${String(t.minorFaults).padStart(7)} faults  ${t.key}`);
  console.log(`Chromium's browser process (the display compositor's home): peak RSS ${browserPeakRssMiB()} MiB`);
  if (cdp) {
    const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    await complete;
    await writeFile(values.trace!, JSON.stringify({ traceEvents: events }));
    for (const thread of ['CrRendererMain', 'VizCompositorThread', 'CrBrowserMain']) {
      const { busyMs, top } = selfTimes(events, thread);
      console.log(`\n${thread}: busy ${busyMs.toFixed(0)} ms; trace events by self time:`);
      for (const t of top.slice(0, 14)) console.log(`  ${t.selfMs.toFixed(1).padStart(8)} ms  ${String(t.n).padStart(6)}x  ${t.name}`);
    }
    console.log('\nthe page\'s JavaScript by self time (native calls such as getAnimations or scrollTo include the style and layout they force):');
    for (const t of scriptSelfTimes(events).slice(0, 16)) console.log(`  ${t.selfMs.toFixed(1).padStart(8)} ms  ${t.name}`);
    console.log(`\ntrace written to ${values.trace} (chrome://tracing or https://ui.perfetto.dev)`);
  }
} finally {
  await browser.close();
  await stored.close();
}
