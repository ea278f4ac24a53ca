import type { AgentConfig } from "../config/config.js";
import { enroll } from "../enrollment/enroll.js";
import { createIdentityStore } from "../identity/identity-store.js";
import { parseFlags } from "./parse-flags.js";

/** `ocore-agent enroll --server <host:port> --token <token>`; returns the exit code. */
export async function runEnrollCommand(
  args: readonly string[],
  config: AgentConfig,
  agentVersion: string,
): Promise<number> {
  const flags = parseFlags(args, ["server", "token"]);
  const server = flags.get("server") ?? config.server;
  const token = flags.get("token");
  if (!server || !token) {
    process.stderr.write("ocore-agent enroll: --server <host:port> and --token <token> are required\n");
    return 2;
  }
  const result = await enroll({ server, token, store: createIdentityStore(config.stateDir), agentVersion });
  process.stdout.write(
    `enrolled as server ${result.serverId}; certificate valid until ${result.notAfter.toISOString()}.\n` +
      `Credentials are in ${config.stateDir}. Start the agent: ocore-agent run (or systemctl start ocore-agent).\n`,
  );
  return 0;
}
