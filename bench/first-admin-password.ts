import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * The one-time password a server wrote on its first start: its stderr is no terminal here, so it
 * went to a 0600 file in the data directory (the log only names the file).
 */
export function firstAdminPassword(dataDir: string): string {
  return readFileSync(path.join(dataDir, "first-admin-password"), "utf8").trim();
}
