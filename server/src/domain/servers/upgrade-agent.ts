import type { DescMessage } from "@bufbuild/protobuf";
import {
  AgentUpgradeResultSchema,
  AgentUpgradeSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_commands_pb.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { loadAgentRelease } from "../agent-release/agent-release.js";
import type { AuditContext } from "../audit/audit-context.js";
import type { CommandActor, CommandRunner, SubmitCommand } from "../commands/command-runner.js";
import { getServer } from "./servers.js";

/** The runner as the upgrade uses it: submit records its audit entry under the caller's context. */
export interface UpgradeCommands extends Pick<CommandRunner, "wait"> {
  submit<I extends DescMessage>(
    command: SubmitCommand<I>,
    context?: AuditContext,
  ): Promise<{ readonly commandId: string }>;
}

export interface UpgradeAgentDeps {
  readonly db: Db;
  readonly commands: UpgradeCommands;
  readonly executablePath: string;
  readonly now: () => Date;
  /** How long the download, verification and swap may take on the host. */
  readonly commandTimeoutMs?: number;
  /** How long the new agent has to reconnect (it rolls back after 60 s without the server). */
  readonly reconnectTimeoutMs?: number;
  readonly pollEveryMs?: number;
}

export interface UpgradeOutcome {
  readonly commandId: string;
  readonly previousVersion: string;
  readonly version: string;
  readonly alreadyCurrent: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Upgrades one server's agent to this server's release: the AgentUpgrade command over the
 * agent's stream (audited as the command's submission), then waits until the agent is back
 * with the new version. A rollback on the host shows as the old version coming back.
 */
export async function upgradeAgent(
  deps: UpgradeAgentDeps,
  input: { readonly serverId: string; readonly actor: CommandActor; readonly audit: AuditContext },
  signal?: AbortSignal,
): Promise<UpgradeOutcome> {
  const server = await getServer(deps.db, AppError.requireId(input.serverId, "serverId"));
  if (server.status !== "active") {
    throw new AppError(
      "failed_precondition",
      `the agent of ${server.name} is not connected (status ${server.status}): an upgrade travels over its stream; wait until it is online, or reinstall it over SSH`,
    );
  }
  const release = await loadAgentRelease(deps.executablePath);
  const submitted = await deps.commands.submit(
    {
      serverId: server.id,
      input: AgentUpgradeSchema,
      args: { version: release.version, sha256: release.sha256, size: BigInt(release.size) },
      deadline: new Date(deps.now().getTime() + (deps.commandTimeoutMs ?? 10 * 60_000)),
      actor: input.actor,
    },
    input.audit,
  );
  const outcome = await deps.commands.wait(submitted.commandId, AgentUpgradeResultSchema, signal);
  if (outcome.state !== "succeeded" || !outcome.result) {
    throw new AppError(
      "failed_precondition",
      `the agent of ${server.name} did not upgrade (${outcome.state}${outcome.errorCode ? `, ${outcome.errorCode}` : ""}): ${outcome.errorMessage ?? "no reason given"}`,
    );
  }
  const result = outcome.result;
  const done = (version: string) => ({
    commandId: submitted.commandId,
    previousVersion: result.previousVersion,
    version,
    alreadyCurrent: result.alreadyCurrent,
  });
  if (result.alreadyCurrent) return done(result.installedVersion);

  const deadline = deps.now().getTime() + (deps.reconnectTimeoutMs ?? 5 * 60_000);
  let wentAway = false;
  while (deps.now().getTime() < deadline) {
    signal?.throwIfAborted();
    const row = await getServer(deps.db, server.id);
    if (row.status !== "active") wentAway = true;
    else if (row.agentVersion === result.installedVersion) return done(result.installedVersion);
    else if (wentAway && row.agentVersion === result.previousVersion) {
      throw new AppError(
        "failed_precondition",
        `the agent of ${server.name} came back with ${result.previousVersion}: the new executable ${result.installedVersion} did not start or reach the server and was rolled back (see the host's journal or PREFIX/log/agent.log)`,
      );
    }
    await sleep(deps.pollEveryMs ?? 1000);
  }
  throw new AppError(
    "unavailable",
    `the agent of ${server.name} has not come back with ${result.installedVersion} within ${Math.round((deps.reconnectTimeoutMs ?? 300_000) / 1000)} s: check the host (journalctl -u ocore-agent, or PREFIX/log/agent.log when supervised)`,
  );
}
