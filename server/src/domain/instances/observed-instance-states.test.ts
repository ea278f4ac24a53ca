import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { status as grpcStatus } from "@grpc/grpc-js";
import { CommandOutcome } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  InstanceCreatedSchema,
  type InstanceStatusSchema,
  InstanceStopSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentPeer } from "../../../test/support/agent-channel.js";
import { nextCommand, startCommandGateway } from "../../../test/support/command-gateway.js";

/** The next message of one kind from the server, skipping others. */
async function nextPayload(peer: AgentPeer, kind: string) {
  for (;;) {
    const message = await peer.next();
    if (message.payload.case === kind) return message.payload;
  }
}

import { databaseKinds } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { commands } from "../../platform/db/schema/commands.js";
import { type InstanceState, instances } from "../../platform/db/schema/instances.js";
import type { BackupDeps } from "../backups/backup-deps.js";
import { createDirectoryBackupStore } from "../backups/backup-store.js";
import { createBackupDeps } from "../backups/create-backup-deps.js";
import { systemActor } from "../commands/command-runner.js";
import { createBackgroundTasks } from "./background-tasks.js";
import { getInstance, listInstances } from "./instance-queries.js";

type Gateway = Awaited<ReturnType<typeof startCommandGateway>>;
type Status = MessageInitShape<typeof InstanceStatusSchema>;

const running = (instanceId: string): Status => ({
  instanceId,
  containers: ["db", "mail", "odoo"].map((role) => ({ role, state: "running", containerId: role })),
});

describe.each(databaseKinds)("instance states pushed by the agent (%s)", (kind) => {
  let gateway: Gateway;
  let deps: BackupDeps;
  let storeDir: string;
  let port = 20_000;

  const addInstance = async (
    serverId: string,
    state: InstanceState = "running",
    desiredState: "running" | "stopped" = "running",
  ) => {
    port += 10;
    const [row] = await gateway.database.db
      .insert(instances)
      .values({
        serverId,
        name: `i-${randomUUID().slice(0, 8)}`,
        state,
        desiredState,
        odooImage: "odoo:17.0",
        postgresImage: "postgres:16",
        mailpitImage: "axllent/mailpit:v1.21",
        basePort: port,
      })
      .returning();
    return row as typeof instances.$inferSelect;
  };
  const stored = async (id: string) =>
    (await gateway.database.db.select().from(instances).where(eq(instances.id, id)))[0];
  /** A new server with a live agent stream. */
  const connectedAgent = async () => {
    const server = await gateway.enrolledServer();
    const peer = await gateway.agent(server);
    return { serverId: server.serverId, peer };
  };
  const snapshot = (peer: AgentPeer, statuses: Status[]) =>
    peer.send({
      case: "instanceStates",
      value: { instances: statuses, snapshotEnd: { instanceIds: statuses.map((s) => s.instanceId ?? "") } },
    });

  beforeAll(async () => {
    gateway = await startCommandGateway(kind);
    storeDir = await mkdtemp(path.join(os.tmpdir(), "ocore-observed-"));
    const logger = pino({ level: "silent" });
    deps = createBackupDeps({
      db: gateway.database.db,
      runner: gateway.runner,
      store: createDirectoryBackupStore(storeDir),
      tasks: createBackgroundTasks(logger),
      logger,
      images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
      now: gateway.clock.now,
      statesPushed: gateway.gateway.pushesInstanceStates,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it("shows a pushed 'died' as failed with the exit reason, without asking the agent and without audit", async () => {
    const { serverId, peer } = await connectedAgent();
    const instance = await addInstance(serverId);
    snapshot(peer, [running(instance.id)]);
    await expect.poll(() => gateway.gateway.pushesInstanceStates(serverId)).toBe(true);
    const auditBefore = (await gateway.database.db.select().from(auditLog)).length;

    peer.send({
      case: "instanceStates",
      value: {
        instances: [
          {
            instanceId: instance.id,
            containers: [
              { role: "db", state: "running" },
              { role: "mail", state: "running" },
              { role: "odoo", state: "exited", exitCode: 137 },
            ],
          },
        ],
      },
    });
    await expect.poll(async () => (await stored(instance.id))?.state).toBe("failed");
    const row = await getInstance(deps, instance.id);
    expect(row).toMatchObject({
      state: "failed",
      stateMessage: expect.stringContaining("Odoo exited with code 137"),
    });
    // Stamped with the gateway's clock: the live views that poll updated_at see the change.
    expect(row.updatedAt.getTime()).toBe(gateway.clock.now().getTime());
    // Get and List read the pushed state: no InstanceInspect round trip, nothing audited.
    await listInstances(deps, { all: true }, { serverId });
    const sent = await gateway.database.db.select().from(commands).where(eq(commands.serverId, serverId));
    expect(sent).toEqual([]);
    expect((await gateway.database.db.select().from(auditLog)).length).toBe(auditBefore);

    // Docker restarts it and it runs again: running, the message cleared.
    peer.send({ case: "instanceStates", value: { instances: [running(instance.id)] } });
    await expect.poll(async () => (await stored(instance.id))?.state).toBe("running");
    expect((await stored(instance.id))?.stateMessage).toBe("");
    peer.close();
  });

  it("makes a snapshot authoritative: an instance missing from it failed; stopped, creating and other servers' stay", async () => {
    const { serverId, peer } = await connectedAgent();
    const gone = await addInstance(serverId);
    const stopped = await addInstance(serverId, "running", "stopped");
    const creating = await addInstance(serverId, "creating");
    const elsewhere = await addInstance((await gateway.enrolledServer()).serverId);
    const exited = ["db", "mail", "odoo"].map((role) => ({ role, state: "exited", exitCode: 0 }));
    snapshot(peer, [
      { instanceId: stopped.id, containers: exited },
      // The agent cannot move an instance of another server.
      { instanceId: elsewhere.id, containers: exited },
    ]);
    await expect.poll(async () => (await stored(gone.id))?.state).toBe("failed");
    expect((await stored(gone.id))?.stateMessage).toContain("containers are gone");
    expect((await stored(stopped.id))?.state).toBe("stopped");
    expect((await stored(creating.id))?.state).toBe("creating");
    expect((await stored(elsewhere.id))?.state).toBe("running");
    peer.close();
  });

  it("leaves an instance alone while a stop, start, restart or restore of it is under way", async () => {
    const { serverId, peer } = await connectedAgent();
    const instance = await addInstance(serverId);
    snapshot(peer, [running(instance.id)]);
    await expect.poll(() => gateway.gateway.pushesInstanceStates(serverId)).toBe(true);
    const { commandId } = await gateway.runner.submit({
      serverId,
      input: InstanceStopSchema,
      args: { instanceId: instance.id },
      deadline: new Date(gateway.clock.now().getTime() + 60_000),
      actor: systemActor,
    });
    await nextCommand(peer);
    const odooExited: Status = {
      instanceId: instance.id,
      containers: [
        { role: "db", state: "running" },
        { role: "mail", state: "running" },
        { role: "odoo", state: "exited", exitCode: 0 },
      ],
    };
    // The stop's own doing, mid-way: not a failure.
    peer.send({ case: "instanceStates", value: { instances: [odooExited] } });
    peer.send({ case: "ping", value: { nonce: 1n } });
    await nextPayload(peer, "pong");
    expect((await stored(instance.id))?.state).toBe("running");

    peer.send({
      case: "commandEvent",
      value: {
        commandId,
        event: {
          case: "finished",
          value: { outcome: CommandOutcome.FAILED, errorCode: "x", errorMessage: "x" },
        },
      },
    });
    await gateway.runner.wait(commandId, InstanceCreatedSchema);
    peer.send({ case: "instanceStates", value: { instances: [odooExited] } });
    await expect.poll(async () => (await stored(instance.id))?.state).toBe("failed");
    peer.close();
  });

  it("still asks an agent that does not push (an older one) on Get", async () => {
    const { serverId, peer } = await connectedAgent();
    const instance = await addInstance(serverId);
    const reading = getInstance(deps, instance.id);
    const command = await nextCommand(peer);
    expect(command.spec?.typeUrl).toContain("ocore.agent.v1.InstanceInspect");
    peer.send({
      case: "commandEvent",
      value: {
        commandId: command.commandId,
        event: {
          case: "finished",
          value: { outcome: CommandOutcome.FAILED, errorCode: "docker_unavailable", errorMessage: "down" },
        },
      },
    });
    // The refresh is best effort: the stored state is returned.
    expect(await reading).toMatchObject({ id: instance.id, state: "running" });
    peer.close();
  });

  it("refuses a stream whose states are malformed", async () => {
    const { peer } = await connectedAgent();
    peer.send({ case: "instanceStates", value: { instances: [{ instanceId: "not-a-uuid" }] } });
    expect((await peer.ended).code).toBe(grpcStatus.INVALID_ARGUMENT);
  });
});
