import type { Config } from "../platform/config/config.js";
import { ConfigError } from "../platform/config/config-error.js";

/** Turns a failure to open or migrate the database into the one line a user can act on. */
export function describeDatabaseFailure(database: Config["database"], error: unknown): ConfigError {
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (database.kind === "pglite") {
    return new ConfigError(
      "OCORE_DATA_DIR",
      `cannot open the embedded database in ${database.dir} (${reason})`,
      "Check the directory's permissions and free space; restore it from a backup if it is damaged.",
    );
  }
  const where = describeTarget(database.url);
  switch (code) {
    case "ECONNREFUSED":
      return new ConfigError(
        "DATABASE_URL",
        `nothing accepts connections at ${where}`,
        "Start PostgreSQL or fix the host and port.",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError("DATABASE_URL", `the host of ${where} cannot be resolved`, "Fix the host name.");
    case "CONNECT_TIMEOUT":
    case "ETIMEDOUT":
      return new ConfigError(
        "DATABASE_URL",
        `${where} did not answer in time`,
        "Check the host, port and firewall.",
      );
    case "28P01":
    case "28000":
      return new ConfigError(
        "DATABASE_URL",
        `PostgreSQL at ${where} refused the credentials`,
        "Fix the user name and password.",
      );
    case "3D000":
      return new ConfigError(
        "DATABASE_URL",
        `the database in ${where} does not exist`,
        "Create it (createdb) or fix the name.",
      );
    default:
      return new ConfigError(
        "DATABASE_URL",
        `cannot use PostgreSQL at ${where} (${reason})`,
        "Check the URL and the server's log.",
      );
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === "string") return code;
  return cause ? errorCode(cause) : undefined;
}

function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || parsed.searchParams.get("host")}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}
