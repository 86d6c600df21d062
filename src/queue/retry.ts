import { UnrecoverableError, type JobsOptions } from 'bullmq';
import { toRasterizerError, type RasterizerError } from '../errors.js';
import { wireName } from '../request/fields.js';

/**
 * Where a job is retried. An error that is not retryable (bad input: an unreadable or missing
 * recording, offsets outside it, a refused origin, a GIF over its budget) fails at once; anything
 * else (a browser crash, S3 or PostgreSQL trouble, a timeout) is retried with exponential backoff
 * up to `attempts` times.
 */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export function jobOptions(policy: RetryPolicy, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: 0.2 },
    // Completed jobs are only needed for deduplication and status for a while; the row holds the result.
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    // Failed jobs stay long enough for the cleanup sweep to find them even if no producer was listening.
    removeOnFail: { age: 14 * 24 * 3600, count: 50_000 },
  };
}

/**
 * The BullMQ outcome of an error, decided here once: a retryable one is thrown as it is (BullMQ
 * retries it), any other as UnrecoverableError (no retry). The message names fields as the wire
 * does (`start_offset_s`), since API clients read it in the asset's `error`.
 */
export function toJobError(err: unknown): { error: Error; cause: RasterizerError; message: string } {
  const cause = toRasterizerError(err);
  const message = cause.describe(wireName);
  if (cause.retryable) return { error: cause, cause, message };
  return { error: new UnrecoverableError(message), cause, message };
}

/** Whether BullMQ will give up on the job after this failure (the rule of Job.shouldRetryJob). */
export function isFinalAttempt(job: { attemptsMade: number; opts: { attempts?: number } }, cause: RasterizerError): boolean {
  return !cause.retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
