// Records examples/journey.json.gz: rrweb's recorder on the fixture shop served at 127.0.0.1:8765,
// the origin the example and the benchmark render with --allow-origin. Run: npx tsx scripts/record-example.ts
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { startSite } from '../test/support/site-server.js';
import { recordJourney } from '../test/support/recorder.js';
import { exampleJourney } from '../test/support/journeys.js';

export const EXAMPLE_SITE_PORT = 8765;

const site = await startSite(EXAMPLE_SITE_PORT);
try {
  const rec = await recordJourney(site.origin, exampleJourney);
  const lines = rec.events.map((e) => JSON.stringify(e)).join('\n') + '\n';
  await writeFile('examples/journey.json.gz', gzipSync(lines, { level: 9 }));
  const ts = rec.events.map((e) => (e as { timestamp: number }).timestamp);
  console.log(`${rec.events.length} events, ${((Math.max(...ts) - Math.min(...ts)) / 1000).toFixed(1)} s, ${lines.length} bytes of JSON Lines`);
} finally {
  await site.close();
}
