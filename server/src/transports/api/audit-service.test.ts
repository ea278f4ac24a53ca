import { Code, ConnectError } from "@connectrpc/connect";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuditService, type FollowAuditLogResponse } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { databaseKinds } from "../../../test/support/test-databases.js";

/** The next message of a stream, failing instead of hanging. */
async function next<T>(stream: AsyncIterator<T>, ms = 15_000): Promise<T> {
  const result = await Promise.race([
    stream.next(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms)),
  ]);
  if (result.done) throw new Error("the stream ended");
  return result.value;
}

describe.each(databaseKinds)("AuditService/FollowAuditLog on %s", (kind) => {
  let harness: ApiHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("continues the list without a gap and sends each new matching entry as it is written", async () => {
    harness = await createApiHarness(kind);
    const owner = await harness.ownerToken();
    const audit = harness.client(AuditService, owner);
    const page = await audit.listAuditEntries({ filter: { action: "user." }, limit: 10 });
    const newestListed = page.entries[0]?.id ?? 0n;
    expect(page.latestId).toBeGreaterThanOrEqual(newestListed);
    // Written after the list and before the follow: the cursor must still deliver it.
    await harness.client(UserService, owner).createUser({
      username: "between",
      roleBindings: [{ role: "viewer", selector: "" }],
    });

    const controller = new AbortController();
    const after = page.latestId > newestListed ? page.latestId : newestListed;
    const stream = audit
      .followAuditLog({ afterId: after, filter: { action: "user." } }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    const between = await next<FollowAuditLogResponse>(stream);
    expect(between.entry?.action).toBe("user.create");
    expect(between.entry?.afterJson).toContain("between");
    const caughtUp = await next<FollowAuditLogResponse>(stream);
    expect(caughtUp.caughtUp).toBe(true);
    expect(caughtUp.entry).toBeUndefined();

    // A change outside the filter is not sent; the next matching one is, on the shared ticker.
    await harness.client(ApiTokenService, owner).createApiToken({ name: "ci", role: "viewer", ttlDays: 1 });
    await harness.client(UserService, owner).createUser({
      username: "later",
      roleBindings: [{ role: "viewer", selector: "" }],
    });
    const later = await next<FollowAuditLogResponse>(stream);
    expect(later.entry?.action).toBe("user.create");
    expect(later.entry?.afterJson).toContain("later");
    expect(later.entry?.actorName).toBe(between.entry?.actorName);
    expect(later.entry?.id).toBeGreaterThan(between.entry?.id ?? 0n);
    controller.abort();
  });

  it("refuses callers without audit.read everywhere", async () => {
    harness = await createApiHarness(kind);
    const scopedAdmin = await harness.userToken("prod-admin", [{ role: "admin", selector: "env=prod" }]);
    const stream = harness.client(AuditService, scopedAdmin).followAuditLog({})[Symbol.asyncIterator]();
    const refused = await next(stream).catch((error: unknown) => ConnectError.from(error));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.PermissionDenied);
  });
});
