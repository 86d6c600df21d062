-- Up Migration
-- job_key: random per asset, part of its BullMQ job id, so ids that start again at 1 after a
--   database reset never meet the jobs Redis still holds for the old rows.
-- dedupe_key: problem previews of the same team, session, clip and options share one asset while
--   it has not failed (the partial unique index is the rule, race-free).
-- budget_steps: what the GIF writer did to fit the byte budget ("lossy:40", "colors:128", ...).
ALTER TABLE exported_assets
  ADD COLUMN job_key text,
  ADD COLUMN dedupe_key text,
  ADD COLUMN budget_steps text[];
CREATE UNIQUE INDEX exported_assets_dedupe_idx ON exported_assets (team_id, dedupe_key)
  WHERE dedupe_key IS NOT NULL AND status <> 'failed';
-- Every insert states expires_after from ASSET_TTL_DAYS: one default, in the configuration.
ALTER TABLE exported_assets ALTER COLUMN expires_after DROP DEFAULT;

-- Down Migration
ALTER TABLE exported_assets ALTER COLUMN expires_after SET DEFAULT now() + interval '90 days';
DROP INDEX exported_assets_dedupe_idx;
ALTER TABLE exported_assets DROP COLUMN budget_steps, DROP COLUMN dedupe_key, DROP COLUMN job_key;
