import { Code, ConnectError } from "@connectrpc/connect";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { rowsOf } from "../../platform/db/rows-of.js";

/** The error a call failed with (a call that succeeds fails the test). */
const failureOf = (call: Promise<unknown>): Promise<ConnectError> =>
  call.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: unknown) => ConnectError.from(e),
  );

describe("UpdateMatchingServers over the API", { timeout: 120_000 }, () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness("pglite");
    await h.database.db.execute(sql`
      insert into servers (name, host, tags)
      select 'bulk-' || i, '10.1.0.' || i, jsonb_build_object('env', case when i % 2 = 0 then 'prod' else 'dev' end)
      from generate_series(1, 30) as i`);
  });
  afterAll(() => h.close());

  const tagged = async (key: string) =>
    rowsOf<{ env: string; n: number }>(
      await h.database.db.execute(
        sql`select tags->>'env' as env, count(*)::int as n from servers where tags ? ${key} group by 1 order by 1`,
      ),
    );

  it("counts and changes only the servers the caller may change, whatever the filter says", async () => {
    // Reads everything, changes prod only.
    const token = await h.userToken("prod-operator", [
      { role: "viewer", selector: "" },
      { role: "operator", selector: "env=prod" },
    ]);
    const servers = h.client(ServerService, token);
    const filter = { query: "bulk-" };
    const counted = await servers.updateMatchingServers({ filter, dryRun: true });
    expect(counted.matched).toBe(15);
    const done = await servers.updateMatchingServers({
      filter,
      setTags: { patched: "yes" },
      expectedCount: 15,
    });
    expect(done).toMatchObject({ matched: 15, updated: 15, skippedOutOfScope: 0 });
    expect(await tagged("patched")).toEqual([{ env: "prod", n: 15 }]);
    const entries = rowsOf<{ actor_name: string; target_id: string }>(
      await h.database.db.execute(
        sql`select actor_name, target_id from audit_log where action = 'server.bulk_update' and result = 'success'`,
      ),
    );
    expect(entries).toEqual([{ actor_name: "prod-operator", target_id: done.operationId }]);
  });

  it("refuses a caller without servers.write, and bad input with a clear error", async () => {
    const viewer = await h.userToken("bulk-viewer", [{ role: "viewer", selector: "" }]);
    const refused = await failureOf(
      h.client(ServerService, viewer).updateMatchingServers({ setTags: { a: "b" }, expectedCount: 1 }),
    );
    expect(refused).toMatchObject({ code: Code.PermissionDenied });

    const owner = h.client(ServerService, await h.ownerToken());
    const badSelector = await failureOf(
      owner.updateMatchingServers({ filter: { selector: "env==" }, dryRun: true }),
    );
    expect(badSelector).toMatchObject({ code: Code.InvalidArgument });
    expect(badSelector.rawMessage).toMatch(/filter\.selector/);
    const tooMany = await failureOf(owner.updateMatchingServers({ setTags: { a: "b" }, expectedCount: 3 }));
    expect(tooMany).toMatchObject({ code: Code.FailedPrecondition });
    expect(await tagged("a")).toEqual([]);
  });
});
