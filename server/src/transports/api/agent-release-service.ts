import type { ServiceImpl } from "@connectrpc/connect";
import type { AgentReleaseService } from "@ocore/proto/gen/ocore/api/v1/agent_release_service_pb.js";
import { loadAgentRelease } from "../../domain/agent-release/agent-release.js";
import { commandActorOf } from "../../domain/commands/command-runner.js";
import { type UpgradeAgentDeps, upgradeAgent } from "../../domain/servers/upgrade-agent.js";
import { auditContextOf, principalOf } from "./request-context.js";

/** ocore.api.v1.AgentReleaseService: decode, call the domain, encode. */
export function createAgentReleaseService(deps: UpgradeAgentDeps): ServiceImpl<typeof AgentReleaseService> {
  return {
    async getRelease() {
      const release = await loadAgentRelease(deps.executablePath);
      return { version: release.version, sha256: release.sha256, size: BigInt(release.size) };
    },
    async upgradeAgent(request, context) {
      const audit = auditContextOf(context, principalOf(context));
      const outcome = await upgradeAgent(
        deps,
        {
          serverId: request.serverId,
          actor: commandActorOf(audit),
          audit,
        },
        context.signal,
      );
      return outcome;
    },
  };
}
