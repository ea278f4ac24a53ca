import { errors, jwtVerify, SignJWT } from "jose";

export interface AccessClaims {
  readonly userId: string;
  readonly sessionId: string;
}

export interface AccessTokens {
  issue(claims: AccessClaims, now: Date): Promise<{ token: string; expiresAt: Date }>;
  /** The claims, or undefined when the token is invalid or expired. */
  verify(token: string, now: Date): Promise<AccessClaims | undefined>;
}

const ISSUER = "ocore";
const AUDIENCE = "ocore-api";

/**
 * Short-lived access tokens (JWT, HS256). They carry only ids: what the user may do is read from
 * the database on every request, so revocation and role changes take effect at once.
 */
export function createAccessTokens(signingKey: Uint8Array, ttlSeconds = 15 * 60): AccessTokens {
  if (signingKey.byteLength < 32) throw new Error("the access-token signing key must be at least 32 bytes");
  return {
    async issue(claims, now) {
      const issuedAt = Math.floor(now.getTime() / 1000);
      const token = await new SignJWT({ sid: claims.sessionId })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(signingKey);
      return { token, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
    },
    async verify(token, now) {
      try {
        const { payload } = await jwtVerify(token, signingKey, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ["HS256"],
          currentDate: now,
        });
        if (typeof payload.sub !== "string" || typeof payload.sid !== "string") return undefined;
        return { userId: payload.sub, sessionId: payload.sid };
      } catch (error) {
        if (error instanceof errors.JOSEError) return undefined;
        throw error;
      }
    },
  };
}
