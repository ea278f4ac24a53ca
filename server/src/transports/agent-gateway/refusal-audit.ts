import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";

/** The address part of a grpc-js peer ("10.0.0.5:51234", "[::1]:51234", "ipv4:…"). */
export function addressOfPeer(peer: string): string {
  const text = peer.replace(/^ipv[46]:/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed?.[1]) return bracketed[1];
  // host:port has one colon and a numeric port; a bare IPv6 address or a unix path is kept whole.
  return /^[^:]+:\d+$/.test(text) ? text.slice(0, text.lastIndexOf(":")) : text;
}

/**
 * Audits a refused enrollment or agent stream (a bad, unknown or revoked certificate, a bad
 * token): security events, aggregated per source address so that a host retrying in a loop, or
 * a scan, writes one entry per window and not one per attempt.
 */
export function auditAgentRefusal(
  refusals: DenialAggregator,
  refusal: {
    readonly action: "agent.enroll" | "agent.connect";
    readonly peer: string;
    readonly reason: string;
    /** What the caller says it is (the hostname an enrolling agent sends), if anything. */
    readonly claimedName?: string;
    readonly agentVersion?: string;
  },
): Promise<void> {
  const address = addressOfPeer(refusal.peer);
  return refusals.record({
    key: `${refusal.action}|${address}`,
    context: {
      actor: { type: "agent", id: "", name: refusal.claimedName?.slice(0, 256) || "unidentified agent" },
      sourceIp: address,
      userAgent: refusal.agentVersion ? `ocore-agent/${refusal.agentVersion.slice(0, 64)}` : "",
    },
    event: { action: refusal.action, targetType: "", targetId: "", detail: refusal.reason.slice(0, 1000) },
  });
}
