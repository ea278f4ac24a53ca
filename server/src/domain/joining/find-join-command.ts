import { desc, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { enrollmentTokens } from "../../platform/db/schema/agent-identity.js";
import { joinCommands } from "../../platform/db/schema/join-commands.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { parseEnrollmentToken } from "../agent-identity/enrollment-token.js";

export type JoinState = "valid" | "used" | "expired" | "revoked";

/** One join command with its token's expiry and use, and the server it is bound to. */
export interface JoinView {
  readonly id: string;
  readonly serverId: string;
  readonly serverName: string;
  readonly serverStatus: string;
  readonly serverUrl: string;
  readonly installPrefix: string;
  readonly unitName: string;
  readonly acceptedRequirements: readonly string[];
  readonly plannedInstances: number;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
  readonly state: JoinState;
}

export function joinStateOf(
  row: { readonly revokedAt: Date | null; readonly usedAt: Date | null; readonly expiresAt: Date },
  now: Date,
): JoinState {
  if (row.revokedAt) return "revoked";
  if (row.usedAt) return "used";
  if (row.expiresAt <= now) return "expired";
  return "valid";
}

function selectJoins(db: Queryable) {
  return db
    .select({
      id: joinCommands.id,
      serverId: joinCommands.serverId,
      serverName: servers.name,
      serverStatus: servers.status,
      serverUrl: joinCommands.serverUrl,
      installPrefix: joinCommands.installPrefix,
      unitName: joinCommands.unitName,
      acceptedRequirements: joinCommands.acceptedRequirements,
      plannedInstances: joinCommands.plannedInstances,
      createdBy: joinCommands.createdBy,
      createdAt: joinCommands.createdAt,
      expiresAt: enrollmentTokens.expiresAt,
      usedAt: enrollmentTokens.usedAt,
      revokedAt: joinCommands.revokedAt,
    })
    .from(joinCommands)
    .innerJoin(enrollmentTokens, eq(enrollmentTokens.id, joinCommands.enrollmentTokenId))
    .innerJoin(servers, eq(servers.id, joinCommands.serverId));
}

type Selected = Awaited<ReturnType<ReturnType<typeof selectJoins>["execute"]>>[number];
const view = (row: Selected, now: Date): JoinView => ({ ...row, state: joinStateOf(row, now) });

/** The join command whose URL carries `secret`; undefined for anything that is not one of ours. */
export async function findJoinBySecret(
  db: Queryable,
  input: { readonly secret: string; readonly caPin: string; readonly now: Date },
): Promise<JoinView | undefined> {
  const token = parseEnrollmentToken(`oce1.${input.secret}.${input.caPin}`);
  if (!token) return undefined;
  const [row] = await selectJoins(db).where(eq(enrollmentTokens.secretHash, token.secretHash));
  return row ? view(row, input.now) : undefined;
}

export async function findJoinById(db: Queryable, id: string, now: Date): Promise<JoinView | undefined> {
  const [row] = await selectJoins(db).where(eq(joinCommands.id, id));
  return row ? view(row, now) : undefined;
}

/** Newest first, at most `limit`; of one server when `serverId` is given. */
export async function listJoinCommands(
  db: Db,
  input: { readonly serverId?: string; readonly now: Date; readonly limit?: number },
): Promise<JoinView[]> {
  const query = selectJoins(db);
  const rows = await (input.serverId ? query.where(eq(joinCommands.serverId, input.serverId)) : query)
    .orderBy(desc(joinCommands.createdAt))
    .limit(input.limit ?? 200);
  return rows.map((row) => view(row, input.now));
}

/** Why a join command no longer works, in words for the person who pasted it. */
export function refusalOf(join: JoinView | undefined): string | undefined {
  if (!join) {
    return "this join command is unknown to the server: check that it was pasted whole, or create a new one in the console (Add server, join from the host).";
  }
  switch (join.state) {
    case "valid":
      return undefined;
    case "used":
      return `this join command was already used (${join.usedAt?.toISOString()}): the host joined as server "${join.serverName}", and nothing was changed now. A join command works once; to install again, create a new join command for "${join.serverName}" in the console.`;
    case "expired":
      return `this join command expired at ${join.expiresAt.toISOString()}; nothing was changed. Create a new one in the console (Add server, join from the host).`;
    case "revoked":
      return `this join command was revoked (${join.revokedAt?.toISOString()}); nothing was changed. Create a new one in the console if the host should still join.`;
  }
}
