import type { Command } from 'commander';
import { isConfigError, loadConfig, type Config, type Role } from '../config/config.js';
import { createLogger, type Logger } from '../observability/logger.js';

/**
 * `worker`, `server` and `migrate`: the running service (see src/queue, src/http, src/db). Each loads
 * its modules when it runs, so `render` starts without BullMQ, express, pg or the S3 client.
 */
export function registerServiceCommands(program: Command): void {
  registerRunningRole(program, 'worker', 'Render queued jobs (BullMQ queue rasterize-recording); configured by the environment (see README)', async (config, logger) => {
    const { startWorker } = await import('../queue/worker.js');
    return startWorker(config, { logger });
  });
  registerRunningRole(program, 'server', 'Serve the HTTP API (enqueue, asset status, public previews, health, metrics); configured by the environment', async (config, logger) => {
    const { startServer } = await import('../http/server.js');
    return startServer(config, { logger });
  });

  program
    .command('migrate')
    .description('Apply pending PostgreSQL migrations (DATABASE_URL) and exit')
    .action(async () => {
      const config = configFor('migrate');
      const logger = createLogger('migrate', config.logLevel);
      const { runMigrations } = await import('../db/migrate.js');
      try {
        const applied = await runMigrations(config.database.url, logger);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'no pending migrations\n');
      } catch (err) {
        process.stderr.write(`replay-rasterizer: migrate failed: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

/** A role that runs until a signal: start it (or exit 1), then drain and exit on SIGTERM/SIGINT. */
function registerRunningRole(
  program: Command,
  role: 'worker' | 'server',
  description: string,
  start: (config: Config, logger: Logger) => Promise<{ close(): Promise<void> }>,
): void {
  program
    .command(role)
    .description(description)
    .action(async () => {
      const config = configFor(role);
      const logger = createLogger(role, config.logLevel);
      const starting = startOrExit(() => start(config, logger), logger);
      // Taken before start-up ends: a SIGTERM while the role starts (its health check may answer by
      // then) drains it once started and exits 0, instead of Node's default death by the signal.
      stopOnSignals(async () => (await starting).close(), logger);
      await starting;
    });
}

function configFor(role: Role) {
  try {
    return loadConfig(role);
  } catch (err) {
    if (isConfigError(err)) {
      process.stderr.write(`replay-rasterizer ${role}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function startOrExit<T>(start: () => Promise<T>, logger: ReturnType<typeof createLogger>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

/**
 * SIGTERM/SIGINT drain and exit 0; a second signal exits at once (the stalled-job check hands any
 * abandoned job to another worker).
 */
function stopOnSignals(close: () => Promise<void>, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
