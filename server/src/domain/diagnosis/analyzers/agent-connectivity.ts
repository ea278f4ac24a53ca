import type { AnalyzerResult, ServerEvidence } from "../diagnosis-types.js";
import { round } from "../diagnosis-types.js";

const NAME = "agent_connectivity";
const SILENT_MS = 2 * 60_000;

/** Agent connectivity: the server is offline or its agent has been silent, or samples have gaps. */
export function analyzeAgentConnectivity(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  const lastSeen = server.lastSeenAt;
  const silentFor = lastSeen ? input.now.getTime() - lastSeen.getTime() : Number.POSITIVE_INFINITY;
  const offline = server.status === "offline" || silentFor > SILENT_MS;
  const offlineAlert = input.alerts.filter(
    (a) => a.ruleKey === "builtin:agent_offline" && a.state !== "resolved",
  );
  if (!offline) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "agent presence",
          showed: `last heard ${round(silentFor / 1000)} s ago, status ${server.status}`,
          outcome: "ruled_out",
        },
      ],
    };
  }
  const from = lastSeen ?? input.window.from;
  return {
    findings: [
      {
        analyzer: NAME,
        serverId: server.id,
        serverName: server.name,
        title: "Agent offline",
        likelihood: 0.9,
        window: { from, to: input.now },
        summary: lastSeen
          ? `The agent has not been heard from since ${lastSeen.toISOString()} (${round(silentFor / 60_000)} min); newer metrics are missing, so other checks see only data before that.`
          : "The agent has never connected.",
        evidence: [
          {
            kind: "fact",
            label: "last_seen_at",
            window: { from, to: input.now },
            text: `status ${server.status}, last seen ${lastSeen ? lastSeen.toISOString() : "never"}`,
          },
          ...offlineAlert.map((a) => ({
            kind: "alert" as const,
            label: a.ruleName,
            alertId: a.id,
            text: a.summary,
          })),
        ],
        remediation: [
          {
            priority: 1,
            title: "Check the host and its agent",
            note: "Is the host up and reachable? On it: `systemctl status ocore-agent` and `journalctl -u ocore-agent`. No template can run while the agent is away.",
          },
        ],
        alertIds: offlineAlert.map((a) => a.id),
      },
    ],
    steps: [
      {
        analyzer: NAME,
        serverName: server.name,
        checked: "agent presence",
        showed: `silent for ${Number.isFinite(silentFor) ? `${round(silentFor / 60_000)} min` : "ever"}`,
        outcome: "finding",
      },
    ],
  };
}
