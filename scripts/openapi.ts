// Writes openapi.json from the code's schemas (`npm run openapi`); test/service/contract.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../src/http/openapi.js';

const out = join(import.meta.dirname, '..', 'openapi.json');
writeFileSync(out, JSON.stringify(openApiDocument(), null, 2) + '\n');
process.stdout.write(`wrote ${out}\n`);
