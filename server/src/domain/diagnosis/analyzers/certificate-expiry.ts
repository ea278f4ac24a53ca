import type { AnalyzerResult, ServerEvidence } from "../diagnosis-types.js";
import { round } from "../diagnosis-types.js";

const NAME = "certificate_expiry";
const DAY_MS = 86_400_000;
const WARN_DAYS = 14;

/** The agent's mTLS certificate: renewal should keep it far from expiry; close to it, the agent will be locked out. */
export function analyzeCertificateExpiry(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  if (input.certificates.length === 0) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "agent certificate expiry",
          showed: "no valid certificate on record",
          outcome: "no_data",
        },
      ],
    };
  }
  const newest = input.certificates.reduce((a, b) => (b.notAfter > a.notAfter ? b : a));
  const days = (newest.notAfter.getTime() - input.now.getTime()) / DAY_MS;
  if (days > WARN_DAYS) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "agent certificate expiry",
          showed: `valid for ${round(days)} more days`,
          outcome: "ruled_out",
        },
      ],
    };
  }
  const expired = days <= 0;
  return {
    findings: [
      {
        analyzer: NAME,
        serverId: server.id,
        serverName: server.name,
        title: expired ? "Agent certificate expired" : `Agent certificate expires in ${round(days)} days`,
        likelihood: expired ? 0.9 : 0.4,
        window: { from: input.now, to: newest.notAfter },
        summary: `The agent's certificate ${newest.serial} ${expired ? "expired" : "expires"} at ${newest.notAfter.toISOString()}; it renews itself while connected, so a near expiry means renewal is failing.`,
        evidence: [
          {
            kind: "fact",
            label: "certificate not_after",
            text: `serial ${newest.serial}, not after ${newest.notAfter.toISOString()}`,
          },
        ],
        remediation: [
          {
            priority: 1,
            title: "Re-enroll the agent",
            note: "Servers → the server → Upgrade agent (or re-join) issues a new certificate.",
          },
        ],
        alertIds: [],
      },
    ],
    steps: [
      {
        analyzer: NAME,
        serverName: server.name,
        checked: "agent certificate expiry",
        showed: `${round(days)} days left`,
        outcome: "finding",
      },
    ],
  };
}
