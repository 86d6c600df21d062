-- Up Migration
-- Shaped like PostHog's ExportedAsset so rows can be read by the same code paths.
CREATE TABLE exported_assets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id bigint NOT NULL,
  export_format text NOT NULL DEFAULT 'image/gif' CHECK (export_format IN ('image/gif')),
  export_context jsonb NOT NULL DEFAULT '{}'::jsonb,
  content_location text,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'rendering', 'done', 'failed')),
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_after timestamptz NOT NULL DEFAULT now() + interval '90 days',
  -- A row marked done always says where its GIF is.
  CONSTRAINT exported_assets_done_has_location CHECK (status <> 'done' OR content_location IS NOT NULL)
);
CREATE INDEX exported_assets_team_id_idx ON exported_assets (team_id);
CREATE INDEX exported_assets_expires_after_idx ON exported_assets (expires_after);
CREATE INDEX exported_assets_failed_idx ON exported_assets (updated_at) WHERE status = 'failed';

-- Down Migration
DROP TABLE exported_assets;
