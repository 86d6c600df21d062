// What following a page's shadow roots costs a step (player/shadow-roots.ts): a page of N web components, each
// with an open shadow root holding a transitioned element, and a colour changed every 100 ms outside them.
// Records a 4 s session per N with rrweb's recorder and renders it from 1 s. Usage:
//   npx tsx bench/shadow-hosts.ts [200,5000,20000]
import { recordJourney } from '../test/support/recorder.js';
import { startSite } from '../test/support/site-server.js';
import { parseRecording } from '../src/recording/parse.js';
import { renderRecording } from '../src/render/render.js';
import { DEFAULT_RENDER_OPTIONS } from '../src/render/types.js';
const files = new Map<string, { body: Buffer; type: string }>();
const site = await startSite({ generated: files });
for (const n of (process.argv[2] ?? '200,5000,20000').split(',').map(Number)) {
  files.set(`/h${n}.html`, { body: Buffer.from(`<!doctype html><html><head><style>x-h { display: inline-block; width: 4px; height: 4px; }</style></head><body><div id="t" style="width: 100px; height: 50px; background: #ccc; transition: background 300ms"></div><script>
customElements.define('x-h', class extends HTMLElement { constructor() { super(); this.attachShadow({ mode: 'open' }).innerHTML = '<style>i { display: block; width: 4px; height: 4px; background: #888; transition: opacity 200ms; }</style><i></i>'; } });
const f = document.createDocumentFragment(); for (let i = 0; i < ${n}; i++) f.appendChild(document.createElement('x-h')); document.body.appendChild(f);
let k = 0; setInterval(() => { document.getElementById('t').style.background = (k++ % 2) ? '#ccc' : '#c33'; }, 100);
</script></body></html>`), type: 'text/html' });
  const rec = await recordJourney(site.origin, async ({ page, origin, idle }) => { await page.goto(`${origin}/h${n}.html`); await idle(4000); });
  const events = parseRecording(Buffer.from(JSON.stringify(rec.events))).events;
  const len = (events.at(-1)!.timestamp - events[0]!.timestamp) / 1000;
  const t = performance.now();
  const r = await renderRecording(events, { ...DEFAULT_RENDER_OPTIONS, startS: 1, endS: len, allowOrigins: [site.origin] });
  console.log(n, 'hosts:', events.length, 'events,', JSON.stringify(rec.events).length, 'B;', ((performance.now() - t) / 1000).toFixed(2), 's; step median', r.timings.stepMedianMs, 'ms; first step', Math.round(r.timings.firstStepMs), 'ms; steps', r.timings.steps);
}
await site.close();
