import { randomBytes } from 'node:crypto';
import type pg from 'pg';

export type AssetStatus = 'queued' | 'rendering' | 'done' | 'failed';

/** What the GIF shows, kept on the row as PostHog keeps it in ExportedAsset.export_context. */
export interface ExportContext {
  session_recording_id: string;
  /** The clip: as asked for until the worker renders it, then as rendered. */
  start_offset_s: number;
  end_offset_s: number;
  /** The shortest clip wanted (the worker keeps it when it moves a clip back from the recording's end). */
  min_duration_s?: number;
  playback_speed: number;
  show_metadata_footer: boolean;
  fps: number;
  width: number;
  /** The GIF's byte budget. */
  max_bytes?: number;
  /** Set by enqueueSessionProblems: why this moment was picked. */
  problem_type?: string;
  [key: string]: unknown;
}

export interface Asset {
  id: number;
  teamId: number;
  exportFormat: 'image/gif';
  exportContext: ExportContext;
  contentLocation: string | null;
  status: AssetStatus;
  error: string | null;
  /** Part of the asset's job id (null on rows made before job keys existed). */
  jobKey: string | null;
  /** What the GIF writer did to fit the byte budget; null until done (or for rows before budgets). */
  budgetSteps: string[] | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAfter: Date;
}

/** What a render did, written with its location in one statement. */
export interface RenderedAsset {
  contentLocation: string;
  startS: number;
  endS: number;
  budgetSteps: string[];
}

interface AssetRow {
  id: string;
  team_id: string;
  export_format: 'image/gif';
  export_context: ExportContext;
  content_location: string | null;
  status: AssetStatus;
  error: string | null;
  job_key: string | null;
  budget_steps: string[] | null;
  created_at: Date;
  updated_at: Date;
  expires_after: Date;
}

const COLUMNS = 'id, team_id, export_format, export_context, content_location, status, error, job_key, budget_steps, created_at, updated_at, expires_after';

/** pg returns bigint as text; ids stay far below 2^53, and we check rather than trust that. */
function toId(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`id ${value} does not fit a JavaScript number`);
  return n;
}

function toAsset(row: AssetRow): Asset {
  return {
    id: toId(row.id),
    teamId: toId(row.team_id),
    exportFormat: row.export_format,
    exportContext: row.export_context,
    contentLocation: row.content_location,
    status: row.status,
    error: row.error,
    jobKey: row.job_key,
    budgetSteps: row.budget_steps,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAfter: row.expires_after,
  };
}

/** Keeps error texts (stack-free messages from renders) to a size a row and a log line can hold. */
const ERROR_MAX = 2000;

/** Whether a preview of this asset may be shown: done, with a GIF, not expired. */
export function isViewable(asset: Asset, now = Date.now()): boolean {
  return asset.status === 'done' && asset.contentLocation !== null && asset.expiresAfter.getTime() > now;
}

/** The reads an API route needs: always within one team (another team's asset does not exist for it). */
export interface AssetReads {
  getForTeam(id: number, teamId: number): Promise<Asset | undefined>;
  getManyForTeam(ids: readonly number[], teamId: number): Promise<Map<number, Asset>>;
}

/** What the worker does to a row. */
export interface AssetRenders {
  get(id: number): Promise<Asset | undefined>;
  markRendering(id: number): Promise<boolean>;
  markDone(id: number, rendered: RenderedAsset): Promise<boolean>;
  /** Only the row this job was made for (`jobKey`): a stale job never marks another row. */
  markFailed(id: number, jobKey: string | null, error: string): Promise<boolean>;
}

export class AssetRepository implements AssetReads, AssetRenders {
  constructor(
    private readonly db: pg.Pool,
    private readonly ttlDays: number,
  ) {}

  /**
   * A new queued row with a fresh job key. With a `dedupeKey`, an asset of the same team and key that
   * has not failed or expired is returned instead (`created: false`); the unique index decides races.
   */
  async create(input: { teamId: number; exportContext: ExportContext; dedupeKey?: string }): Promise<{ asset: Asset; created: boolean }> {
    const insert = () =>
      this.db.query<AssetRow>(
        `INSERT INTO exported_assets (team_id, export_format, export_context, status, expires_after, job_key, dedupe_key)
         VALUES ($1, 'image/gif', $2, 'queued', now() + make_interval(days => $3), $4, $5)
         ON CONFLICT (team_id, dedupe_key) WHERE dedupe_key IS NOT NULL AND status <> 'failed' DO NOTHING
         RETURNING ${COLUMNS}`,
        [input.teamId, JSON.stringify(input.exportContext), this.ttlDays, randomBytes(8).toString('hex'), input.dedupeKey ?? null],
      );
    if (input.dedupeKey === undefined) return { asset: toAsset((await insert()).rows[0]!), created: true };
    // An expired row that the sweep has not deleted yet is not handed out again.
    await this.db.query(`UPDATE exported_assets SET dedupe_key = NULL WHERE team_id = $1 AND dedupe_key = $2 AND expires_after <= now()`, [input.teamId, input.dedupeKey]);
    for (let tries = 0; tries < 3; tries++) {
      const { rows } = await insert();
      if (rows[0]) return { asset: toAsset(rows[0]), created: true };
      const existing = await this.db.query<AssetRow>(
        `SELECT ${COLUMNS} FROM exported_assets WHERE team_id = $1 AND dedupe_key = $2 AND status <> 'failed'`,
        [input.teamId, input.dedupeKey],
      );
      if (existing.rows[0]) return { asset: toAsset(existing.rows[0]), created: false };
    }
    throw new Error('could not create or find the asset (it kept failing under us)');
  }

  async get(id: number): Promise<Asset | undefined> {
    const { rows } = await this.db.query<AssetRow>(`SELECT ${COLUMNS} FROM exported_assets WHERE id = $1`, [id]);
    return rows[0] ? toAsset(rows[0]) : undefined;
  }

  async getForTeam(id: number, teamId: number): Promise<Asset | undefined> {
    const { rows } = await this.db.query<AssetRow>(`SELECT ${COLUMNS} FROM exported_assets WHERE id = $1 AND team_id = $2`, [id, teamId]);
    return rows[0] ? toAsset(rows[0]) : undefined;
  }

  /** Any number of ids in one round trip; ids of other teams are simply not found. */
  async getManyForTeam(ids: readonly number[], teamId: number): Promise<Map<number, Asset>> {
    const out = new Map<number, Asset>();
    if (ids.length === 0) return out;
    const { rows } = await this.db.query<AssetRow>(`SELECT ${COLUMNS} FROM exported_assets WHERE id = ANY($1::bigint[]) AND team_id = $2`, [
      [...new Set(ids)],
      teamId,
    ]);
    for (const row of rows) {
      const asset = toAsset(row);
      out.set(asset.id, asset);
    }
    return out;
  }

  /** A retried job renders again: the row goes back to rendering and loses the last error. */
  async markRendering(id: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE exported_assets SET status = 'rendering', error = NULL, updated_at = now() WHERE id = $1 AND status <> 'done'`,
      [id],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Location, status, the clip rendered and the budget steps change in one statement, so no reader
   * sees `done` without a GIF, or a GIF with the clip it was asked for rather than the one it shows.
   */
  async markDone(id: number, rendered: RenderedAsset): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE exported_assets
          SET status = 'done', content_location = $2, error = NULL, updated_at = now(), budget_steps = $5,
              export_context = export_context || jsonb_build_object('start_offset_s', $3::float8, 'end_offset_s', $4::float8)
        WHERE id = $1`,
      [id, rendered.contentLocation, rendered.startS, rendered.endS, rendered.budgetSteps],
    );
    return (rowCount ?? 0) > 0;
  }

  async markFailed(id: number, jobKey: string | null, error: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE exported_assets SET status = 'failed', error = $2, updated_at = now() WHERE id = $1 AND status <> 'done' AND job_key IS NOT DISTINCT FROM $3`,
      [id, error.slice(0, ERROR_MAX), jobKey],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Deletes a row and returns what it was (for its S3 object), or undefined if it was already gone. */
  async delete(id: number): Promise<Asset | undefined> {
    const { rows } = await this.db.query<AssetRow>(`DELETE FROM exported_assets WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    return rows[0] ? toAsset(rows[0]) : undefined;
  }

  async listExpired(limit: number, now: Date = new Date()): Promise<Asset[]> {
    const { rows } = await this.db.query<AssetRow>(
      `SELECT ${COLUMNS} FROM exported_assets WHERE expires_after <= $1 ORDER BY expires_after LIMIT $2`,
      [now, limit],
    );
    return rows.map(toAsset);
  }

  async listFailed(olderThan: Date, limit: number): Promise<Asset[]> {
    const { rows } = await this.db.query<AssetRow>(
      `SELECT ${COLUMNS} FROM exported_assets WHERE status = 'failed' AND updated_at <= $1 ORDER BY updated_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map(toAsset);
  }
}
