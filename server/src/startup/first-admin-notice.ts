import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../platform/logging/logger.js";

/** Where the first admin's one-time password goes when no terminal can show it. */
export const FIRST_ADMIN_PASSWORD_FILE = "first-admin-password";

export interface FirstAdminNoticeOptions {
  readonly firstAdmin: { readonly username: string; readonly password: string };
  readonly dataDir: string;
  /** The operator's terminal when the server runs in one (stderr); its `isTTY` decides. */
  readonly terminal: { readonly isTTY?: boolean; write(text: string): unknown };
  readonly logger: Logger;
}

/**
 * Shows the first admin's one-time password once, where only the operator sees it, and never in
 * the log (log lines end up in files and journald): on the terminal when there is one, else in a
 * file only the server's user can read, whose path is logged. Returns that file, if written.
 */
export function showFirstAdminPassword(options: FirstAdminNoticeOptions): string | undefined {
  const { firstAdmin, terminal, logger } = options;
  const change = `You will be asked to choose a new password. Lost it? \`npm run admin -- reset-password ${firstAdmin.username}\` makes a new one.`;
  if (terminal.isTTY) {
    terminal.write(
      `First start: sign in as "${firstAdmin.username}" with the one-time password ${firstAdmin.password}\n` +
        `${change} This password is shown only once.\n\n`,
    );
    logger.info(
      { username: firstAdmin.username },
      "created the first admin; its one-time password was shown on the terminal",
    );
    return undefined;
  }
  const file = path.join(options.dataDir, FIRST_ADMIN_PASSWORD_FILE);
  writeFileSync(file, `${firstAdmin.password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // a file left by an earlier install keeps its mode otherwise
  logger.info(
    { username: firstAdmin.username, file },
    "created the first admin; its one-time password is in this file (readable by this user only): sign in, change it, then delete the file",
  );
  terminal.write(
    `First start: sign in as "${firstAdmin.username}" with the one-time password in ${file}\n${change}\n\n`,
  );
  return file;
}
