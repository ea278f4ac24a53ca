import { and, asc, eq } from "drizzle-orm";
import { portBlocks } from "../../platform/db/schema/instances.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";

/** Blocks start here and are this far apart; within a block +0 web, +1 longpolling, +2 Mailpit. */
export const FIRST_BASE_PORT = 10_000;
export const BLOCK_SIZE = 10;
/** The ports of a block the instance actually publishes. */
export const PORTS_USED_PER_BLOCK = 3;
const LAST_BASE_PORT = 65_520;
const MAX_ATTEMPTS = 50;

export interface PortBlock {
  readonly web: number;
  readonly longpolling: number;
  readonly mailpit: number;
}

export function portsOfBlock(basePort: number): PortBlock {
  return { web: basePort, longpolling: basePort + 1, mailpit: basePort + 2 };
}

/**
 * The lowest base port that is neither allocated nor touching a port something else listens on
 * (any of the block's published ports), or undefined when the range is full.
 */
export function firstFreeBase(
  allocated: ReadonlySet<number>,
  listening: ReadonlySet<number>,
): number | undefined {
  for (let base = FIRST_BASE_PORT; base <= LAST_BASE_PORT; base += BLOCK_SIZE) {
    if (allocated.has(base)) continue;
    let busy = false;
    for (let port = base; port < base + PORTS_USED_PER_BLOCK; port += 1) busy ||= listening.has(port);
    if (!busy) return base;
  }
  return undefined;
}

/**
 * Allocates a block for `instanceId` on `serverId`. The (server_id, base_port) primary key is the
 * arbiter, not a check before the insert: the insert skips a conflicting row (ON CONFLICT DO
 * NOTHING waits for a concurrent writer of the same key and then sees its row), and a writer that
 * lost the race reads the blocks again and tries the next free one. `listening` are the host's
 * listening ports as its agent reported them; blocks touching them are skipped.
 */
export async function allocatePortBlock(
  db: Queryable,
  input: { serverId: string; instanceId: string; listening: ReadonlySet<number> },
): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const rows = await db
      .select({ basePort: portBlocks.basePort })
      .from(portBlocks)
      .where(eq(portBlocks.serverId, input.serverId))
      .orderBy(asc(portBlocks.basePort));
    const base = firstFreeBase(new Set(rows.map((row) => row.basePort)), input.listening);
    if (base === undefined) {
      throw new AppError(
        "resource_exhausted",
        `every port block of this server (${FIRST_BASE_PORT}-${LAST_BASE_PORT + BLOCK_SIZE - 1}) is taken: delete unused instances or use another server`,
      );
    }
    const inserted = await db
      .insert(portBlocks)
      .values({ serverId: input.serverId, basePort: base, instanceId: input.instanceId })
      .onConflictDoNothing({ target: [portBlocks.serverId, portBlocks.basePort] })
      .returning({ basePort: portBlocks.basePort });
    if (inserted[0]) return inserted[0].basePort;
  }
  throw new AppError(
    "unavailable",
    "could not allocate a port block: too many instances are being created on this server at once; try again",
  );
}

/** Frees an instance's block (deleting the instance frees it too, by cascade). */
export async function releasePortBlock(db: Queryable, serverId: string, instanceId: string): Promise<void> {
  await db
    .delete(portBlocks)
    .where(and(eq(portBlocks.serverId, serverId), eq(portBlocks.instanceId, instanceId)));
}
