import { pino, type DestinationStream, type Logger, type LevelWithSilent, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout, one logger per process; callers add `asset_id`/`job_id` with `child()` so
 * every line about a job can be found by either id.
 */
export function createLogger(role: string, level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'replay-rasterizer', role, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Tokens and secrets must never reach a log line, even through a logged request or config.
    redact: { paths: ['req.headers.authorization', '*.secret', '*.apiToken', '*.token'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
