import type { AnalyzerResult, Finding, ServerEvidence } from "../diagnosis-types.js";

const NAME = "odoo_instances";

/**
 * Odoo instances' recorded state: failed, or not in the state they should be in. Workers,
 * cron backlog and mail queue are not collected yet; the step says so.
 */
export function analyzeOdooInstances(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  if (input.instances.length === 0) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "Odoo instances",
          showed: "none on this server",
          outcome: "no_data",
        },
      ],
    };
  }
  const findings: Finding[] = [];
  for (const instance of input.instances) {
    const failed = instance.state === "failed";
    const drifted =
      !failed &&
      (instance.state === "stopped" || instance.state === "restarting") &&
      instance.desiredState === "running";
    if (!failed && !drifted) continue;
    findings.push({
      analyzer: NAME,
      serverId: server.id,
      serverName: server.name,
      title: failed
        ? `Odoo instance ${instance.name} failed`
        : `Odoo instance ${instance.name} is ${instance.state}, should run`,
      likelihood: failed ? 0.8 : 0.6,
      window: { from: instance.updatedAt, to: input.now },
      summary: `${instance.name} is ${instance.state} since ${instance.updatedAt.toISOString()}${instance.stateMessage ? `: ${instance.stateMessage}` : ""}.`,
      evidence: [
        {
          kind: "fact",
          label: `instance ${instance.name}`,
          text: `state ${instance.state}, desired ${instance.desiredState}${instance.stateMessage ? `, "${instance.stateMessage}"` : ""}`,
        },
      ],
      remediation: [
        {
          priority: 1,
          title: `Restart ${instance.name}`,
          note: "Instances → the instance → Restart (InstanceService.RestartInstance), audited like every instance action.",
        },
      ],
      alertIds: [],
    });
  }
  return {
    findings,
    steps: [
      {
        analyzer: NAME,
        serverName: server.name,
        checked: `state of ${input.instances.length} Odoo instances`,
        showed: findings.length > 0 ? findings.map((f) => f.title).join("; ") : "all in their desired state",
        outcome: findings.length > 0 ? "finding" : "ruled_out",
      },
      {
        analyzer: NAME,
        serverName: server.name,
        checked: "Odoo workers, cron backlog, mail queue",
        showed: "not collected yet",
        outcome: "no_data",
      },
    ],
  };
}
