import { renewAgentCertificate } from "../domain/agent-identity/renew-agent-certificate.js";
import { defaultBuiltinRuleSettings } from "../domain/alerts/alert-types.js";
import type { CommandEventSink } from "../domain/commands/command-transport.js";
import { validateHostChecks } from "../domain/host-checks/host-check-input.js";
import { recordHostChecks } from "../domain/host-checks/record-host-checks.js";
import type { ThresholdResolver } from "../domain/host-checks/server-thresholds.js";
import {
  recordObservedInstanceStates,
  validateInstanceStates,
} from "../domain/instances/observed-instance-states.js";
import type { MetricWriter } from "../domain/metrics/metric-writer.js";
import { markAgentConnected, markAgentDisconnected } from "../domain/presence/server-presence.js";
import type { Db } from "../platform/db/database.js";
import type { Logger } from "../platform/logging/logger.js";
import type { AgentPki } from "../platform/pki/agent-pki.js";
import type { SessionHooks } from "../transports/agent-gateway/agent-session.js";
import type { PendingUsage } from "../transports/agent-gateway/pending-usage.js";
import type { SessionRegistry } from "../transports/agent-gateway/session-registry.js";

export interface AgentSessionHooksDeps {
  readonly db: Db;
  readonly pki: AgentPki;
  /** The live streams of this process (shared with the command runner). */
  readonly registry: SessionRegistry;
  /** Where metric samples go: a group commit into metric_samples; the ack waits for it. */
  readonly writer: MetricWriter;
  /** Where command events go and who delivers commands when a stream goes live. */
  readonly commands?: CommandEventSink;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly certificateDays: number;
  /** Usage waiting for the presence sweep to write it onto the server's row. */
  readonly pendingUsage: PendingUsage;
  /** The built-in thresholds for a server's tags (judges inodes); default: the settings' defaults. */
  readonly thresholdsFor?: ThresholdResolver;
}

/**
 * What an agent stream's messages do in the server, in one place: Hello shows the server
 * connected and registers the stream, metric batches go to the metric writer, command events
 * to the command runner, instance states to the instances' observed state, a CSR to the PKI,
 * and the stream's end shows the server offline.
 */
export function createAgentSessionHooks(deps: AgentSessionHooksDeps): SessionHooks {
  const { db, registry, commands, logger, now } = deps;
  return {
    async onHello(session, facts) {
      await markAgentConnected(db, session.serverId, {
        agentVersion: facts.agentVersion,
        facts: facts.host,
        now: now(),
      });
      registry.register(session);
      logger.info({ serverId: session.serverId, agentVersion: facts.agentVersion }, "agent connected");
    },
    onLive(session) {
      if (registry.get(session.serverId) === session) commands?.onLive(session);
    },
    async writeMetrics(serverId, samples) {
      await deps.writer.write(serverId, samples);
      // Only once stored: the next sweep copies the newest usage onto the server's row.
      deps.pendingUsage.note(serverId, samples);
    },
    onCommandEvent: commands ? (session, event) => commands.onEvent(session, event) : undefined,
    async onInstanceStates(session, states) {
      const valid = validateInstanceStates(states);
      if (registry.get(session.serverId) !== session) return; // a replaced stream's news is stale
      await recordObservedInstanceStates(db, session.serverId, valid, now());
    },
    async onHostChecks(session, checks) {
      const valid = validateHostChecks(checks);
      if (registry.get(session.serverId) !== session) return; // a replaced stream's news is stale
      await recordHostChecks(db, session.serverId, valid, {
        now: now(),
        thresholdsFor: deps.thresholdsFor ?? (() => defaultBuiltinRuleSettings),
      });
    },
    renewCertificate: (identity, csrPem) =>
      renewAgentCertificate(db, deps.pki, {
        identity,
        csrPem,
        certificateDays: deps.certificateDays,
        now: now(),
      }),
    onClosed(session, end, wasLive) {
      if (!registry.unregister(session) || !wasLive) return;
      logger.info({ serverId: session.serverId, code: end.code, reason: end.message }, "agent disconnected");
      markAgentDisconnected(db, session.serverId, { lastSeenAt: session.lastReceivedAt, now: now() }).catch(
        (error: unknown) =>
          logger.warn({ err: error, serverId: session.serverId }, "could not show a server offline"),
      );
    },
  };
}
