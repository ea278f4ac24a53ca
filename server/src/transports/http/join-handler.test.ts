import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { JoinService } from "@ocore/proto/gen/ocore/api/v1/join_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { normalizeServerUrl } from "../../domain/joining/join-command-text.js";
import { readJoinTemplate, renderJoinScript } from "../../domain/joining/join-script.js";
import { createHttpServer, type HttpServer } from "./http-server.js";
import { createJoinHandler } from "./join-handler.js";

const parameters = {
  joinUrl: `http://10.0.0.5:8080/join/${"s".repeat(43)}`,
  gateway: "gw.example.com:8443",
  enrollmentToken: `oce1.${"s".repeat(43)}.${"p".repeat(43)}`,
  caPem: "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n",
  caSha256: "a".repeat(64),
  installPrefix: "/opt/ocore-agent",
  unitName: "ocore-agent",
  agentSha256: "b".repeat(64),
  files: [{ name: "ocore-agent", path: "/x", sha256: "c".repeat(64), size: 3 }],
};

describe("the join script", () => {
  it("is rendered with every parameter single-quoted, and stays valid, shellcheck-clean sh", async () => {
    const script = renderJoinScript(await readJoinTemplate(defaultDeploy()), parameters);
    expect(script).toContain(`join_url='${parameters.joinUrl}'`);
    expect(script).toContain(`files='${"c".repeat(64)} 3 ocore-agent'`);
    execFileSync("sh", ["-n"], { input: script });
    execFileSync("shellcheck", ["-s", "sh", "-"], { input: script });
  });

  it("refuses a value that could leave its quotes", async () => {
    const template = await readJoinTemplate(defaultDeploy());
    for (const bad of [
      { installPrefix: "/opt/x'; reboot; '" },
      { installPrefix: "/opt/$(reboot)" },
      { gateway: "gw'$(id):8443" },
      { joinUrl: "http://a/join/x' ; id #" },
      { caPem: "-----BEGIN CERTIFICATE-----\n'$(id)'\n-----END CERTIFICATE-----\n" },
      { files: [{ name: "a'b", path: "/x", sha256: "c".repeat(64), size: 1 }] },
    ]) {
      expect(() => renderJoinScript(template, { ...parameters, ...bad })).toThrow(/unexpected/);
    }
  });

  it("takes only a scheme, a host and a port as the server URL", () => {
    expect(normalizeServerUrl("http://10.0.0.5:8080/")).toBe("http://10.0.0.5:8080");
    expect(normalizeServerUrl("https://ocore.example.com")).toBe("https://ocore.example.com");
    for (const bad of ["ftp://x", "http://x/path", "http://u:p@x", "http://x?q=1", "not a url"]) {
      expect(normalizeServerUrl(bad), bad).toBeUndefined();
    }
  });
});

function defaultDeploy(): string {
  return new URL("../../../../deploy", import.meta.url).pathname;
}

describe("JoinService and the join endpoints", () => {
  let harness: ApiHarness;
  let http: HttpServer;
  let base: string;
  beforeAll(async () => {
    harness = await createApiHarness("pglite");
    http = createHttpServer({
      logger: pino({ level: "silent" }),
      routes: () => {},
      readMaxBytes: 1024,
      readiness: async () => {},
      join: createJoinHandler(harness.joinDeps, pino({ level: "silent" })),
    });
    base = `http://127.0.0.1:${(await http.listen("127.0.0.1", 0)).port}`;
  });
  afterAll(async () => {
    await http?.close();
    await harness?.close();
  });
  const joins = async () => harness.client(JoinService, await harness.ownerToken());
  const urlOf = (command: string) => /curl -sSL (\S+) \|/.exec(command)?.[1] ?? "";

  it("serves the script whose SHA-256 the verified command checks, and the files it lists", async () => {
    const created = await (await joins()).createJoinCommand({
      name: "nat-host",
      tags: { site: "branch" },
      serverUrl: base,
    });
    expect(created.joinCommand).toMatchObject({ state: "valid", serverName: "nat-host", createdBy: "admin" });
    const response = await fetch(urlOf(created.command));
    expect(response.status).toBe(200);
    const script = await response.text();
    expect(createHash("sha256").update(script).digest("hex")).toBe(created.scriptSha256);
    expect(created.verifiedCommand).toContain(
      `echo '${created.scriptSha256}  ocore-join.sh' | sha256sum -c -`,
    );
    expect(script).not.toContain("nat-host");
    const facts = await fetch(`${urlOf(created.command)}/files/facts.sh`);
    expect(facts.status).toBe(200);
    expect(await facts.text()).toContain("KEY=VALUE");
    expect((await fetch(`${urlOf(created.command)}/files/..%2Fetc`)).status).toBe(404);
  });

  it("answers a tampered, revoked or unknown command with a script that says why", async () => {
    const created = await (await joins()).createJoinCommand({ name: "revoked-host", serverUrl: base });
    const url = urlOf(created.command);
    const tampered = await fetch(`${url.slice(0, -1)}${url.endsWith("A") ? "B" : "A"}`);
    expect(tampered.status).toBe(404);
    expect(await tampered.text()).toMatch(/unknown to the server/);
    await (await joins()).revokeJoinCommand({ id: created.joinCommand?.id ?? "" });
    const revoked = await fetch(url);
    expect(revoked.status).toBe(410);
    const body = await revoked.text();
    expect(body).toMatch(
      /^#!\/bin\/sh\ncat >&2 <<'OCORE_REFUSAL'\nocore-join: this join command was revoked/,
    );
    const run = (() => {
      try {
        execFileSync("sh", [], { input: body, stdio: ["pipe", "pipe", "pipe"] });
        return "";
      } catch (error) {
        return String((error as { stderr: Buffer }).stderr);
      }
    })();
    expect(run).toMatch(/^ocore-join: this join command was revoked .*nothing was changed/);
    expect((await fetch(`${url}/files/facts.sh`)).status).toBe(410);
    expect(
      (await fetch(`${url}/report`, { method: "POST", body: "step=connect\nstatus=running\n" })).status,
    ).toBe(409);
  });

  it("says re-provisioning a joined server needs a new join command, not SSH", async () => {
    const created = await (await joins()).createJoinCommand({ name: "joined-no-ssh", serverUrl: base });
    const servers = harness.client(ServerService, await harness.ownerToken());
    await expect(servers.retryProvisioning({ id: created.joinCommand?.serverId ?? "" })).rejects.toThrow(
      /joined from the host: oCore has no SSH access to it .*create a new join command/,
    );
  });

  it("names the field of bad input", async () => {
    const client = await joins();
    const attempt = (input: Parameters<typeof client.createJoinCommand>[0]) =>
      client.createJoinCommand(input).then(
        () => "created",
        (error: unknown) =>
          error instanceof ConnectError ? `${Code[error.code]} ${error.rawMessage}` : error,
      );
    expect(await attempt({ name: "x", serverUrl: "http://x/path" })).toMatch(/^InvalidArgument serverUrl: /);
    expect(await attempt({ name: "bad name!", serverUrl: base })).toMatch(/^InvalidArgument name: /);
    expect(await attempt({ name: "y", serverUrl: base, ttl: { seconds: 5n } })).toMatch(
      /^InvalidArgument ttl: /,
    );
    expect(await attempt({ serverId: "not-a-uuid", serverUrl: base })).toMatch(/^InvalidArgument serverId: /);
    expect(await attempt({ name: "nat-host", serverUrl: base })).toMatch(/^AlreadyExists /);
  });
});
