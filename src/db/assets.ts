import type pg from 'pg';

export type AssetStatus = 'queued' | 'rendering' | 'done' | 'failed';

/** What the GIF shows, kept on the row as PostHog keeps it in ExportedAsset.export_context. */
export interface ExportContext {
  session_recording_id: string;
  start_offset_s: number;
  end_offset_s: number;
  playback_speed: number;
  show_metadata_footer: boolean;
  fps: number;
  width: number;
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
  createdAt: Date;
  updatedAt: Date;
  expiresAfter: Date;
}

interface AssetRow {
  id: string;
  team_id: string;
  export_format: 'image/gif';
  export_context: ExportContext;
  content_location: string | null;
  status: AssetStatus;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  expires_after: Date;
}

const COLUMNS = 'id, team_id, export_format, export_context, content_location, status, error, created_at, updated_at, expires_after';

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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAfter: row.expires_after,
  };
}

/** Keeps error texts (stack-free messages from renders) to a size a row and a log line can hold. */
const ERROR_MAX = 2000;

export class AssetRepository {
  constructor(
    private readonly db: pg.Pool,
    private readonly ttlDays = 90,
  ) {}

  async create(input: { teamId: number; exportContext: ExportContext; ttlDays?: number }): Promise<Asset> {
    const { rows } = await this.db.query<AssetRow>(
      `INSERT INTO exported_assets (team_id, export_format, export_context, status, expires_after)
       VALUES ($1, 'image/gif', $2, 'queued', now() + make_interval(days => $3))
       RETURNING ${COLUMNS}`,
      [input.teamId, JSON.stringify(input.exportContext), input.ttlDays ?? this.ttlDays],
    );
    return toAsset(rows[0]!);
  }

  async get(id: number): Promise<Asset | undefined> {
    const { rows } = await this.db.query<AssetRow>(`SELECT ${COLUMNS} FROM exported_assets WHERE id = $1`, [id]);
    return rows[0] ? toAsset(rows[0]) : undefined;
  }

  /** Any number of ids in one round trip. */
  async getMany(ids: readonly number[]): Promise<Map<number, Asset>> {
    const out = new Map<number, Asset>();
    if (ids.length === 0) return out;
    const { rows } = await this.db.query<AssetRow>(`SELECT ${COLUMNS} FROM exported_assets WHERE id = ANY($1::bigint[])`, [
      [...new Set(ids)],
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

  /** Location and status change in one statement, so no reader sees `done` without a GIF. */
  async markDone(id: number, contentLocation: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE exported_assets SET status = 'done', content_location = $2, error = NULL, updated_at = now() WHERE id = $1`,
      [id, contentLocation],
    );
    return (rowCount ?? 0) > 0;
  }

  async markFailed(id: number, error: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE exported_assets SET status = 'failed', error = $2, updated_at = now() WHERE id = $1 AND status <> 'done'`,
      [id, error.slice(0, ERROR_MAX)],
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
