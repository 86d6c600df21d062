import { describe } from 'vitest';
import { defineRenderShard } from './support/fuzz-render-shard.js';

// A third of the malformed corpus's accepted cases, rendered for real (see test/support/fuzz-render-shard.ts).
describe('malformed recordings rendered for real', () => defineRenderShard(0, 3));
