import type { HostFacts } from "@ocore/proto/host-facts.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { markAgentConnected, markAgentDisconnected, writeLastSeen } from "./server-presence.js";

const facts: HostFacts = {
  hostname: "h",
  osId: "debian",
  osVersion: "12",
  kernel: "6.1",
  architecture: "x86_64",
  cpuCores: 2,
  memoryTotalBytes: 1,
  bootedAt: null,
};

describe.each(databaseKinds)("server presence on %s", (kind) => {
  let database: TestDatabase;
  afterEach(() => database.close());

  async function server(values: { name: string; status: "failed" | "offline"; statusReason?: string }) {
    const [row] = await database.db
      .insert(servers)
      .values({ ...values, statusMessage: values.statusReason ? "it failed" : null })
      .returning();
    return row?.id ?? "";
  }

  async function statusOf(id: string) {
    const rows = await database.db.select().from(servers);
    const row = rows.find((candidate) => candidate.id === id);
    return { status: row?.status, reason: row?.statusReason ?? null, message: row?.statusMessage ?? null };
  }

  it("lets a live agent restore a server whose last failure no longer holds, and only that", async () => {
    database = await createTestDatabase(kind);
    const forgotten = await server({ name: "forgotten", status: "failed", statusReason: "no_credentials" });
    const waited = await server({ name: "waited", status: "failed", statusReason: "agent_not_connected" });
    const changedKey = await server({ name: "key", status: "failed", statusReason: "host_key_mismatch" });
    const oldDocker = await server({ name: "docker", status: "failed", statusReason: "docker_too_old" });
    const away = await server({ name: "away", status: "offline" });
    const now = new Date();
    for (const id of [forgotten, waited, changedKey, oldDocker, away]) {
      await markAgentConnected(database.db, id, { agentVersion: "1.0.0", facts, now });
    }
    expect(await statusOf(forgotten)).toEqual({ status: "active", reason: null, message: null });
    expect(await statusOf(waited)).toEqual({ status: "active", reason: null, message: null });
    expect(await statusOf(away)).toMatchObject({ status: "active" });
    expect(await statusOf(changedKey)).toEqual({
      status: "failed",
      reason: "host_key_mismatch",
      message: "it failed",
    });
    expect(await statusOf(oldDocker)).toMatchObject({ status: "failed", reason: "docker_too_old" });

    await markAgentDisconnected(database.db, forgotten, { lastSeenAt: now, now });
    await markAgentDisconnected(database.db, changedKey, { lastSeenAt: now, now });
    expect((await statusOf(forgotten)).status).toBe("offline");
    expect((await statusOf(changedKey)).status).toBe("failed");
  });

  it("shows active again a server another replica showed offline while its stream here is live", async () => {
    database = await createTestDatabase(kind);
    const shown = await server({ name: "shown-offline", status: "offline" });
    const failed = await server({ name: "broken", status: "failed", statusReason: "host_key_mismatch" });
    const existing = await writeLastSeen(database.db, [
      { serverId: shown, at: new Date() },
      { serverId: failed, at: new Date() },
    ]);
    expect(existing).toEqual(new Set([shown, failed]));
    expect((await statusOf(shown)).status).toBe("active");
    expect((await statusOf(failed)).status).toBe("failed");
  });
});
