import { isViewable, type AssetReads } from '../db/assets.js';
import type { UrlSigner } from './public-url.js';

/**
 * A signed public URL per asset id of one team, or null for an asset that is missing, another
 * team's, failed, not done or expired. One query whatever the number of ids.
 */
export async function resolvePreviewUrls(deps: { assets: AssetReads; signer: UrlSigner }, teamId: number, assetIds: readonly number[]): Promise<Map<number, string | null>> {
  const rows = await deps.assets.getManyForTeam(
    assetIds.filter((id) => Number.isSafeInteger(id) && id > 0),
    teamId,
  );
  const now = Date.now();
  const out = new Map<number, string | null>();
  await Promise.all(
    assetIds.map(async (id) => {
      const asset = rows.get(id);
      out.set(id, asset && isViewable(asset, now) ? await deps.signer.url({ assetId: asset.id, teamId: asset.teamId, expiresAfter: asset.expiresAfter }) : null);
    }),
  );
  return out;
}
