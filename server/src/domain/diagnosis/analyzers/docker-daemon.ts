import type { AnalyzerResult, ServerEvidence } from "../diagnosis-types.js";
import { windowText } from "../diagnosis-types.js";

const NAME = "docker_daemon";

/** Docker daemon health: the agent reported Docker earlier in the window and stopped getting answers. */
export function analyzeDockerDaemon(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  const points = input.recent;
  const answered = points.filter((p) => p.containersRunning !== null);
  if (answered.length === 0) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "Docker answers in the samples",
          showed: "Docker never answered in the window (not installed, or down all along)",
          outcome: "no_data",
        },
      ],
    };
  }
  const lastAnswer = answered[answered.length - 1] as (typeof answered)[number];
  const silent = points.filter((p) => p.time > lastAnswer.time && p.containersRunning === null);
  if (silent.length < 2) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "Docker answers in the samples",
          showed: `Docker answered until the end of the window (${lastAnswer.containersRunning} containers running)`,
          outcome: "ruled_out",
        },
      ],
    };
  }
  const first = silent[0] as (typeof silent)[number];
  const last = silent[silent.length - 1] as (typeof silent)[number];
  const window = { from: first.time, to: last.time };
  return {
    findings: [
      {
        analyzer: NAME,
        serverId: server.id,
        serverName: server.name,
        title: "Docker daemon is not answering",
        likelihood: 0.9,
        window,
        summary: `Docker stopped answering the agent at ${first.time.toISOString()} (${lastAnswer.containersRunning} containers were running before); ${silent.length} samples since had no Docker.`,
        evidence: [
          {
            kind: "metric",
            label: "containers_running",
            window: { from: lastAnswer.time, to: last.time },
            max: lastAnswer.containersRunning ?? 0,
            text: `${lastAnswer.containersRunning} containers running at ${lastAnswer.time.toISOString()}, then no answer from Docker ${windowText(window)}`,
          },
        ],
        remediation: [
          {
            priority: 1,
            title: "Restart Docker",
            templateKey: "builtin.restart-service",
            parameters: { service: "docker.service" },
            note: "Restarts every container on the host.",
          },
          {
            priority: 2,
            title: "Read Docker's journal",
            templateKey: "builtin.collect-logs",
            parameters: { unit: "docker.service", since: "-1h" },
            note: "Read-only.",
          },
        ],
        alertIds: input.alerts.filter((a) => /docker/i.test(a.ruleKey + a.ruleName)).map((a) => a.id),
      },
    ],
    steps: [
      {
        analyzer: NAME,
        serverName: server.name,
        checked: "Docker answers in the samples",
        showed: `no answer since ${first.time.toISOString()}`,
        outcome: "finding",
      },
    ],
  };
}
