// `npm run render:example`: renders a 30 s moment of examples/journey.json.gz to example.gif with the
// real CLI. The recording was made on the fixture shop at http://127.0.0.1:8765 (scripts/record-example.ts)
// and references its stylesheet, web fonts and images there, as a production recording references
// the recorded site; so the shop is served again at that origin while the render runs, and allowed
// through the network policy, which refuses loopback addresses otherwise.
import { spawn } from 'node:child_process';
import { startSite } from '../test/support/site-server.js';

const PORT = 8765;
const origin = `http://127.0.0.1:${PORT}`;

let site;
try {
  site = await startSite(PORT);
} catch (err) {
  console.error(`render:example: cannot serve the example's assets on ${origin} (${(err as NodeJS.ErrnoException).code ?? String(err)}); free that port and retry`);
  process.exit(1);
}
const args = ['bin/replay-rasterizer.js', 'render', 'examples/journey.json.gz', '--out', 'example.gif', '--start', '15', '--end', '45', '--footer', '--allow-origin', origin, ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await site.close();
process.exit(code);
