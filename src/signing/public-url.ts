import { SignJWT, jwtVerify, errors } from 'jose';

/** Scopes tokens to this use, so a JWT signed with the same secret for something else is refused. */
const AUDIENCE = 'replay-rasterizer:preview';
const ISSUER = 'replay-rasterizer';

export interface PreviewClaims {
  assetId: number;
  teamId: number;
}

/** Why a token was refused: `expired` is told apart so a client knows to ask for a fresh URL. */
export class PreviewTokenError extends Error {
  override readonly name = 'PreviewTokenError';
  constructor(
    readonly reason: 'invalid' | 'expired',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Signs and verifies the public preview URL `${baseUrl}/public/previews/<jwt>`: an HS256 JWT naming
 * the asset and its team, valid for `ttlS` seconds. Anyone holding the URL can see that one GIF.
 */
export class PreviewSigner {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly baseUrl: string,
    readonly ttlS: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(claims: PreviewClaims, now: Date = new Date()): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ team_id: claims.teamId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(claims.assetId))
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlS)
      .sign(this.key);
  }

  async url(claims: PreviewClaims, now?: Date): Promise<string> {
    return `${this.baseUrl}/public/previews/${await this.sign(claims, now)}`;
  }

  async verify(token: string): Promise<PreviewClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], audience: AUDIENCE, issuer: ISSUER, requiredClaims: ['exp', 'sub'] }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new PreviewTokenError('expired', 'preview link has expired');
      throw new PreviewTokenError('invalid', 'preview link is not valid');
    }
    const assetId = Number(payload.sub);
    const teamId = payload.team_id;
    if (!Number.isSafeInteger(assetId) || assetId < 1 || typeof teamId !== 'number' || !Number.isSafeInteger(teamId)) {
      throw new PreviewTokenError('invalid', 'preview link is not valid');
    }
    return { assetId, teamId };
  }
}
