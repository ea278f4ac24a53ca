import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { FleetService, type WatchFleetResponse } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";

/** The next message of a stream, failing instead of hanging. */
async function next(stream: AsyncIterator<WatchFleetResponse>, ms = 10_000): Promise<WatchFleetResponse> {
  const result = await Promise.race([
    stream.next(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms)),
  ]);
  if (result.done) throw new Error("the stream ended");
  return result.value;
}

describe.each(databaseKinds)("FleetService on %s", (kind) => {
  let harness: ApiHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("streams only the servers the caller may see, and follows tag changes out of view", async () => {
    harness = await createApiHarness(kind);
    const { db } = harness.database;
    const [prod, staging] = await db
      .insert(servers)
      .values([
        { name: "web-1", tags: { env: "prod" } },
        { name: "stage-1", tags: { env: "staging" } },
      ])
      .returning({ id: servers.id });
    const token = await harness.userToken("stager", [{ role: "viewer", selector: "env=staging" }]);
    const client = harness.client(FleetService, token);
    const controller = new AbortController();
    const stream = client.watchFleet({}, { signal: controller.signal })[Symbol.asyncIterator]();

    const initial = await next(stream);
    expect(initial.initial).toBe(true);
    expect(initial.servers.map((entry) => entry.server?.name)).toEqual(["stage-1"]);

    // stage-1 leaves the caller's view: it is reported removed; web-1 never shows.
    await db
      .update(servers)
      .set({ tags: { env: "prod" }, updatedAt: new Date() })
      .where(eq(servers.id, staging?.id ?? ""));
    let removed: string[] = [];
    while (removed.length === 0) {
      const batch = await next(stream);
      expect(batch.servers.map((entry) => entry.server?.name)).not.toContain("web-1");
      removed = batch.removedServerIds;
    }
    expect(removed).toEqual([staging?.id]);
    controller.abort();

    // Per-device series are checked against the named server's tags.
    const refused = await client
      .getDeviceSeries({
        serverId: prod?.id ?? "",
        startTime: timestampFromDate(new Date(Date.now() - 3_600_000)),
      })
      .catch((error: unknown) => ConnectError.from(error));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.PermissionDenied);
  });

  it("refuses a broken selector with the reason", async () => {
    harness = await createApiHarness(kind);
    const client = harness.client(FleetService, await harness.ownerToken());
    const stream = client.watchFleet({ selector: "env in (prod" })[Symbol.asyncIterator]();
    const error = await next(stream).catch((caught: unknown) => ConnectError.from(caught));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/selector/);
  });
});
