import type { Queue } from 'bullmq';
import type { AssetRepository } from '../db/assets.js';
import type { Logger } from '../observability/logger.js';
import type { AssetStore } from '../storage/s3.js';
import { assetIdFromJobId, jobIdForAsset } from './job.js';

export interface SweepDeps {
  assets: AssetRepository;
  store: AssetStore;
  queue: Queue;
  logger?: Logger;
}

/**
 * Deletes an asset's S3 object(s), then its row. The object goes first: if S3 fails the row stays
 * and the next sweep tries again, where the other order would leave an object nothing points at.
 * A row that is `done` is kept unless `evenIfDone` (expiry), so a stray failure event for an asset
 * that did render never deletes a good GIF.
 */
export async function deleteAsset(
  deps: Pick<SweepDeps, 'assets' | 'store'>,
  assetId: number,
  options: { teamId?: number; evenIfDone?: boolean; jobKey?: string | null } = {},
): Promise<'deleted' | 'missing' | 'kept'> {
  const asset = await deps.assets.get(assetId);
  if (asset && asset.status === 'done' && !options.evenIfDone) return 'kept';
  // A failed job from before a database reset names an asset id that is now another row's: not ours to delete.
  if (asset && options.jobKey !== undefined && asset.jobKey !== options.jobKey) return 'kept';
  const teamId = asset?.teamId ?? options.teamId;
  if (asset?.contentLocation) await deps.store.delete(asset.contentLocation);
  // A job may have uploaded and then failed before recording the location.
  if (teamId !== undefined) await deps.store.deleteForAsset(teamId, assetId);
  if (!asset) return 'missing';
  await deps.assets.delete(assetId);
  return 'deleted';
}

/**
 * The asset a job (perhaps malformed, perhaps from before a database reset) is about: its id, team
 * and job key (null for jobs made before keys existed), read leniently from its data or its id.
 */
export function jobAssetRef(data: unknown, jobId: string | undefined): { assetId: number; teamId?: number; jobKey: string | null } | undefined {
  const d = (data ?? {}) as { asset_id?: unknown; team_id?: unknown; job_key?: unknown };
  const assetId = typeof d.asset_id === 'number' ? d.asset_id : assetIdFromJobId(jobId);
  if (assetId === undefined) return undefined;
  return { assetId, teamId: typeof d.team_id === 'number' ? d.team_id : undefined, jobKey: typeof d.job_key === 'string' ? d.job_key : null };
}

/** Deletes assets past `expires_after` (rows and GIFs), a batch at a time. */
export async function sweepExpiredAssets(deps: Pick<SweepDeps, 'assets' | 'store' | 'logger'>, options: { batch?: number; now?: Date } = {}): Promise<number> {
  const batch = options.batch ?? 100;
  let deleted = 0;
  const failed = new Set<number>();
  for (;;) {
    const expired = (await deps.assets.listExpired(batch + failed.size, options.now)).filter((a) => !failed.has(a.id));
    if (expired.length === 0) break;
    for (const asset of expired) {
      try {
        if ((await deleteAsset(deps, asset.id, { evenIfDone: true })) === 'deleted') deleted++;
      } catch (err) {
        failed.add(asset.id);
        deps.logger?.warn({ err, asset_id: asset.id }, 'deleting an expired asset failed; next sweep retries');
      }
    }
    if (expired.length < batch) break;
  }
  if (deleted > 0) deps.logger?.info({ deleted }, 'expired assets deleted');
  return deleted;
}

/**
 * Deletes the assets of jobs that failed for good at least `graceMs` ago: those still in the queue's
 * failed set (whoever failed them, even a stalled-job check), and rows the worker marked failed whose
 * job has already left Redis. Their jobs are removed too, so each is handled once.
 */
export async function sweepFailedAssets(deps: SweepDeps, options: { graceMs?: number; batch?: number; now?: number } = {}): Promise<number> {
  const cutoff = (options.now ?? Date.now()) - (options.graceMs ?? 0);
  const batch = options.batch ?? 200;
  let deleted = 0;
  const skip = new Set<string>();

  // Oldest failures first; stop at the first one inside the grace period.
  let start = 0;
  for (;;) {
    const jobs = (await deps.queue.getJobs(['failed'], start, start + batch - 1, true)).filter((j) => j !== undefined);
    if (jobs.length === 0) break;
    let sawYoung = false;
    for (const job of jobs) {
      const id = job.id ?? '';
      if (skip.has(id)) continue;
      if ((job.finishedOn ?? 0) > cutoff) {
        sawYoung = true;
        break;
      }
      const ref = jobAssetRef(job.data, job.id);
      const assetId = ref?.assetId;
      try {
        if (ref && (await deleteAsset(deps, ref.assetId, ref)) === 'deleted') deleted++;
        await job.remove();
      } catch (err) {
        skip.add(id);
        start++;
        deps.logger?.warn({ err, job_id: id, asset_id: assetId }, 'cleaning up a failed job did not work; next sweep retries');
      }
    }
    if (sawYoung || jobs.length < batch) break;
  }

  for (const asset of await deps.assets.listFailed(new Date(cutoff), 1000)) {
    try {
      if ((await deleteAsset(deps, asset.id)) === 'deleted') deleted++;
      await deps.queue.remove(jobIdForAsset(asset.id, asset.jobKey));
    } catch (err) {
      deps.logger?.warn({ err, asset_id: asset.id }, 'deleting a failed asset did not work; next sweep retries');
    }
  }
  if (deleted > 0) deps.logger?.info({ deleted }, 'assets of failed jobs deleted');
  return deleted;
}
