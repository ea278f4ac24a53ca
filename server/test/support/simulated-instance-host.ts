import { createHash, randomUUID } from "node:crypto";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  HostListeningPortsResultSchema,
  InstanceBackedUpSchema,
  type InstanceBackup,
  type InstanceCreate,
  InstanceCreatedSchema,
  type InstanceInspect,
  InstanceInspectedSchema,
  InstanceRemovedSchema,
  type InstanceRestore,
  InstanceRestoredSchema,
  type InstanceStatus,
  InstanceStatusSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type { BackupStore } from "../../src/domain/backups/backup-store.js";
import { openDownload, receiveUpload } from "../../src/domain/backups/backup-transfer.js";
import type {
  CommandOutcome,
  CommandRunner,
  SubmitCommand,
} from "../../src/domain/commands/command-runner.js";
import type { Db } from "../../src/platform/db/database.js";
import { AppError } from "../../src/platform/errors/app-error.js";

interface Container {
  state: string;
  exitCode: number;
}

/** One instance as the simulated Docker holds it, with its "database" and "filestore" contents. */
export interface SimulatedInstance {
  readonly id: string;
  readonly name: string;
  readonly basePort: number;
  readonly containers: Record<"db" | "odoo" | "mail", Container>;
  database: string;
  filestore: string;
}

/**
 * The agent side for server tests, behind the CommandRunner interface: a host whose Docker is
 * simulated in memory (the real handlers are tested against the real dockerd in the agent
 * package, which the server may not import). Backups go through the real upload and download
 * code (tickets, store, checksums); `offline` makes every command time out.
 */
export interface SimulatedHost extends CommandRunner {
  readonly instances: Map<string, SimulatedInstance>;
  readonly listening: Set<number>;
  offline: boolean;
  /** The spec type names of every command submitted, in order. */
  readonly submitted: string[];
}

export function createSimulatedHost(options: { db: Db; store: BackupStore }): SimulatedHost {
  const outcomes = new Map<string, Promise<CommandOutcome<DescMessage>>>();
  const host: SimulatedHost = {
    instances: new Map(),
    listening: new Set(),
    offline: false,
    submitted: [],
    async submit(command) {
      const commandId = randomUUID();
      host.submitted.push(command.input.typeName);
      outcomes.set(commandId, execute(command));
      return { commandId };
    },
    async wait<O extends DescMessage>(commandId: string, output: O) {
      const outcome = await outcomes.get(commandId);
      if (!outcome) throw AppError.notFound(`command ${commandId}`);
      if (outcome.result && outcome.result.$typeName !== output.typeName) {
        throw new Error(`${outcome.result.$typeName} is not ${output.typeName}`);
      }
      return outcome as CommandOutcome<O>;
    },
    async run(command) {
      const { commandId } = await host.submit(command);
      const outcome = await host.wait(commandId, command.output);
      if (outcome.state === "succeeded" && outcome.result) return outcome.result;
      if (outcome.state === "timed_out")
        throw new AppError(
          "unavailable",
          `${command.input.typeName} did not finish in time: the agent is offline`,
        );
      throw new AppError("failed_precondition", `${command.input.typeName} failed: ${outcome.errorMessage}`);
    },
    async cancel() {},
  };

  const statusOf = (instance: SimulatedInstance): InstanceStatus =>
    create(InstanceStatusSchema, {
      instanceId: instance.id,
      containers: Object.entries(instance.containers).map(([role, container]) => ({ role, ...container })),
    });
  const get = (id: string) => {
    const instance = host.instances.get(id);
    if (!instance)
      throw Object.assign(new Error(`instance ${id} has no containers on this host`), { code: "not_found" });
    return instance;
  };
  const succeeded = (commandId: string, result: MessageShape<DescMessage>): CommandOutcome<DescMessage> => ({
    commandId,
    state: "succeeded",
    result,
    exitCode: 0,
    errorCode: null,
    errorMessage: null,
  });

  async function execute<I extends DescMessage>(
    command: SubmitCommand<I>,
  ): Promise<CommandOutcome<DescMessage>> {
    const commandId = randomUUID();
    if (host.offline) {
      return {
        commandId,
        state: "timed_out",
        result: undefined,
        exitCode: 0,
        errorCode: "timed_out",
        errorMessage: "the agent is offline",
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    const spec = create(command.input, command.args) as MessageShape<DescMessage>;
    try {
      return succeeded(commandId, await handle(command.serverId, command.input.typeName, spec));
    } catch (error) {
      return {
        commandId,
        state: "failed",
        result: undefined,
        exitCode: 1,
        errorCode: (error as { code?: string }).code ?? "failed",
        errorMessage: (error as Error).message,
      };
    }
  }

  async function handle(
    serverId: string,
    type: string,
    spec: MessageShape<DescMessage>,
  ): Promise<MessageShape<DescMessage>> {
    switch (type) {
      case "ocore.agent.v1.HostListeningPorts":
        return create(HostListeningPortsResultSchema, { ports: [...host.listening].sort((a, b) => a - b) });
      case "ocore.agent.v1.InstanceCreate": {
        const args = spec as InstanceCreate;
        const ports = [args.basePort, args.basePort + 1, args.basePort + 2];
        if (ports.some((port) => host.listening.has(port))) {
          throw Object.assign(new Error(`a port of ${args.basePort} is taken`), { code: "port_in_use" });
        }
        if (args.adminPassword.length < 12 || args.databasePassword.length < 12)
          throw new Error("weak secrets");
        for (const port of ports) host.listening.add(port);
        const running = () => ({ state: "running", exitCode: 0 });
        const instance: SimulatedInstance = {
          id: args.instanceId,
          name: args.name,
          basePort: args.basePort,
          containers: { db: running(), odoo: running(), mail: running() },
          database: "",
          filestore: "",
        };
        host.instances.set(instance.id, instance);
        return create(InstanceCreatedSchema, { status: statusOf(instance) });
      }
      case "ocore.agent.v1.InstanceStart":
      case "ocore.agent.v1.InstanceStop":
      case "ocore.agent.v1.InstanceRestart": {
        const instance = get((spec as unknown as { instanceId: string }).instanceId);
        for (const container of Object.values(instance.containers)) {
          container.state = type.endsWith("Stop") ? "exited" : "running";
          container.exitCode = 0;
        }
        return create(InstanceCreatedSchema, { status: statusOf(instance) });
      }
      case "ocore.agent.v1.InstanceInspect": {
        const ids = (spec as InstanceInspect).instanceIds;
        return create(InstanceInspectedSchema, {
          instances: ids.filter((id) => host.instances.has(id)).map((id) => statusOf(get(id))),
        });
      }
      case "ocore.agent.v1.InstanceRemove": {
        const instance = host.instances.get((spec as unknown as { instanceId: string }).instanceId);
        if (instance) {
          for (const port of [0, 1, 2]) host.listening.delete(instance.basePort + port);
          host.instances.delete(instance.id);
        }
        return create(InstanceRemovedSchema, { containers: instance ? 3 : 0, volumes: instance ? 3 : 0 });
      }
      case "ocore.agent.v1.InstanceBackup": {
        const args = spec as InstanceBackup;
        const instance = get(args.instanceId);
        const archive = Buffer.from(
          JSON.stringify({ database: instance.database, filestore: instance.filestore }),
        );
        const stored = await receiveUpload(
          options.db,
          options.store,
          { serverId, backupId: args.backupId, ticket: args.uploadTicket },
          (async function* () {
            yield archive.subarray(0, 10);
            yield archive.subarray(10);
          })(),
        );
        return create(InstanceBackedUpSchema, {
          sizeBytes: BigInt(stored.sizeBytes),
          sha256: createHash("sha256").update(archive).digest("hex"),
          databaseBytes: BigInt(instance.database.length),
          filestoreBytes: BigInt(instance.filestore.length),
        });
      }
      case "ocore.agent.v1.InstanceRestore": {
        const args = spec as InstanceRestore;
        const instance = get(args.instanceId);
        const parts: Buffer[] = [];
        for await (const chunk of await openDownload(options.db, options.store, {
          serverId,
          backupId: args.backupId,
          ticket: args.downloadTicket,
        })) {
          parts.push(Buffer.from(chunk));
        }
        const archive = Buffer.concat(parts);
        if (createHash("sha256").update(archive).digest("hex") !== args.sha256)
          throw Object.assign(new Error("checksum"), { code: "checksum_mismatch" });
        const content = JSON.parse(archive.toString("utf8")) as { database: string; filestore: string };
        instance.database = content.database;
        instance.filestore = content.filestore;
        return create(InstanceRestoredSchema, { status: statusOf(instance) });
      }
      default:
        throw Object.assign(new Error(`unknown command ${type}`), { code: "unknown_command" });
    }
  }

  return host;
}
