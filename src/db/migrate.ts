import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../observability/logger.js';
import { packageFolder } from '../util/package-folder.js';

/** Any constant: it only has to differ from other users of advisory locks in the same database. */
const MIGRATION_LOCK_KEY = 72_418_653;
const FIRST_MIGRATION = '1767225600000_exported-assets.sql';

/** The `migrations/` folder of this package (its first migration marks it). */
export function migrationsDir(): string {
  const dir = packageFolder('migrations', FIRST_MIGRATION);
  if (!dir) throw new Error('cannot find the migrations/ folder of replay-rasterizer');
  return dir;
}

/**
 * Applies pending migrations with node-pg-migrate. Server and worker both migrate on start-up, often
 * at the same moment: node-pg-migrate's own lock fails the second runner instead of waiting, so we
 * hold a blocking advisory lock around the run and let the second one find nothing to do.
 */
export async function runMigrations(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await runner({
        dbClient: client,
        dir: migrationsDir(),
        direction: 'up',
        migrationsTable: 'pgmigrations',
        noLock: true,
        singleTransaction: true,
        checkOrder: true,
        log: () => {},
        logger: {
          debug: () => {},
          info: (msg: string) => logger?.debug({ migration: msg }, 'migration'),
          warn: (msg: string) => logger?.warn({ migration: msg }, 'migration'),
          error: (msg: string) => logger?.error({ migration: msg }, 'migration'),
        },
      });
      const names = applied.map((m) => m.name);
      if (names.length > 0) logger?.info({ applied: names }, 'migrations applied');
      return names;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
