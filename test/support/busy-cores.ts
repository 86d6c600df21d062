import { spawn } from 'node:child_process';

/**
 * Runs `fn` while two busy processes take the machine's two cores, for checks that a render does not
 * depend on the machine's speed (every frame would be late if timing came from the wall clock).
 */
export async function withBusyCores<T>(fn: () => Promise<T>): Promise<T> {
  const burners = [0, 1].map(() => spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], { stdio: 'ignore' }));
  try {
    return await fn();
  } finally {
    for (const b of burners) b.kill('SIGKILL');
  }
}
