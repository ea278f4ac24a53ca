import { readFile } from "node:fs/promises";
import type { AgentConfig } from "../config/config.js";
import { enroll } from "../enrollment/enroll.js";
import { createIdentityStore } from "../identity/identity-store.js";
import { parseFlags, UsageError } from "./parse-flags.js";

/** The token from --token, or from --token-file (keeps it out of the process list). */
async function readToken(flags: Map<string, string>): Promise<string | undefined> {
  const file = flags.get("token-file");
  if (file === undefined) return flags.get("token");
  if (flags.has("token")) throw new UsageError("give either --token or --token-file, not both");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (error) {
    throw new UsageError(`cannot read --token-file ${file} (${(error as NodeJS.ErrnoException).code})`);
  }
}

/** `ocore-agent enroll --server <host:port> --token <token> | --token-file <file>`; returns the exit code. */
export async function runEnrollCommand(
  args: readonly string[],
  config: AgentConfig,
  agentVersion: string,
): Promise<number> {
  const flags = parseFlags(args, ["server", "token", "token-file"]);
  const server = flags.get("server") ?? config.server;
  const token = await readToken(flags);
  if (!server || !token) {
    process.stderr.write(
      "ocore-agent enroll: --server <host:port> and --token <token> (or --token-file <file>) are required\n",
    );
    return 2;
  }
  const result = await enroll({ server, token, store: createIdentityStore(config.stateDir), agentVersion });
  process.stdout.write(
    `enrolled as server ${result.serverId}; certificate valid until ${result.notAfter.toISOString()}.\n` +
      `Credentials are in ${config.stateDir}. Start the agent: ocore-agent run (or systemctl start ocore-agent).\n`,
  );
  return 0;
}
