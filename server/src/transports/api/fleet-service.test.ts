import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { FleetService, type WatchFleetResponse } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

// One API per database kind for the file; a fresh PGlite opens slowly on a loaded machine.
describe.each(databaseKinds)("FleetService on %s", { timeout: 60_000 }, (kind) => {
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await createApiHarness(kind);
  }, 120_000);
  afterAll(() => harness.close());

  it("streams only the servers the caller may see, and follows tag changes out of view", async () => {
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

  it("follows a page window within the caller's scope, and refuses bad requests naming the field", async () => {
    const { db } = harness.database;
    await db.insert(servers).values([
      { name: "a-prod", tags: { env: "prod" } },
      { name: "b-staging", tags: { env: "staging" } },
      { name: "c-staging", tags: { env: "staging" }, status: "active" },
      { name: "d-staging", tags: { env: "staging" } },
    ]);
    const token = await harness.userToken("page-stager", [{ role: "viewer", selector: "env=staging" }]);
    const client = harness.client(FleetService, token);
    const controller = new AbortController();
    const stream = client
      .watchFleet({ window: { pageSize: 2, orderBy: "name desc" } }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    const initial = await next(stream);
    expect(initial.initial).toBe(true);
    expect(initial.servers.map((entry) => entry.server?.name)).toEqual(["d-staging", "c-staging"]);
    expect(initial.window?.serverIds).toEqual(initial.servers.map((entry) => entry.server?.id));
    // Counts, like the page, cover only what the caller may see.
    expect(initial.window?.totalSize).toBe(3);
    expect(initial.window?.statusCounts).toMatchObject({ active: 1, connecting: 2 });
    expect(initial.window?.nextPageToken).not.toBe("");
    // A new server sorts onto the page: it arrives, the last one leaves, the window says the order.
    await db.insert(servers).values({ name: "e-staging", tags: { env: "staging" } });
    const moved = await next(stream);
    expect(moved.servers.map((entry) => entry.server?.name)).toEqual(["e-staging"]);
    expect(moved.removedServerIds).toEqual([initial.servers[1]?.server?.id]);
    // Counts are shared between watchers and refreshed every few seconds.
    let window = moved.window;
    while (window?.totalSize !== 4) window = (await next(stream)).window ?? window;
    expect(window.statusCounts).toMatchObject({ active: 1, connecting: 3 });
    controller.abort();

    const owner = harness.client(FleetService, await harness.ownerToken());
    const refusal = async (request: Parameters<typeof owner.watchFleet>[0]) => {
      const error = await next(owner.watchFleet(request)[Symbol.asyncIterator]()).catch((caught: unknown) =>
        ConnectError.from(caught),
      );
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
      return (error as ConnectError).rawMessage;
    };
    expect(await refusal({ selector: "env in (prod" })).toMatch(/selector/);
    expect(await refusal({ window: { pageSize: 501 } })).toMatch(/page_size.*500/);
    expect(await refusal({ window: { pageToken: `${initial.window?.nextPageToken}x` } })).toMatch(
      /page_token/,
    );
    expect(await refusal({ window: {}, serverIds: [initial.servers[0]?.server?.id ?? ""] })).toMatch(
      /window/,
    );
  });
});
