import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../test/support/agent-channel.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { commandOutput, commands } from "../../platform/db/schema/commands.js";
import { servers } from "../../platform/db/schema/servers.js";
import { createCommandJournal } from "./command-journal.js";
import { postgresTransactionOf } from "./command-output-copy.js";
import type { Committed } from "./journal-entry.js";

const KB = 1024;

describe.each(databaseKinds)("the command journal on %s", (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  const runningCommands = async (db: TestDatabase["db"], count: number) => {
    const [server] = await db.insert(servers).values({ name: "journal" }).returning({ id: servers.id });
    const rows = await db
      .insert(commands)
      .values(
        Array.from({ length: count }, () => ({
          serverId: server?.id as string,
          specType: "google.protobuf.StringValue",
          spec: new Uint8Array(),
          state: "running",
          deadline: new Date(Date.now() + 60_000),
          actorKind: "system",
        })),
      )
      .returning({ id: commands.id });
    return rows.map((row) => row.id);
  };
  const chunk = (sequence: number, size: number) => new Uint8Array(size).fill(sequence);

  it("stores large output in order (COPY on PostgreSQL), skips repeated chunks, and keeps each command's output before its end across lanes", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    const ids = await runningCommands(db, 4);
    const committed: Committed[] = [];
    const journal = createCommandJournal(db, {
      logger: silentLogger,
      onCommitted: (batch) => committed.push(batch),
      copyFromBytes: 64 * KB,
      maxBatchBytes: 256 * KB,
      lanes: 3,
    });
    for (let sequence = 1; sequence <= 8; sequence++) {
      for (const commandId of ids) {
        await journal.append({
          kind: "output",
          commandId,
          sequence,
          stream: 1,
          data: chunk(sequence, 32 * KB),
        });
      }
    }
    await journal.flushed();
    // A redelivery repeats chunks 7 and 8 next to the new chunk 9: the repeats are stored once.
    const [first] = ids as [string];
    for (const sequence of [7, 8, 9]) {
      await journal.append({
        kind: "output",
        commandId: first,
        sequence,
        stream: 1,
        data: chunk(sequence, 32 * KB),
      });
    }
    for (const commandId of ids) {
      await journal.append({
        kind: "finished",
        commandId,
        state: "succeeded",
        exitCode: 0,
        errorCode: null,
        errorMessage: null,
        resultType: null,
        result: null,
        at: new Date(),
      });
    }
    await journal.close();

    for (const commandId of ids) {
      const stored = await db
        .select({ sequence: commandOutput.sequence, data: commandOutput.data })
        .from(commandOutput)
        .where(eq(commandOutput.commandId, commandId))
        .orderBy(commandOutput.sequence);
      const last = commandId === first ? 9 : 8;
      expect(stored.map((row) => row.sequence)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      for (const row of stored) expect(row.data).toEqual(chunk(row.sequence, 32 * KB));
      const [row] = await db.select().from(commands).where(eq(commands.id, commandId));
      expect(row).toMatchObject({ state: "succeeded", outputChunks: last, outputBytes: last * 32 * KB });
    }
    // Each command's end was reported in a commit after (or with) all of its output.
    for (const commandId of ids) {
      const endAt = committed.findIndex((batch) => batch.finished.some((end) => end.commandId === commandId));
      const lastOutputAt = committed.findLastIndex((batch) =>
        batch.output.some((entry) => entry.commandId === commandId),
      );
      expect(endAt).toBeGreaterThanOrEqual(lastOutputAt);
    }
  });

  it(`${kind === "postgres" ? "reaches" : "does not reach"} the postgres.js transaction that COPY needs`, async () => {
    database = await createTestDatabase(kind);
    const found = await database.db.transaction(async (tx) => {
      const raw = postgresTransactionOf(tx);
      return raw ? rowsOf<{ one: number }>(await raw`select 1 as one`)[0]?.one : undefined;
    });
    expect(found).toBe(kind === "postgres" ? 1 : undefined);
  });
});
