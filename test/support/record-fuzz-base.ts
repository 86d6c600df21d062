// Records test/fixtures/hostile/fuzz-base.json.gz, the real recording the malformed corpus is
// derived from (rrweb's recorder on the fixture shop, test/support/fuzz-run.ts's journey). Kept in
// the repository so that every run derives the same cases (a truncation offset or a flipped byte
// names the same place). Run: npx tsx test/support/record-fuzz-base.ts
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { FUZZ_BASE_PATH, recordFuzzBase } from './fuzz-run.js';

const events = await recordFuzzBase();
await writeFile(FUZZ_BASE_PATH, gzipSync(JSON.stringify(events), { level: 9 }));
console.log(`${events.length} events written to ${FUZZ_BASE_PATH}`);
