// `npm run bench`: the benchmark rows. Each row measures one thing in one run and prints a table
// (and a JSON line); rows that compare two methods interleave their renders so both see the same
// machine. The machine is shared and has 2 cores: read ratios within a row, not single timings.
//
//   npm run bench                              fixture, heavy, mdbook, reading, nodedocs, dashboard, apidocs, components, bootstrap, mkdocs, motion (budget, print and throughput only when asked)
//   npm run bench -- --row heavy --row motion  only those rows
//   npm run bench -- --row all                 every row, throughput included
//   npm run bench:throughput                   = npm run bench -- --row throughput
//   options: --runs <n> engine renders per method (default 3), --plain-runs <n> (default 1),
//            --reuse-recordings <dir> keep recorded sessions between runs, --no-replayers,
//            --no-reference (heavy rows: skip SSIM against rrweb's real-time replay),
//            fixture row: --recording f.json.gz --start 15 --end 45 --allow-origin o
//            throughput row: --moments <n> (default 9), --concurrency 1,2, --asset-cache-mb <n> (the worker's ASSET_CACHE_MB)
//            --origin-latency-ms <n>: every site answers n ms late, as one across the internet
//            (with --reuse-recordings: recording on a slow site is slow); --cache-control <value>:
//            the sites' Cache-Control (default no-cache)
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../src/render/browser.js';
import type { BenchContext, BenchRow, RowReport } from './lib/row.js';
import { Sessions } from './lib/sessions.js';
import { fixtureRow } from './rows/fixture.js';
import { apiDocsRow, bootstrapRow, componentsRow, dashboardRow, mdbookRow, mkdocsRow, nodeDocsRow, printRow, readingRow, rustdocRow } from './rows/heavy.js';
import { motionRow } from './rows/motion.js';
import { throughputRow } from './rows/throughput.js';
import { pageFaultMicros, transparentHugePages } from './lib/page-faults.js';
import { keepPagesStatus, type KeepPages } from '../src/render/keep-pages.js';

const { values: args } = parseArgs({
  options: {
    row: { type: 'string', multiple: true, default: [] },
    runs: { type: 'string', default: '3' },
    'plain-runs': { type: 'string', default: '1' },
    'reuse-recordings': { type: 'string' },
    'no-replayers': { type: 'boolean', default: false },
    'no-reference': { type: 'boolean', default: false },
    recording: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true, default: [] },
    moments: { type: 'string' },
    concurrency: { type: 'string' },
    points: { type: 'string' },
    'photo-recording': { type: 'string' },
    'asset-cache-mb': { type: 'string' },
    'origin-latency-ms': { type: 'string' },
    'cache-control': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

/**
 * The budget row lives in bench/budget.ts (the GIF encoder's work, written separately): it exports
 * `budgetRow: BenchRow`. Loaded by path so that this runner works with and without it.
 */
async function budgetRow(): Promise<BenchRow | undefined> {
  const file = join(import.meta.dirname, 'budget.ts');
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { budgetRow?: BenchRow };
  if (!mod.budgetRow) throw new Error('bench/budget.ts must export budgetRow: BenchRow (bench/lib/row.ts)');
  return mod.budgetRow;
}

async function main(): Promise<void> {
  const budget = await budgetRow();
  const all: BenchRow[] = [fixtureRow, rustdocRow, mdbookRow, readingRow, printRow, nodeDocsRow, dashboardRow, apiDocsRow, componentsRow, bootstrapRow, mkdocsRow, motionRow, ...(budget ? [budget] : []), throughputRow];
  if (args.help) {
    console.log('rows (--row <name>, repeatable; --row all):');
    for (const r of all) console.log(`  ${r.name.padEnd(11)} ${r.about}${r.onlyWhenAsked ? ' [only when asked]' : ''}`);
    return;
  }
  const asked = args.row ?? [];
  const unknown = asked.filter((n) => n !== 'all' && !all.some((r) => r.name === n));
  if (unknown.length) throw new Error(`unknown row ${unknown.join(', ')}: rows are ${all.map((r) => r.name).join(', ')}, all`);
  const rows = asked.length === 0 ? all.filter((r) => !r.onlyWhenAsked) : asked.includes('all') ? all : all.filter((r) => asked.includes(r.name));

  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const sessions = new Sessions({ reuseDir: args['reuse-recordings'], log, served: { latencyMs: Number(args['origin-latency-ms'] ?? 0), cacheControl: args['cache-control'] } });
  const ctx: BenchContext = {
    sessions,
    runs: Number(args.runs),
    plainRuns: Number(args['plain-runs']),
    log,
    options: args,
  };
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  const chromiumVersion = browser.version();
  await browser.close();
  const header = `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, chromium ${chromiumVersion}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}; a page fault ${pageFaultMicros().toFixed(2)} us (transparent huge pages: ${transparentHugePages()}); keep-pages ${describeKeepPages(await keepPagesStatus())}`;
  console.log(header);
  const reports: RowReport[] = [];
  try {
    for (const row of rows) {
      const started = Date.now();
      log(`\n== row ${row.name} (load average ${loadavg()[0]!.toFixed(2)}) ==`);
      const report = await row.run(ctx);
      reports.push(report);
      console.log(`\n## ${row.name}  (${((Date.now() - started) / 1000).toFixed(0)} s; load average after ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
      for (const line of report.lines) console.log(line);
      console.log(`\n${JSON.stringify({ row: report.row, ...report.figures })}`);
    }
  } finally {
    await sessions.close();
  }
}

await main();

function describeKeepPages(k: KeepPages): string {
  return k.state === 'on' ? 'on' : `off (${k.why})`;
}
