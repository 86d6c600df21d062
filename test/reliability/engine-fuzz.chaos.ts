import { describe } from 'vitest';
import { defineRenderShard } from '../support/fuzz-render-shard.js';

// `npm run test:chaos`: the render engine's fuzz at a larger scale: about 1700 malformed recordings
// (several times the truncations, byte flips and junk fields of `npm test`'s corpus) from a seed,
// every accepted one rendered for real. CHAOS_SEED=n replays a run (the seed is printed); the
// default is today's date. See test/support/fuzz-run.ts (corpusOptions).
process.env.CHAOS ??= '1';

describe('engine fuzz, chaos scale: shard 1', () => defineRenderShard(0, 3));
describe('engine fuzz, chaos scale: shard 2', () => defineRenderShard(1, 3));
describe('engine fuzz, chaos scale: shard 3', () => defineRenderShard(2, 3));
