import { eq } from "drizzle-orm";
import { isUuid } from "../../platform/db/is-uuid.js";
import { enrollmentTokens } from "../../platform/db/schema/agent-identity.js";
import { joinCommands } from "../../platform/db/schema/join-commands.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import { MAX_TOKEN_TTL_MS } from "../agent-identity/create-enrollment-token.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { checkAccepted, checkPlanned } from "../servers/lifecycle-deps.js";
import { checkServerName, checkTags } from "../servers/tags.js";
import { findJoinById, type JoinView } from "./find-join-command.js";
import {
  joinCommandTexts,
  joinScriptFor,
  joinUrlOf,
  newJoinSecret,
  normalizeServerUrl,
} from "./join-command-text.js";
import type { JoinDeps } from "./join-deps.js";

export interface CreatedJoinCommand {
  readonly join: JoinView;
  readonly command: string;
  readonly verifiedCommand: string;
  readonly scriptSha256: string;
  readonly uninstallCommand: string;
}

/** Message of a server that waits for its host to run the join command. */
export const AWAITING_JOIN_MESSAGE =
  "waiting for the join command to run on the host (Add server, join from the host)";

/**
 * Creates a join command bound to a new server record (`name`, `tags`; status `pending`) or to
 * an existing one (`serverId`): a single-use enrollment token (only its hash is stored) and the
 * parameters the join script is rendered with. The command text is returned only here.
 */
export async function createJoinCommand(
  deps: JoinDeps,
  context: AuditContext,
  input: {
    readonly serverId: string;
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly ttlMs?: number;
    readonly serverUrl: string;
    readonly plannedInstances: number;
    readonly acceptedRequirements: readonly string[];
  },
): Promise<CreatedJoinCommand> {
  const ttlMs = input.ttlMs ?? deps.ttlMs;
  if (!Number.isFinite(ttlMs) || ttlMs < 60_000 || ttlMs > MAX_TOKEN_TTL_MS) {
    throw AppError.invalid("ttl", "must be between 1 minute and 7 days");
  }
  const given = input.serverUrl.trim() || deps.publicUrl || "";
  if (!given) {
    throw AppError.invalid(
      "serverUrl",
      "is required when OCORE_PUBLIC_URL is not set: the address the host reaches this server at, e.g. http://10.0.0.5:8080",
    );
  }
  const serverUrl = normalizeServerUrl(given);
  if (!serverUrl) {
    throw AppError.invalid(
      "serverUrl",
      "must be http:// or https:// with a host name or IP address and an optional port, nothing after it",
    );
  }
  const plannedInstances = checkPlanned(input.plannedInstances);
  const accepted = checkAccepted(input.acceptedRequirements);
  const existingId = input.serverId.trim();
  if (existingId && !isUuid(existingId)) throw AppError.invalid("serverId", "must be a server's id (a UUID)");
  const name = existingId ? "" : checkServerName(input.name);
  const tags = existingId ? {} : checkTags(input.tags);
  // No command without an agent to hand out (a clear failed_precondition instead of a dead link).
  await deps.agentRelease();
  const now = deps.now();
  const secret = newJoinSecret(deps.ca.pin);
  const expiresAt = new Date(now.getTime() + ttlMs);

  const joinId = await deps.db.transaction(async (tx) => {
    let serverId = existingId;
    if (serverId) {
      const [server] = await tx
        .select({ status: servers.status })
        .from(servers)
        .where(eq(servers.id, serverId));
      if (!server) throw new AppError("not_found", `server ${serverId} does not exist`);
      if (server.status === "removing") {
        throw new AppError("failed_precondition", `server ${serverId} is being removed`);
      }
    } else {
      const [clash] = await tx.select({ id: servers.id }).from(servers).where(eq(servers.name, name));
      if (clash) throw new AppError("already_exists", `a server named "${name}" exists; choose another name`);
      const [created] = await tx
        .insert(servers)
        .values({
          name,
          tags,
          status: "pending",
          statusMessage: AWAITING_JOIN_MESSAGE,
          createdAt: now,
          updatedAt: now,
        })
        .returning({ id: servers.id });
      if (!created) throw new Error("the server was not created");
      serverId = created.id;
    }
    const [token] = await tx
      .insert(enrollmentTokens)
      .values({ serverId, secretHash: secret.secretHash, expiresAt, createdAt: now })
      .returning({ id: enrollmentTokens.id });
    if (!token) throw new Error("the enrollment token was not created");
    const [join] = await tx
      .insert(joinCommands)
      .values({
        serverId,
        enrollmentTokenId: token.id,
        serverUrl,
        installPrefix: deps.install.prefix(serverId),
        unitName: deps.install.unitName(serverId),
        acceptedRequirements: accepted,
        plannedInstances,
        createdBy: context.actor.name,
        createdAt: now,
      })
      .returning({ id: joinCommands.id });
    if (!join) throw new Error("the join command was not created");
    await recordAudit(
      tx,
      context,
      {
        action: "server.join_command.create",
        targetType: "server",
        targetId: serverId,
        after: {
          joinCommandId: join.id,
          // A new server record is created with the command: one entry says both.
          ...(existingId ? {} : { createdServer: { name, tags, status: "pending" } }),
          serverUrl,
          expiresAt,
          plannedInstances,
          acceptedRequirements: accepted,
        },
      },
      now,
    );
    return join.id;
  });
  const join = await findJoinById(deps.db, joinId, now);
  if (!join) throw new Error("the join command vanished");
  const script = await joinScriptFor(deps, join, secret.secret);
  return { join, ...joinCommandTexts(joinUrlOf(serverUrl, secret.secret), script, join.installPrefix) };
}
