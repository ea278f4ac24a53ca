import {
  HostListeningPortsResultSchema,
  HostListeningPortsSchema,
  InstanceCreatedSchema,
  InstanceCreateSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { and, eq } from "drizzle-orm";
import { instances } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { type CommandActor, commandActorOf } from "../commands/command-runner.js";
import { allocatePortBlock } from "../ports/port-blocks.js";
import { requireAgentOnline } from "../presence/agent-reachability.js";
import { getServer } from "../servers/servers.js";
import { deadlineIn, type InstanceDeps } from "./instance-deps.js";
import {
  checkImageReference,
  checkInstanceName,
  checkInstanceSettings,
  generateSecret,
  isUniqueViolation,
} from "./instance-input.js";
import { CREATE_FAILED_PREFIX, deriveInstanceState } from "./instance-state.js";
import { type InstanceRow, instanceAuditView } from "./instance-view.js";

export interface CreateInstanceInput {
  readonly serverId: string;
  readonly name: string;
  readonly odooImage: string;
  readonly postgresImage: string;
  readonly mailpitImage: string;
  readonly edition: string;
  readonly workers: number;
  readonly cpuMillis: number;
  readonly memoryBytes: bigint;
  readonly environment: Readonly<Record<string, string>>;
}

/** The host's listening ports, from its agent; an agent that does not answer in time stops here. */
async function listeningPorts(deps: InstanceDeps, serverId: string, serverName: string, actor: CommandActor) {
  try {
    const result = await deps.runner.run({
      serverId,
      input: HostListeningPortsSchema,
      args: {},
      output: HostListeningPortsResultSchema,
      deadline: deadlineIn(deps, deps.timing.portsMs),
      actor,
    });
    return new Set(result.ports);
  } catch (error) {
    throw new AppError(
      "unavailable",
      `the agent of server "${serverName}" did not report its listening ports within ${Math.round(deps.timing.portsMs / 1000)} s (${(error as Error).message}); nothing was created: check that the agent is online, then retry`,
    );
  }
}

/**
 * Validates, asks the agent which ports are taken, then records the instance (`creating`) with its
 * port block and audit entry in one transaction, and creates it on the host in the background.
 * Returns the record, the generated admin password (shown once, never stored) and the promise of
 * the record once the background creation ended.
 */
export async function createInstance(
  deps: InstanceDeps,
  context: AuditContext,
  input: CreateInstanceInput,
): Promise<{ instance: InstanceRow; adminPassword: string; created: Promise<InstanceRow | undefined> }> {
  const name = checkInstanceName(input.name);
  const images = {
    odoo: checkImageReference(input.odooImage || deps.images.odoo, "odoo_image"),
    postgres: checkImageReference(input.postgresImage || deps.images.postgres, "postgres_image"),
    mailpit: checkImageReference(input.mailpitImage || deps.images.mailpit, "mailpit_image"),
  };
  const settings = checkInstanceSettings(input);
  AppError.requireId(input.serverId, "serverId");
  const server = await getServer(deps.db, input.serverId);
  if (server.status === "removing") {
    throw new AppError(
      "failed_precondition",
      `server "${server.name}" is being removed: create the instance on another server`,
    );
  }
  const [clash] = await deps.db
    .select({ id: instances.id })
    .from(instances)
    .where(and(eq(instances.serverId, server.id), eq(instances.name, name)));
  if (clash) throw duplicate(name, server.name);
  requireAgentOnline(server, deps.now());
  const actor = commandActorOf(context);
  const listening = await listeningPorts(deps, server.id, server.name, actor);

  let row: InstanceRow;
  try {
    row = await deps.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(instances)
        .values({
          serverId: server.id,
          name,
          odooImage: images.odoo,
          postgresImage: images.postgres,
          mailpitImage: images.mailpit,
          ...settings,
          basePort: 0,
        })
        .returning();
      if (!inserted) throw new AppError("internal", "the instance was not recorded");
      const basePort = await allocatePortBlock(tx, {
        serverId: server.id,
        instanceId: inserted.id,
        listening,
      });
      const [withPorts] = await tx
        .update(instances)
        .set({ basePort })
        .where(eq(instances.id, inserted.id))
        .returning();
      if (!withPorts) throw new AppError("internal", "the instance was not recorded");
      await recordAudit(tx, context, {
        action: "instance.create",
        targetType: "instance",
        targetId: withPorts.id,
        after: instanceAuditView(withPorts),
      });
      return withPorts;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(name, server.name);
    throw error;
  }
  const adminPassword = generateSecret();
  const databasePassword = generateSecret();
  const created = finishCreation(deps, row, { adminPassword, databasePassword }, actor);
  deps.tasks.run(`create instance ${row.id}`, () => created.then(() => undefined));
  return { instance: row, adminPassword, created };
}

function duplicate(name: string, serverName: string): AppError {
  return new AppError(
    "already_exists",
    `an instance named "${name}" exists on server "${serverName}": choose another name`,
  );
}

/** The background half: the agent creates the containers; the record follows the outcome. */
async function finishCreation(
  deps: InstanceDeps,
  row: InstanceRow,
  secrets: { adminPassword: string; databasePassword: string },
  actor: CommandActor,
): Promise<InstanceRow | undefined> {
  let next: { state: InstanceRow["state"]; stateMessage: string };
  try {
    const result = await deps.runner.run({
      serverId: row.serverId,
      input: InstanceCreateSchema,
      args: {
        instanceId: row.id,
        name: row.name,
        images: { odoo: row.odooImage, postgres: row.postgresImage, mailpit: row.mailpitImage },
        basePort: row.basePort,
        workers: row.workers,
        limits: { cpuMillis: row.cpuMillis, memoryBytes: BigInt(row.memoryBytes) },
        environment: row.environment,
        adminPassword: secrets.adminPassword,
        databasePassword: secrets.databasePassword,
        edition: row.edition,
      },
      output: InstanceCreatedSchema,
      deadline: deadlineIn(deps, deps.timing.createMs),
      actor,
    });
    const derived = deriveInstanceState(result.status, "running");
    next = { state: derived.state, stateMessage: derived.message };
  } catch (error) {
    next = {
      state: "failed",
      stateMessage: `${CREATE_FAILED_PREFIX}${(error as Error).message}. Nothing was left on the server; delete this instance and create it again`,
    };
  }
  return deps.db.transaction(async (tx) => {
    const [after] = await tx
      .update(instances)
      .set({ ...next, updatedAt: deps.now() })
      .where(and(eq(instances.id, row.id), eq(instances.state, "creating")))
      .returning();
    if (!after) return undefined;
    await recordAudit(tx, systemContext(), {
      action: "instance.create.finished",
      targetType: "instance",
      targetId: row.id,
      before: { state: "creating" },
      after: { state: after.state, stateMessage: after.stateMessage },
      result: after.state === "failed" ? "failure" : "success",
    });
    return after;
  });
}
