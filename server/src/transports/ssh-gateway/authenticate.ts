import ssh2 from "ssh2";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import {
  identifyByKey,
  identifyBySecret,
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
 * success; every refusal answers with the methods left.
 */
export async function authenticateRequest(
  deps: SshIdentityDeps & { logger: Logger },
  context: AuditContext,
  ctx: ssh2.AuthContext,
  onIdentity: (identity: SshIdentity) => void,
): Promise<SshIdentity | undefined> {
  const user = ctx.username.split("+")[0] ?? "";
  const refuse = () => {
    ctx.reject(METHODS);
    return undefined;
  };
  try {
    switch (ctx.method) {
      case "publickey": {
        const fingerprint = hostKeyFingerprint(ctx.key.data);
        if (!ctx.signature || !ctx.blob) {
          // The client asks whether this key would do; answer without auditing.
          const found = await findUserBySshKey(deps.db, fingerprint);
          if (found && found.user.username === user) ctx.accept();
          else refuse();
          return undefined;
        }
        const parsed = utils.parseKey(ctx.key.data);
        if (
          parsed instanceof Error ||
          Array.isArray(parsed) ||
          !parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo)
        ) {
          return refuse();
        }
        const identity = await identifyByKey(deps, context, user, fingerprint);
        if (!identity) return refuse();
        onIdentity(identity);
        ctx.accept();
        return identity;
      }
      case "password": {
        const identity = await identifyBySecret(deps, context, user, ctx.password);
        onIdentity(identity);
        ctx.accept();
        return identity;
      }
      case "keyboard-interactive": {
        const answers = await new Promise<string[]>((resolve) =>
          ctx.prompt([{ prompt: `oCore password (or API token) for ${user}: `, echo: false }], resolve),
        );
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
    return refuse();
  }
}
