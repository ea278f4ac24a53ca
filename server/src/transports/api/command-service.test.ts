import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CommandService,
  CommandState,
  OutputStream,
} from "@ocore/proto/gen/ocore/api/v1/command_service_pb.js";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { servers } from "../../platform/db/schema/servers.js";

describe.each(databaseKinds)("CommandService on %s", (kind) => {
  let h: ApiHarness;
  let prod = "";
  let dev = "";
  beforeAll(async () => {
    h = await createApiHarness(kind);
    const rows = await h.database.db
      .insert(servers)
      .values([
        { name: "prod-1", tags: { env: "prod" } },
        { name: "dev-1", tags: { env: "dev" } },
      ])
      .returning();
    prod = rows[0]?.id ?? "";
    dev = rows[1]?.id ?? "";
  }, 120_000);
  afterAll(() => h.close());

  const submit = async (serverId: string, value: string) =>
    (
      await h.commands.submit({
        serverId,
        input: StringValueSchema,
        args: { value },
        deadline: new Date(h.clock.now().getTime() + 60_000),
        actor: { kind: "system", id: null },
      })
    ).commandId;
  const agentSays = async (commandId: string, chunks: string[], end = true) => {
    await h.commands.journal.append({ kind: "started", commandId, at: h.clock.now() });
    for (const [i, text] of chunks.entries()) {
      await h.commands.journal.append({
        kind: "output",
        commandId,
        sequence: i + 1,
        stream: 1,
        data: new TextEncoder().encode(text),
      });
    }
    if (end) {
      await h.commands.journal.append({
        kind: "finished",
        commandId,
        state: "succeeded",
        exitCode: 0,
        errorCode: null,
        errorMessage: null,
        resultType: null,
        result: null,
        at: h.clock.now(),
      });
    }
    await h.commands.journal.flushed();
  };

  it("gets, lists a page at a time and watches a finished command from its archive", async () => {
    const client = h.client(CommandService, await h.ownerToken());
    const first = await submit(prod, "one");
    const second = await submit(prod, "two");
    await agentSays(first, ["hello ", "world"]);
    const got = await client.getCommand({ id: first });
    expect(got.command).toMatchObject({
      id: first,
      serverId: prod,
      kind: "google.protobuf.StringValue",
      state: CommandState.SUCCEEDED,
      outputChunks: 2n,
      outputBytes: 11n,
    });
    const page1 = await client.listCommands({ serverId: prod, pageSize: 1 });
    expect(page1.commands.map((c) => c.id)).toHaveLength(1);
    const page2 = await client.listCommands({ serverId: prod, pageSize: 1, pageToken: page1.nextPageToken });
    expect([...page1.commands, ...page2.commands].map((c) => c.id).sort()).toEqual([first, second].sort());
    await expect(client.listCommands({ serverId: prod, pageToken: "garbage" })).rejects.toThrow(
      /pageToken: is not a token/,
    );

    const events = [];
    for await (const event of client.watchCommand({ id: first })) events.push(event.event);
    expect(events.map((e) => e.case)).toEqual(["command", "output", "output"]);
    expect(events.slice(1).map((e) => e.case === "output" && new TextDecoder().decode(e.value.data))).toEqual(
      ["hello ", "world"],
    );
  });

  it("watches a running command live: archive, then new output, then its final state", async () => {
    const client = h.client(CommandService, await h.ownerToken());
    const id = await submit(prod, "live");
    await agentSays(id, ["a"], false);
    const seen: string[] = [];
    const watching = (async () => {
      for await (const { event } of client.watchCommand({ id })) {
        if (event.case === "output") {
          seen.push(`out:${event.value.sequence}:${new TextDecoder().decode(event.value.data)}`);
          expect(event.value.stream).toBe(OutputStream.STDOUT);
        } else if (event.case === "command") seen.push(`state:${CommandState[event.value.state]}`);
      }
    })();
    while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await h.commands.journal.append({
      kind: "output",
      commandId: id,
      sequence: 2,
      stream: 1,
      data: new TextEncoder().encode("b"),
    });
    await h.commands.journal.append({
      kind: "finished",
      commandId: id,
      state: "failed",
      exitCode: 2,
      errorCode: "disk_full",
      errorMessage: "the disk is full",
      resultType: null,
      result: null,
      at: h.clock.now(),
    });
    await watching;
    expect(seen).toEqual(["state:RUNNING", "out:1:a", "out:2:b", "state:FAILED"]);
  });

  it("scopes reading to the caller's servers and cancels with commands.run, audited as the caller", async () => {
    const devOperator = h.client(
      CommandService,
      await h.userToken("dev-op", [{ role: "operator", selector: "env=dev" }]),
    );
    const prodCommand = await submit(prod, "secret");
    const devCommand = await submit(dev, "mine");
    await expect(devOperator.getCommand({ id: prodCommand })).rejects.toSatisfy(
      (error: unknown) => error instanceof ConnectError && error.code === Code.PermissionDenied,
    );
    await expect(devOperator.cancelCommand({ id: prodCommand, reason: "no" })).rejects.toSatisfy(
      (error: unknown) => error instanceof ConnectError && error.code === Code.PermissionDenied,
    );
    const cancelled = await devOperator.cancelCommand({ id: devCommand, reason: "wrong host" });
    expect(cancelled.command).toMatchObject({ state: CommandState.CANCELLED, errorCode: "cancelled" });
    expect(cancelled.command?.errorMessage).toContain("wrong host");
    await expect(devOperator.cancelCommand({ id: devCommand, reason: "" })).rejects.toThrow(
      /already ended \(cancelled\)/,
    );
    const [entry] = await h.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, devCommand))
      .orderBy(auditLog.id);
    const audits = await h.database.db.select().from(auditLog).where(eq(auditLog.action, "command.cancel"));
    expect(
      audits.some((a) => a.targetId === devCommand && a.actorName === "dev-op" && a.result === "success"),
    ).toBe(true);
    expect(entry?.action).toBe("command.submit");
  });
});
