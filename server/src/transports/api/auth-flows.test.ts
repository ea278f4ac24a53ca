import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness, STRONG_PASSWORD } from "../../../test/support/api-harness.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";

async function codeOf(promise: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe.each(databaseKinds)("authentication and authorization on %s", (kind) => {
  let harness: ApiHarness;
  beforeEach(async () => {
    harness = await createApiHarness(kind);
  });
  afterEach(() => harness.close());

  it("makes the first admin change its one-time password before anything else", async () => {
    const login = await harness
      .client(AuthService)
      .login({ username: "admin", password: harness.firstAdminPassword });
    expect(login.user?.mustChangePassword).toBe(true);
    expect(login.user?.roleBindings).toEqual([expect.objectContaining({ role: "owner", selector: "" })]);
    const token = login.tokens?.accessToken;
    expect(await codeOf(harness.client(UserService, token).listUsers({}))).toBe(Code.FailedPrecondition);
    await harness.client(AuthService, token).changePassword({
      currentPassword: harness.firstAdminPassword,
      newPassword: STRONG_PASSWORD,
    });
    const again = await harness.client(AuthService).login({ username: "admin", password: STRONG_PASSWORD });
    expect(again.user?.mustChangePassword).toBe(false);
    expect(await codeOf(harness.client(UserService, again.tokens?.accessToken).listUsers({}))).toBe("ok");
  });

  it("locks an account after repeated wrong passwords, even against the right one", async () => {
    await harness.ownerToken();
    const auth = harness.client(AuthService);
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(await codeOf(auth.login({ username: "admin", password: "wrong password!!" }))).toBe(
        Code.Unauthenticated,
      );
    }
    expect(await codeOf(auth.login({ username: "admin", password: STRONG_PASSWORD }))).toBe(
      Code.ResourceExhausted,
    );
    harness.clock.advance(16 * 60_000);
    expect(await codeOf(auth.login({ username: "admin", password: STRONG_PASSWORD }))).toBe("ok");
  });

  it("rate-limits failed logins per source address across accounts", async () => {
    const auth = harness.client(AuthService);
    for (let attempt = 0; attempt < 20; attempt++) {
      await codeOf(auth.login({ username: `nobody-${attempt}`, password: "guess guess guess" }));
    }
    const error = await auth
      .login({ username: "admin", password: "whatever" })
      .catch((e) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).rawMessage).toMatch(/try again in \d+ min/);
  });

  it("refuses everything but the password change while the password is one-time", async () => {
    const created = await harness.client(UserService, await harness.ownerToken()).createUser({
      username: "newbie",
      roleBindings: [{ role: "viewer", selector: "" }],
    });
    const login = await harness
      .client(AuthService)
      .login({ username: "newbie", password: created.oneTimePassword });
    expect(login.user?.mustChangePassword).toBe(true);
    const token = login.tokens?.accessToken;
    expect(await codeOf(harness.client(ServerService, token).listServers({}))).toBe(Code.FailedPrecondition);
    expect(await codeOf(harness.client(AuthService, token).getCurrentUser({}))).toBe("ok");
    expect(
      await codeOf(
        harness
          .client(AuthService, token)
          .changePassword({ currentPassword: created.oneTimePassword, newPassword: "short" }),
      ),
    ).toBe(Code.InvalidArgument);
  });

  it("ends every other session when the password changes, and the session itself on logout", async () => {
    const first = await harness.ownerToken();
    const second = (await harness.client(AuthService).login({ username: "admin", password: STRONG_PASSWORD }))
      .tokens;
    expect(await codeOf(harness.client(UserService, first).listUsers({}))).toBe("ok");
    const changed = await harness.client(AuthService, second?.accessToken).changePassword({
      currentPassword: STRONG_PASSWORD,
      newPassword: "another strong passphrase 7",
    });
    expect(await codeOf(harness.client(UserService, first).listUsers({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(harness.client(UserService, second?.accessToken).listUsers({}))).toBe(
      Code.Unauthenticated,
    );
    const fresh = changed.tokens?.accessToken;
    expect(await codeOf(harness.client(UserService, fresh).listUsers({}))).toBe("ok");
    await harness.client(AuthService, fresh).logout({});
    expect(await codeOf(harness.client(UserService, fresh).listUsers({}))).toBe(Code.Unauthenticated);
  });

  it("rotates refresh tokens and revokes the family when an old one is replayed", async () => {
    await harness.ownerToken();
    const login = await harness.client(AuthService).login({ username: "admin", password: STRONG_PASSWORD });
    const first = login.tokens?.refreshToken ?? "";
    const next = (await harness.client(AuthService).refresh({ refreshToken: first })).tokens;
    expect(await codeOf(harness.client(UserService, next?.accessToken).listUsers({}))).toBe("ok");
    expect(await codeOf(harness.client(AuthService).refresh({ refreshToken: first }))).toBe(
      Code.Unauthenticated,
    );
    expect(
      await codeOf(harness.client(AuthService).refresh({ refreshToken: next?.refreshToken ?? "" })),
    ).toBe(Code.Unauthenticated);
    expect(await codeOf(harness.client(UserService, next?.accessToken).listUsers({}))).toBe(
      Code.Unauthenticated,
    );
  });

  it("accepts the session cookie only with the matching CSRF header", async () => {
    await harness.ownerToken();
    const setCookies: string[] = [];
    await createClient(AuthService, harness.transport()).login(
      { username: "admin", password: STRONG_PASSWORD },
      { onHeader: (headers) => setCookies.push(...headers.getSetCookie()) },
    );
    const cookie = (name: string) => setCookies.find((c) => c.startsWith(`${name}=`))?.split(";")[0] ?? "";
    expect(setCookies.find((c) => c.startsWith("ocore_access="))).toMatch(/HttpOnly; ?|HttpOnly$/);
    expect(setCookies.join("\n")).toContain("SameSite=Strict");
    const cookies = `${cookie("ocore_access")}; ${cookie("ocore_csrf")}`;
    const csrf = decodeURIComponent(cookie("ocore_csrf").split("=")[1] ?? "");
    const withoutHeader = createClient(UserService, harness.transport({ cookie: cookies }));
    expect(await codeOf(withoutHeader.listUsers({}))).toBe(Code.PermissionDenied);
    const withHeader = createClient(
      UserService,
      harness.transport({ cookie: cookies, "x-ocore-csrf": csrf }),
    );
    expect(await codeOf(withHeader.listUsers({}))).toBe("ok");
  });

  it("scopes bindings and tokens by tag selector", async () => {
    await harness.database.db.insert(servers).values([
      { name: "web-prod", tags: { env: "prod" } },
      { name: "web-staging", tags: { env: "staging" } },
      { name: "db-staging", tags: { env: "staging", role: "db" } },
    ]);
    const all = await harness.database.db.select().from(servers);
    const byName = (name: string) => all.find((server) => server.name === name)?.id ?? "";
    const operator = await harness.userToken("stage-op", [{ role: "operator", selector: "env=staging" }]);
    const listed = await harness.client(ServerService, operator).listServers({});
    expect(listed.servers.map((s) => s.name)).toEqual(["db-staging", "web-staging"]);
    const ops = harness.client(ServerService, operator);
    expect(
      await codeOf(
        ops.updateServer({ id: byName("web-prod"), replaceTags: true, tags: { env: "prod", x: "1" } }),
      ),
    ).toBe(Code.PermissionDenied);
    expect(await codeOf(ops.getServer({ id: byName("web-prod") }))).toBe(Code.PermissionDenied);
    expect(await codeOf(ops.updateServer({ id: byName("web-staging"), name: "web-stage" }))).toBe("ok");

    const owner = await harness.ownerToken();
    const created = await harness.client(ApiTokenService, owner).createApiToken({
      name: "staging automation",
      role: "viewer",
      selector: "env=staging,role notin (db)",
      ttlDays: 1,
    });
    const viaToken = await harness.client(ServerService, created.secret).listServers({});
    expect(viaToken.servers.map((s) => s.name)).toEqual(["web-stage"]);
  });

  it("stops tokens at expiry and at revocation, and records their use", async () => {
    const owner = await harness.ownerToken();
    const tokens = harness.client(ApiTokenService, owner);
    const { secret, token } = await tokens.createApiToken({
      name: "ci",
      role: "viewer",
      selector: "",
      ttlDays: 1,
    });
    expect(secret).toMatch(/^ocp_/);
    expect(await codeOf(harness.client(ServerService, secret).listServers({}))).toBe("ok");
    const listed = await tokens.listApiTokens({});
    expect(listed.tokens.find((t) => t.id === token?.id)?.lastUsedAt).toBeDefined();
    expect(
      JSON.stringify(listed, (_key, value) => (typeof value === "bigint" ? String(value) : value)),
    ).not.toContain(secret);

    const second = await tokens.createApiToken({ name: "ci2", role: "viewer", selector: "", ttlDays: 1 });
    await tokens.revokeApiToken({ id: second.token?.id ?? "" });
    expect(await codeOf(harness.client(ServerService, second.secret).listServers({}))).toBe(
      Code.Unauthenticated,
    );

    harness.clock.advance(25 * 3600_000);
    expect(await codeOf(harness.client(ServerService, secret).listServers({}))).toBe(Code.Unauthenticated);
  });
});
