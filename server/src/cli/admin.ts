#!/usr/bin/env node
import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
import { systemContext } from "../domain/audit/audit-context.js";
import { resetUserPassword } from "../domain/users/reset-user-password.js";
import { loadConfig } from "../platform/config/config.js";
import { ConfigError } from "../platform/config/config-error.js";
import { createDatabase } from "../platform/db/database.js";
import { users } from "../platform/db/schema/users.js";
import { prepareDataDir } from "../startup/data-dir.js";
import { runMcpStdioBridge } from "./mcp-stdio-bridge.js";

const usage = `Usage: npm run admin -- reset-password [username]
       npm run admin -- mcp-stdio <server URL>

  mcp-stdio        serve MCP on stdin/stdout for AI clients that start a process, relayed to
                   <server URL>/mcp with the API token in OCORE_MCP_TOKEN (its role applies).

  reset-password   give a user (default: admin) a new one-time password and print it;
                   the user must change it at next sign-in, and all its sessions end.
  help, --help     print this text.

Reads the same settings as the server (DATABASE_URL, OCORE_DATA_DIR, …). With the embedded
database, stop the server first: only one process may open it.
`;

async function main(argv: string[]): Promise<number> {
  let parsed: { values: { help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`ocore admin: ${(error as Error).message}\n`);
    process.stdout.write(usage);
    return 2;
  }
  const [command, username = "admin"] = parsed.positionals;
  if (command === "mcp-stdio") {
    const base = parsed.positionals[1];
    const token = process.env.OCORE_MCP_TOKEN;
    if (!base || !token) {
      process.stderr.write(
        "ocore admin mcp-stdio: give the server URL and set OCORE_MCP_TOKEN to an API token\n",
      );
      return 2;
    }
    await runMcpStdioBridge({
      url: `${base.replace(/\/+$/, "")}/mcp`,
      token,
      stdin: process.stdin,
      stdout: process.stdout,
      onError: (error) => process.stderr.write(`ocore admin mcp-stdio: ${error.message}\n`),
    });
    return 0;
  }
  if (parsed.values.help || command !== "reset-password") {
    process.stdout.write(usage);
    return parsed.values.help || command === undefined || command === "help" ? 0 : 2;
  }
  const config = loadConfig(process.env);
  const lock = config.database.kind === "pglite" ? prepareDataDir(config.dataDir) : undefined;
  const database = createDatabase(config.database);
  try {
    await database.migrate();
    const [user] = await database.db.select({ id: users.id }).from(users).where(eq(users.username, username));
    if (!user) {
      process.stderr.write(`ocore admin: there is no user "${username}"\n`);
      return 1;
    }
    const password = await resetUserPassword(
      database.db,
      { ...systemContext(), userAgent: "ocore admin cli" },
      user.id,
    );
    process.stdout.write(
      `New one-time password for "${username}": ${password}\nIt must be changed at next sign-in.\n`,
    );
    return 0;
  } finally {
    await database.close();
    lock?.release();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ocore admin: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
