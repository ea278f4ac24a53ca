import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  DockerContainerExecResultSchema,
  DockerContainerListResultSchema,
  DockerContainerLogsResultSchema,
  DockerContainerStartSchema,
  DockerContainerStateSchema,
  DockerImagePullResultSchema,
  DockerImagePullSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
import { desc } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { createScriptedAgent, type ScriptedAgent } from "../../../test/support/scripted-agent.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { servers } from "../../platform/db/schema/servers.js";
import { createDockerService } from "../../transports/api/docker-service.js";
import type { CommandService } from "../commands/command-service.js";
import { createCommandRunner } from "../commands/create-command-runner.js";

describe.each(databaseKinds)("DockerService through the command runner (%s)", (kind) => {
  let harness: ApiHarness;
  let commands: CommandService;
  let agent: ScriptedAgent;
  let prodId: string;
  let devId: string;
  const tokens: Record<"owner" | "viewer" | "devOperator", string> = {
    owner: "",
    viewer: "",
    devOperator: "",
  };

  const client = (token: string) => {
    const service = createDockerService({ db: harness.database.db, commands });
    const transport = createRouterTransport((router) => router.service(DockerService, service), {
      router: { interceptors: harness.api.interceptors },
      transport: {
        interceptors: [
          (next) => (request) => {
            request.header.set("authorization", `Bearer ${token}`);
            return next(request);
          },
        ],
      },
    });
    return createClient(DockerService, transport);
  };
  const codeOf = async (call: Promise<unknown>) => {
    try {
      await call;
      return "ok";
    } catch (error) {
      return ConnectError.from(error).code;
    }
  };
  const auditSince = async (id: number) =>
    (await harness.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(10))
      .filter((row) => row.id > id)
      .reverse();
  const lastAuditId = async () =>
    (await harness.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]?.id ?? 0;

  beforeAll(async () => {
    harness = await createApiHarness(kind);
    const db = harness.database.db;
    [prodId, devId] = (
      await db
        .insert(servers)
        .values([
          { name: "prod-1", tags: { env: "prod" } },
          { name: "dev-1", tags: { env: "dev" } },
        ])
        .returning()
    ).map((row) => row.id) as [string, string];
    agent = createScriptedAgent(prodId, () => commands.sink);
    const devAgent = createScriptedAgent(devId, () => commands.sink);
    devAgent.script = (command) =>
      command.typeName === DockerImagePullSchema.typeName
        ? { result: { schema: DockerImagePullResultSchema, value: { image: "odoo:17.0", id: "sha256:dev" } } }
        : {
            result: {
              schema: DockerContainerStateSchema,
              value: { id: "d".repeat(64), name: "web", state: "running" },
            },
          };
    commands = createCommandRunner({
      db,
      links: { get: (id) => agent.links.get(id) ?? devAgent.links.get(id) },
      logger: pino({ level: "silent" }),
      sweepEveryMs: 0,
    });
    tokens.owner = await harness.ownerToken();
    tokens.viewer = await harness.userToken("docker-viewer", [{ role: "viewer", selector: "" }]);
    tokens.devOperator = await harness.userToken("dev-operator", [{ role: "operator", selector: "env=dev" }]);
  });
  afterAll(async () => {
    await agent.idle();
    await commands.close();
    await harness.close();
  });

  it("starts a container through its agent, audited as one command submission", async () => {
    agent.script = (command) => {
      expect(command.typeName).toBe(DockerContainerStartSchema.typeName);
      expect(fromBinary(DockerContainerStartSchema, command.spec).container).toBe("web");
      return {
        result: {
          schema: DockerContainerStateSchema,
          value: { id: "a".repeat(64), name: "web", state: "running" },
        },
      };
    };
    const before = Date.now();
    const auditBefore = await lastAuditId();
    const response = await client(tokens.owner).startContainer({ serverId: prodId, container: "web" });
    expect(response.container).toMatchObject({ name: "web", state: "running" });
    const received = agent.received.at(-1);
    // The change deadline: two minutes to reach the agent and run.
    expect(received?.deadline.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect(received?.deadline.getTime()).toBeLessThanOrEqual(Date.now() + 121_000);

    // Exactly one entry, written with the command in one transaction: who asked for what.
    const entries = await auditSince(auditBefore);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: "command.submit",
      targetType: "command",
      targetId: received?.commandId,
      actorName: "admin",
    });
    expect(JSON.parse(entries[0]?.afterJson ?? "{}")).toMatchObject({
      kind: DockerContainerStartSchema.typeName,
      servers: prodId,
    });
  });

  it("audits writes but not reads: a list leaves no entry, a stop leaves one", async () => {
    agent.script = () => ({ result: { schema: DockerContainerListResultSchema, value: { containers: [] } } });
    const beforeList = await lastAuditId();
    await client(tokens.owner).listContainers({ serverId: prodId });
    const listed = agent.received.at(-1)?.commandId;
    expect(await commands.wait(listed ?? "", DockerContainerListResultSchema)).toMatchObject({
      state: "succeeded",
    });
    expect(await auditSince(beforeList)).toEqual([]);

    agent.script = () => ({
      result: {
        schema: DockerContainerStateSchema,
        value: { id: "b".repeat(64), name: "web", state: "exited" },
      },
    });
    const beforeStop = await lastAuditId();
    await client(tokens.owner).stopContainer({ serverId: prodId, container: "web" });
    expect((await auditSince(beforeStop)).map((row) => [row.action, row.targetId])).toEqual([
      ["command.submit", agent.received.at(-1)?.commandId],
    ]);
  });

  it("turns the agent's error codes into API errors with its explanation", async () => {
    const cases = [
      ["not_found", Code.NotFound],
      ["conflict", Code.FailedPrecondition],
      ["docker_unavailable", Code.Unavailable],
      ["invalid_argument", Code.InvalidArgument],
      ["docker_error", Code.FailedPrecondition],
    ] as const;
    for (const [agentCode, apiCode] of cases) {
      agent.script = () => ({
        error: { code: agentCode, message: `Container web: ${agentCode} from the agent.` },
      });
      const error = await client(tokens.owner)
        .stopContainer({ serverId: prodId, container: "web" })
        .catch((caught: unknown) => ConnectError.from(caught));
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(apiCode);
      expect((error as ConnectError).rawMessage).toMatch(
        new RegExp(`Container web: ${agentCode} from the agent\\. \\(command [0-9a-f-]{36}\\)`),
      );
    }
    // The submission, then the failure under the RPC's own action (recorded by the interceptor).
    const auditBefore = await lastAuditId();
    await client(tokens.owner)
      .stopContainer({ serverId: prodId, container: "web" })
      .catch(() => undefined);
    expect((await auditSince(auditBefore)).map((row) => [row.action, row.result])).toEqual([
      ["command.submit", "success"],
      ["docker.container.stop", "failure"],
    ]);
  });

  it("lets viewers read and only operators of the server change", async () => {
    agent.script = () => ({ result: { schema: DockerContainerListResultSchema, value: { containers: [] } } });
    expect(await codeOf(client(tokens.viewer).listContainers({ serverId: prodId }))).toBe("ok");
    expect(await codeOf(client(tokens.viewer).startContainer({ serverId: prodId, container: "web" }))).toBe(
      Code.PermissionDenied,
    );
    // An operator bound to env=dev may change dev servers only.
    expect(
      await codeOf(client(tokens.devOperator).startContainer({ serverId: prodId, container: "web" })),
    ).toBe(Code.PermissionDenied);
    expect(
      await codeOf(client(tokens.devOperator).startContainer({ serverId: devId, container: "web" })),
    ).toBe("ok");
  });

  it("checks the server's tags for streaming calls too, and audits a refused pull", async () => {
    const drain = async (stream: AsyncIterable<unknown>) => {
      for await (const _ of stream);
    };
    const pull = (token: string, serverId: string) =>
      codeOf(drain(client(token).pullImage({ serverId, spec: { image: "odoo:17.0" } })));
    const sent = agent.received.length;
    const auditBefore = await lastAuditId();
    expect(await pull(tokens.devOperator, prodId)).toBe(Code.PermissionDenied);
    expect(agent.received.length).toBe(sent);
    expect((await auditSince(auditBefore)).map((row) => [row.action, row.result, row.targetId])).toEqual([
      ["docker.image.pull", "denied", prodId],
    ]);
    expect(await pull(tokens.devOperator, devId)).toBe("ok");

    const devViewer = await harness.userToken("dev-viewer", [{ role: "viewer", selector: "env=dev" }]);
    const logs = client(devViewer).streamContainerLogs({ serverId: prodId, options: { container: "web" } });
    expect(await codeOf(drain(logs))).toBe(Code.PermissionDenied);
    const missing = client(tokens.owner).streamContainerLogs({ serverId: prodId });
    expect(await codeOf(drain(missing))).toBe(Code.InvalidArgument);
  });

  it("streams a pull's progress in order after its command id, then the result", async () => {
    agent.script = () => ({
      output: [
        ["progress", "Pulling from library/odoo\n"],
        ["progress", "abc123: Downloading [=>   ] 1MB/10MB\n"],
        ["progress", "Status: Downloaded newer image for odoo:17.0\n"],
      ],
      result: { schema: DockerImagePullResultSchema, value: { image: "odoo:17.0", id: "sha256:feed" } },
    });
    const events = [];
    for await (const response of client(tokens.owner).pullImage({
      serverId: prodId,
      spec: { image: "odoo:17.0" },
    })) {
      events.push(response.event);
    }
    expect(events[0]).toEqual({ case: "commandId", value: agent.received.at(-1)?.commandId });
    expect(
      events
        .slice(1, 4)
        .map((event) => (event.case === "output" ? new TextDecoder().decode(event.value.data) : "")),
    ).toEqual([
      "Pulling from library/odoo\n",
      "abc123: Downloading [=>   ] 1MB/10MB\n",
      "Status: Downloaded newer image for odoo:17.0\n",
    ]);
    expect(events[4]).toMatchObject({ case: "result", value: { image: "odoo:17.0", id: "sha256:feed" } });
    expect(events).toHaveLength(5);
    expect(fromBinary(DockerImagePullSchema, agent.received.at(-1)?.spec ?? new Uint8Array()).image).toBe(
      "odoo:17.0",
    );
  });

  it("cancels a followed log on the agent when the caller stops reading", async () => {
    agent.script = () => ({
      output: [
        ["stdout", "line 1\n"],
        ["stderr", "warning 1\n"],
      ],
      untilCancelled: true,
    });
    const controller = new AbortController();
    const lines: string[] = [];
    const stream = client(tokens.viewer).streamContainerLogs(
      { serverId: prodId, options: { container: "web", follow: true } },
      { signal: controller.signal },
    );
    const reading = (async () => {
      for await (const response of stream) {
        if (response.event.case === "output") lines.push(new TextDecoder().decode(response.event.value.data));
        if (lines.length === 2) controller.abort();
      }
    })();
    expect(await codeOf(reading)).toBe(Code.Canceled);
    expect(lines).toEqual(["line 1\n", "warning 1\n"]);
    const commandId = agent.received.at(-1)?.commandId;
    await expect.poll(() => agent.cancelled.map((cancel) => cancel.commandId)).toContain(commandId);
    const outcome = await commands.wait(commandId ?? "", DockerContainerLogsResultSchema);
    expect(outcome.state).toBe("cancelled");
    // Reading a log is not a change: neither its submission nor its cancellation is audited.
    const entries = await harness.database.db.select().from(auditLog);
    expect(entries.filter((entry) => entry.targetId === commandId)).toEqual([]);
  });

  it("returns an exec's exit status as a result, and checks its inputs", async () => {
    agent.script = () => ({
      output: [["stdout", "out\n"]],
      exitCode: 3,
      result: {
        schema: DockerContainerExecResultSchema,
        value: { exitCode: 3, stdout: new TextEncoder().encode("out\n") },
      },
    });
    const response = await client(tokens.owner).execInContainer({
      serverId: prodId,
      spec: { container: "web", command: ["sh", "-c", "exit 3"], env: { PASSWORD: "secret" } },
    });
    expect(response.result?.exitCode).toBe(3);
    expect(response.commandId).toBe(agent.received.at(-1)?.commandId);
    const [submitted] = await auditSince((await lastAuditId()) - 1);
    expect(submitted?.targetId).toBe(response.commandId);
    expect(submitted?.afterJson).not.toContain("secret");

    const owner = client(tokens.owner);
    const invalid = [
      () =>
        owner.execInContainer({
          serverId: prodId,
          spec: { container: "web", command: ["true"] },
          timeoutSeconds: 7200,
        }),
      () => owner.execInContainer({ serverId: prodId }),
      () => owner.createContainer({ serverId: prodId }),
      () => owner.startContainer({ serverId: "not-a-uuid", container: "web" }),
    ];
    for (const call of invalid) expect(await codeOf(call())).toBe(Code.InvalidArgument);
  });

  it("refuses a server that does not exist before anything is queued", async () => {
    const missing = "00000000-0000-4000-8000-000000000001";
    const sent = agent.received.length;
    const error = await client(tokens.owner)
      .listContainers({ serverId: missing })
      .catch((caught: unknown) => ConnectError.from(caught));
    expect(error).toMatchObject({ code: Code.NotFound, rawMessage: expect.stringMatching(/does not exist/) });
    expect(agent.received.length).toBe(sent);
  });
});
