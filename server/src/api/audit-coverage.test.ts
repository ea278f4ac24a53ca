import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiServices, isMutating, procedureOf } from "../../test/support/api-descriptors.js";
import { type ApiHarness, createApiHarness, STRONG_PASSWORD } from "../../test/support/api-harness.js";
import { rowsOf } from "../db/rows-of.js";
import { servers } from "../db/schema/servers.js";

/**
 * One valid call per state-changing RPC. `prepare` runs before the audit log is counted, `run`
 * is the call under test. The test below fails for any mutating RPC of the contract missing here.
 */
type Example = {
  prepare: (h: ApiHarness) => Promise<unknown>;
  run: (h: ApiHarness, prepared: unknown) => Promise<unknown>;
};

const login = (h: ApiHarness) =>
  h.client(AuthService).login({ username: "admin", password: STRONG_PASSWORD });
const owner = async (h: ApiHarness) => h.ownerToken();
const newUser = async (h: ApiHarness, name: string) =>
  (
    await h
      .client(UserService, await h.ownerToken())
      .createUser({ username: name, roleBindings: [{ role: "viewer", selector: "" }] })
  ).user?.id ?? "";
const newServer = async (h: ApiHarness, name: string) =>
  (await h.database.db.insert(servers).values({ name }).returning())[0]?.id ?? "";

const examples: Record<string, Example> = {
  "ocore.api.v1.AuthService/Login": { prepare: owner, run: login },
  "ocore.api.v1.AuthService/Refresh": {
    prepare: login,
    run: (h, p) =>
      h
        .client(AuthService)
        .refresh({ refreshToken: (p as Awaited<ReturnType<typeof login>>).tokens?.refreshToken }),
  },
  "ocore.api.v1.AuthService/Logout": {
    prepare: login,
    run: (h, p) =>
      h.client(AuthService, (p as Awaited<ReturnType<typeof login>>).tokens?.accessToken).logout({}),
  },
  "ocore.api.v1.AuthService/ChangePassword": {
    prepare: async (h) => {
      const id = await newUser(h, "changer");
      const reset = await h.client(UserService, await h.ownerToken()).resetUserPassword({ id });
      const session = await h
        .client(AuthService)
        .login({ username: "changer", password: reset.oneTimePassword });
      return { token: session.tokens?.accessToken, password: reset.oneTimePassword };
    },
    run: (h, p) => {
      const { token, password } = p as { token: string; password: string };
      return h
        .client(AuthService, token)
        .changePassword({ currentPassword: password, newPassword: STRONG_PASSWORD });
    },
  },
  "ocore.api.v1.UserService/CreateUser": {
    prepare: owner,
    run: (h, t) =>
      h
        .client(UserService, t as string)
        .createUser({ username: "created", roleBindings: [{ role: "viewer", selector: "" }] }),
  },
  "ocore.api.v1.UserService/UpdateUser": {
    prepare: async (h) => [await h.ownerToken(), await newUser(h, "updated")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(UserService, token).updateUser({ id, disabled: true });
    },
  },
  "ocore.api.v1.UserService/ResetUserPassword": {
    prepare: async (h) => [await h.ownerToken(), await newUser(h, "reset")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(UserService, token).resetUserPassword({ id });
    },
  },
  "ocore.api.v1.UserService/DeleteUser": {
    prepare: async (h) => [await h.ownerToken(), await newUser(h, "deleted")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(UserService, token).deleteUser({ id });
    },
  },
  "ocore.api.v1.UserService/CreateRole": {
    prepare: owner,
    run: (h, t) =>
      h.client(UserService, t as string).createRole({ name: "auditor", permissions: ["audit.read"] }),
  },
  "ocore.api.v1.UserService/DeleteRole": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      await h.client(UserService, token).createRole({ name: "temp", permissions: ["servers.read"] });
      return token;
    },
    run: (h, t) => h.client(UserService, t as string).deleteRole({ name: "temp" }),
  },
  "ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "enrolling")],
    run: (h, p) => {
      const [token, serverId] = p as [string, string];
      return h.client(EnrollmentTokenService, token).createEnrollmentToken({ serverId });
    },
  },
  "ocore.api.v1.ApiTokenService/CreateApiToken": {
    prepare: owner,
    run: (h, t) =>
      h.client(ApiTokenService, t as string).createApiToken({ name: "x", role: "viewer", ttlDays: 1 }),
  },
  "ocore.api.v1.ApiTokenService/RevokeApiToken": {
    prepare: async (h) => {
      const token = await h.ownerToken();
      const created = await h
        .client(ApiTokenService, token)
        .createApiToken({ name: "y", role: "viewer", ttlDays: 1 });
      return [token, created.token?.id];
    },
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ApiTokenService, token).revokeApiToken({ id });
    },
  },
  "ocore.api.v1.ServerService/UpdateServer": {
    prepare: async (h) => [await h.ownerToken(), await newServer(h, "to-update")],
    run: (h, p) => {
      const [token, id] = p as string[];
      return h.client(ServerService, token).updateServer({ id, replaceTags: true, tags: { env: "prod" } });
    },
  },
  "ocore.api.v1.ServerService/ImportServers": {
    prepare: owner,
    run: (h, t) =>
      h.client(ServerService, t as string).importServers({
        format: DataFormat.JSON,
        data: new TextEncoder().encode(JSON.stringify([{ name: "imported", host: "10.0.0.9" }])),
      }),
  },
};

async function auditCount(h: ApiHarness): Promise<number> {
  const result = await h.database.db.execute(sql`select count(*)::int as n from audit_log`);
  return rowsOf<{ n: number }>(result)[0]?.n ?? -1;
}

describe("every state-changing RPC leaves exactly one audit entry", async () => {
  const mutating = (await apiServices())
    .flatMap((s) => s.methods)
    .filter(isMutating)
    .map(procedureOf);
  let harness: ApiHarness;
  beforeAll(async () => {
    harness = await createApiHarness("pglite");
  });
  afterAll(() => harness.close());

  it("has an example for every one of them", () => {
    expect(mutating.filter((procedure) => !examples[procedure])).toEqual([]);
  });

  it.each(mutating.filter((procedure) => examples[procedure]))("%s", async (procedure) => {
    const example = examples[procedure] as Example;
    const prepared = await example.prepare(harness);
    const before = await auditCount(harness);
    await example.run(harness, prepared);
    expect(await auditCount(harness)).toBe(before + 1);
  });

  it("records a refused call as one denied entry", async () => {
    const viewer = await harness.userToken("denied-viewer", [{ role: "viewer", selector: "" }]);
    const before = await auditCount(harness);
    await expect(
      harness
        .client(UserService, viewer)
        .createUser({ username: "nope", roleBindings: [{ role: "viewer", selector: "" }] }),
    ).rejects.toThrow(/users.manage/);
    expect(await auditCount(harness)).toBe(before + 1);
    const last = await harness.database.db.execute(
      sql`select action, result, actor_name from audit_log order by id desc limit 1`,
    );
    expect(rowsOf(last)[0]).toEqual({ action: "user.create", result: "denied", actor_name: "denied-viewer" });
  });
});
