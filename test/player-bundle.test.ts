import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceKey, writePlayerBundle } from '../src/render/player-bundle.js';

describe('the prebuilt player bundle', () => {
  it('is keyed by every source of the package it was bundled from, not the entry point alone', async () => {
    // Written as `npm run build:player` writes it (the same file, the same sources: the render tests use it).
    const bundle = await writePlayerBundle();
    // The player's modules and what they import from src/ (a stale lost-css.ts once went unnoticed).
    expect(bundle.inputs).toEqual(expect.arrayContaining(['player/player.ts', 'player/stylesheets.ts', 'src/render/lost-css.ts', 'src/render/player-protocol.ts']));
    expect(bundle.inputs.some((f) => f.includes('node_modules'))).toBe(false);
    expect(await sourceKey(bundle.inputs)).toBe(bundle.key);
  });

  it('changes with any of those sources, and is not known when one is missing (a packaged install)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'player-key-'));
    try {
      await mkdir(join(root, 'player'));
      await mkdir(join(root, 'src'));
      await writeFile(join(root, 'player/index.html'), '<!doctype html>');
      await writeFile(join(root, 'player/player.ts'), 'export {};');
      await writeFile(join(root, 'src/shared.ts'), 'export const a = 1;');
      const inputs = ['player/player.ts', 'src/shared.ts'];
      const before = await sourceKey(inputs, root);
      expect(before).toMatch(/^[0-9a-f]{64}$/);
      expect(await sourceKey([...inputs].reverse(), root)).toBe(before);
      await writeFile(join(root, 'src/shared.ts'), 'export const a = 2;');
      const after = await sourceKey(inputs, root);
      expect(after).not.toBe(before);
      await writeFile(join(root, 'player/index.html'), '<!doctype html><title>x</title>');
      expect(await sourceKey(inputs, root)).not.toBe(after);
      await rm(join(root, 'src/shared.ts'));
      expect(await sourceKey(inputs, root)).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
