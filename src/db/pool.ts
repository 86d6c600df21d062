import pg from 'pg';

export type Pool = pg.Pool;

/** A pg pool; an idle client's error (a restarted server) is logged instead of crashing the process. */
export function createPool(url: string, max: number, onError: (err: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  pool.on('error', onError);
  return pool;
}
