// Records the two multi-window sessions of test/support/windows-recordings.ts to files, for trying
// the engine by hand: <out>/<scenario>.jsonl (PostHog snapshot lines), <out>/<scenario>-<label>.png
// (live screenshots) and <out>/<scenario>.moments.json (label, window id, seconds from the start).
// The recordings reference the fixture shop at http://127.0.0.1:<port> (default 8766): serve it there
// again while rendering (npx tsx -e "import('./test/support/site-server.ts').then(m => m.startSite(8766))")
// and pass --allow-origin http://127.0.0.1:8766.
//   npx tsx scripts/record-windows.ts [out-dir] [port]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSite } from '../test/support/site-server.js';
import { recordWindowsSession } from '../test/support/windows-recordings.js';

const out = process.argv[2] ?? '.tmp/windows';
const port = Number(process.argv[3] ?? 8766);
await mkdir(out, { recursive: true });
const site = await startSite(port);
try {
  for (const scenario of ['two-tabs', 'reload'] as const) {
    const rec = await recordWindowsSession(scenario, site.origin);
    await writeFile(join(out, `${scenario}.jsonl`), rec.lines);
    for (const m of rec.moments) await writeFile(join(out, `${scenario}-${m.label}.png`), m.shot.png);
    await writeFile(join(out, `${scenario}.moments.json`), JSON.stringify(rec.moments.map((m) => ({ label: m.label, window_id: m.windowId, at_s: m.atS })), null, 2));
    console.log(`${scenario}: ${rec.recording.events.length} events in ${rec.windows.length} windows, ${rec.moments.length} moments -> ${out}`, rec.recording.dropped);
  }
} finally {
  await site.close();
}
