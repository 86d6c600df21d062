import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A folder shipped beside the code (player/, native/, migrations/), found by walking up from this
 * module: the same answer whether it runs from src/ (tsx, tests) or from a dist/ bundle (bin, Docker).
 * `marker` is a file the folder must hold, so a same-named folder elsewhere up the tree is not taken.
 */
export function packageFolder(name: string, marker: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, name, marker))) return join(dir, name);
    dir = dirname(dir);
  }
  return undefined;
}
