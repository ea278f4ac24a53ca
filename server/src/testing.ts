/**
 * @ocore/server/testing: the server's parts that benchmarks and other harnesses drive in their
 * own process (no RPC can run them from outside: a gateway with a command runner, the metric
 * writer, the command journal, the PKI). The throwaway PostgreSQL cluster and free ports are
 * `@ocore/server/testing/postgres-cluster` and `@ocore/server/testing/free-port`.
 */
export { SessionRegistry } from "./agent-gateway/session-registry.js";
export { issueAgentCertificate } from "./agent-identity/issue-agent-certificate.js";
export { createCommandJournal } from "./commands/command-journal.js";
export { createCommandRunner } from "./commands/create-command-runner.js";
export { createDatabase } from "./db/database.js";
export { rowsOf } from "./db/rows-of.js";
export { toSampleRow } from "./metrics/metric-sample.js";
export { createMetricWriter } from "./metrics/metric-writer.js";
export { ensureAgentPki } from "./pki/agent-pki.js";
export { createMasterKeyring } from "./pki/master-key.js";
export { open as openSealedSecret } from "./pki/secret-box.js";
export { x509 } from "./pki/x509.js";
export { importSigningKey } from "./pki/x509-keys.js";
export { createAgentGateway } from "./startup/create-agent-gateway.js";
