import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const run = promisify(execFile);
const repoRoot = new URL("../../../", import.meta.url).pathname;
const buf = `${repoRoot}node_modules/.bin/buf`;
const STRONG = "a long and strong passphrase 9";

/** `buf curl` against the server, as a user would type it; returns its exit code and output. */
async function bufCurl(url: string, procedure: string, token: string, body: object) {
  try {
    const { stdout } = await run(buf, [
      "curl",
      "--schema",
      `${repoRoot}proto`,
      "--protocol",
      "connect",
      "-H",
      `Authorization: Bearer ${token}`,
      "-d",
      JSON.stringify(body),
      `${url}/${procedure}`,
    ]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  }
}

/**
 * The one-time password, from the 0600 file the server wrote (its stderr is no terminal), after
 * checking that it is in no log line and that the log names the file.
 */
async function oneTimePasswordOf(server: ServerProcess): Promise<string> {
  const file = path.join(server.dataDir, "first-admin-password");
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const password = server.firstAdminPassword();
  expect(password).toMatch(/^\S{20}$/);
  expect(server.stderr()).toContain(`one-time password in ${file}`);
  // stdout and stderr are separate pipes: the log line may arrive after the terminal's.
  await vi.waitFor(() => {
    const notice = server
      .stdout()
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { file?: string; level: number })
      .find((entry) => entry.file === file);
    expect(notice?.level).toBe(30);
  });
  expect(server.stdout()).not.toContain(password);
  expect(server.stderr()).not.toContain(password);
  return password;
}

describe("first start, sign-in and tokens against the real server process", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("prints a one-time admin password, forces a new one, and buf curl obeys token roles", async () => {
    server = await startServerProcess();
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const auth = createClient(AuthService, transport);
    const oneTime = await oneTimePasswordOf(server);
    const first = await auth.login({ username: "admin", password: oneTime });
    expect(first.user?.mustChangePassword).toBe(true);
    const headers = (token?: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const changed = await auth.changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      headers(first.tokens?.accessToken),
    );

    const tokens = createClient(ApiTokenService, transport);
    const admin = await tokens.createApiToken(
      { name: "admin automation", role: "admin", ttlDays: 1 },
      headers(changed.tokens?.accessToken),
    );
    const viewer = await tokens.createApiToken(
      { name: "read only", role: "viewer", ttlDays: 1 },
      headers(changed.tokens?.accessToken),
    );

    const create = { username: "from-buf", roleBindings: [{ role: "viewer", selector: "" }] };
    const denied = await bufCurl(server.url, "ocore.api.v1.UserService/CreateUser", viewer.secret, create);
    expect(denied.code).not.toBe(0);
    expect(denied.output).toContain('"code": "permission_denied"');
    expect(denied.output).toContain("users.manage");

    const allowed = await bufCurl(server.url, "ocore.api.v1.UserService/CreateUser", admin.secret, create);
    expect(allowed.code, allowed.output).toBe(0);
    expect(JSON.parse(allowed.output).oneTimePassword).toMatch(/^\S{20}$/);

    const verified = await bufCurl(
      server.url,
      "ocore.api.v1.AuditService/VerifyAuditChain",
      admin.secret,
      {},
    );
    expect(JSON.parse(verified.output)).toMatchObject({ ok: true });
  });

  it("resets a password from the command line while the server is stopped", async () => {
    server = await startServerProcess();
    const { dataDir } = server;
    await server.stop();
    server = undefined;
    const { stdout } = await run(
      process.execPath,
      [`${repoRoot}server/dist/cli/admin.js`, "reset-password", "admin"],
      {
        env: { PATH: process.env.PATH, OCORE_DATA_DIR: dataDir },
      },
    );
    const password = /: (\S+)\n/.exec(stdout)?.[1] ?? "";
    expect(password).toHaveLength(20);
    server = await startServerProcess({ OCORE_DATA_DIR: dataDir });
    expect(server.stderr()).not.toContain("one-time password");
    const auth = createClient(
      AuthService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const login = await auth.login({ username: "admin", password });
    expect(login.user?.mustChangePassword).toBe(true);
  });
});
