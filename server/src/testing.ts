/**
 * @ocore/server/testing: the server's parts that benchmarks and other harnesses drive in their
 * own process (no RPC can run them from outside: a gateway with a command runner, the metric
 * writer, the command journal, the PKI). The throwaway PostgreSQL cluster and free ports are
 * `@ocore/server/testing/postgres-cluster` and `@ocore/server/testing/free-port`.
 */

export { issueAgentCertificate } from "./domain/agent-identity/issue-agent-certificate.js";
export { defaultBuiltinRuleSettings } from "./domain/alerts/alert-types.js";
export { evaluateAlerts } from "./domain/alerts/evaluate-alerts.js";
export { parseSelector } from "./domain/auth/selector.js";
export { createCommandJournal } from "./domain/commands/command-journal.js";
export { createCommandRunner } from "./domain/commands/create-command-runner.js";
export { buildBaseline, persistentAnomalies } from "./domain/diagnosis/baseline.js";
export { buildReport } from "./domain/diagnosis/build-report.js";
export { FAULT_CASES, healthyEvidence } from "./domain/diagnosis/fault-scenarios.js";
export { gatherEvidence } from "./domain/diagnosis/gather-evidence.js";
export { toSampleRow } from "./domain/metrics/metric-sample.js";
export { createMetricWriter } from "./domain/metrics/metric-writer.js";
export { createRunDispatcher } from "./domain/runs/run-dispatcher.js";
export { getRun } from "./domain/runs/run-queries.js";
export { startRun } from "./domain/runs/start-run.js";
export { runSignature } from "./domain/runs/watch-run.js";
export { listServerPage } from "./domain/servers/server-page.js";
export { updateMatchingServers } from "./domain/servers/update-matching-servers.js";
export { reviewVersion } from "./domain/templates/review-version.js";
export { createTemplate } from "./domain/templates/save-template.js";
export { createDatabase } from "./platform/db/database.js";
export { rowsOf } from "./platform/db/rows-of.js";
export { ensureAgentPki } from "./platform/pki/agent-pki.js";
export { createMasterKeyring } from "./platform/pki/master-key.js";
export { open as openSealedSecret } from "./platform/pki/secret-box.js";
export { x509 } from "./platform/pki/x509.js";
export { importSigningKey } from "./platform/pki/x509-keys.js";
export { createAgentGateway } from "./startup/create-agent-gateway.js";
export { SessionRegistry } from "./transports/agent-gateway/session-registry.js";
