import { Queue, type JobType } from 'bullmq';
import { RasterizerError, isRasterizerError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { withDeadline } from '../util/deadline.js';
import { redisConnection } from './connection.js';
import { JOB_NAME, QUEUE_NAME, jobDataToWire, jobIdForAsset, parseJobData, type JobData, type JobProgress } from './job.js';
import { jobOptions, type RetryPolicy } from './retry.js';

/** How long adding a job may take before the caller hears `queue_unavailable` (Redis away). */
export const ENQUEUE_DEADLINE_MS = 2000;

/** What enqueueing needs of the queue. */
export interface Enqueuer {
  /** Adds the asset's job (or finds it: the job id is the asset's); returns the job id. */
  add(data: JobData): Promise<string>;
  remove(jobId: string): Promise<void>;
}

/** What asset status reads of the queue. */
export interface ProgressReader {
  progress(jobId: string): Promise<JobProgress | null>;
}

/** The producers' side of the BullMQ queue: add, read progress, count, remove. */
export class JobQueue implements Enqueuer, ProgressReader {
  readonly queue: Queue;

  constructor(
    redis: { url: string; prefix: string },
    private readonly retry: RetryPolicy,
    logger?: Logger,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redisConnection(redis.url, 'producer'), prefix: redis.prefix });
    this.queue.on('error', (err) => logger?.warn({ err: { message: err.message } }, 'queue connection error'));
  }

  async add(data: JobData): Promise<string> {
    const checked = parseJobData(jobDataToWire(data));
    const jobId = jobIdForAsset(checked.assetId, checked.jobKey);
    await this.redis(this.queue.add(JOB_NAME, jobDataToWire(checked), jobOptions(this.retry, jobId)), 'adding the job');
    return jobId;
  }

  async progress(jobId: string): Promise<JobProgress | null> {
    const job = await this.redis(this.queue.getJob(jobId), 'reading the job');
    const p = job?.progress as Partial<JobProgress> | undefined;
    return p && typeof p === 'object' && typeof p.done === 'number' && typeof p.total === 'number' ? { done: p.done, total: p.total, captured: p.captured ?? 0 } : null;
  }

  async remove(jobId: string): Promise<void> {
    await this.redis(this.queue.remove(jobId), 'removing the job');
  }

  counts(...states: JobType[]): Promise<Record<string, number>> {
    return this.redis(this.queue.getJobCounts(...states), 'counting jobs');
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  /** Every Redis call: an answer within ENQUEUE_DEADLINE_MS, or `queue_unavailable`. */
  private async redis<T>(call: Promise<T>, what: string): Promise<T> {
    try {
      return await withDeadline(call, ENQUEUE_DEADLINE_MS, what, undefined, 'queue_unavailable');
    } catch (err) {
      if (isRasterizerError(err)) throw err;
      throw new RasterizerError('queue_unavailable', `the queue did not answer ${what}: ${(err as Error).message}`, { cause: err });
    }
  }
}
