import ssh2 from "ssh2";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import { recordSshLoginRefusal } from "../../domain/ssh-gateway/ssh-audit.js";
import {
  identifyByKey,
  identifyBySecret,
  isTokenSecret,
  type SshIdentity,
  type SshIdentityDeps,
} from "../../domain/ssh-gateway/ssh-identity.js";
import { findUserBySshKey } from "../../domain/ssh-keys/user-ssh-keys.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { hostKeyFingerprint } from "../../platform/ssh/host-key.js";

const { utils } = ssh2;
const METHODS: ssh2.AuthenticationType[] = ["publickey", "keyboard-interactive", "password"];

/**
 * One authentication request of a client: a registered key, or a password / API token / access
 * token typed as the password (password or keyboard-interactive). Resolves with the identity on
 * success; every refusal answers with the methods left. Refused keys and tokens are audited
 * (aggregated per address and username); a refused password is audited by the sign-in check.
 */
export async function authenticateRequest(
  deps: SshIdentityDeps & { logger: Logger; denials: DenialAggregator },
  context: AuditContext,
  ctx: ssh2.AuthContext,
  onIdentity: (identity: SshIdentity) => void,
): Promise<SshIdentity | undefined> {
  const user = ctx.username.split("+")[0] ?? "";
  const refuse = () => {
    ctx.reject(METHODS);
    return undefined;
  };
  const audit = (reason: string) =>
    recordSshLoginRefusal(deps.denials, context, { username: user, method: ctx.method, reason });
  /** A typed secret that is a token (the password check audits its own refusals). */
  let tokenTyped = false;
  try {
    switch (ctx.method) {
      case "publickey": {
        const fingerprint = hostKeyFingerprint(ctx.key.data);
        if (!ctx.signature || !ctx.blob) {
          // The client asks whether this key would do; answer without auditing.
          const found = await findUserBySshKey(deps.db, fingerprint);
          if (found && found.user.username === user) ctx.accept();
          else {
            // Same words whether the user exists or not.
            await audit(`public key ${fingerprint} is not registered to this user`);
            refuse();
          }
          return undefined;
        }
        const parsed = utils.parseKey(ctx.key.data);
        if (
          parsed instanceof Error ||
          Array.isArray(parsed) ||
          !parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)
        ) {
          await audit(`the signature by public key ${fingerprint} does not verify`);
          return refuse();
        }
        const identity = await identifyByKey(deps, context, user, fingerprint);
        if (!identity) {
          await audit(`public key ${fingerprint} is not registered to this user`);
          return refuse();
        }
        onIdentity(identity);
        ctx.accept();
        return identity;
      }
      case "password": {
        tokenTyped = isTokenSecret(ctx.password);
        const identity = await identifyBySecret(deps, context, user, ctx.password);
        onIdentity(identity);
        ctx.accept();
        return identity;
      }
      case "keyboard-interactive": {
        const answers = await new Promise<string[]>((resolve) =>
          ctx.prompt([{ prompt: `oCore password (or API token) for ${user}: `, echo: false }], resolve),
        );
        tokenTyped = isTokenSecret(answers[0] ?? "");
        const identity = await identifyBySecret(deps, context, user, answers[0] ?? "");
        onIdentity(identity);
        ctx.accept();
        return identity;
      }
      default:
        return refuse();
    }
  } catch (error) {
    if (!(error instanceof AppError)) deps.logger.error({ err: error }, "SSH authentication failed");
    else deps.logger.info({ user, method: ctx.method, reason: error.message }, "SSH authentication refused");
    const reason = error instanceof AppError ? error.message : "internal error";
    // The password check audits its refusals; what it did not see is audited here.
    const auditedByPasswordCheck =
      ctx.method !== "publickey" &&
      !tokenTyped &&
      !(error instanceof AppError && error.code === "failed_precondition");
    if (!auditedByPasswordCheck) {
      await audit(tokenTyped ? `token refused: ${reason}` : reason).catch((auditError: unknown) =>
        deps.logger.error({ err: auditError }, "could not audit an SSH login refusal"),
      );
    }
    return refuse();
  }
}
