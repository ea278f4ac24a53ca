import { execFile } from "node:child_process";
import { chmod, chown, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The comment that marks the gateway's line in authorized_keys (replaced when the key changes). */
export const GATEWAY_KEY_COMMENT = "ocore-gateway";
/** Usable from the host itself only, and without agent or X11 forwarding. */
export const GATEWAY_KEY_OPTIONS = 'from="127.0.0.1,::1",no-agent-forwarding,no-X11-forwarding';

/** A refusal the user sees on their terminal, with a stable code. */
export class TunnelError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TunnelError";
  }
}

interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

async function lookupAccount(login: string): Promise<Account> {
  let line = "";
  try {
    line = (await run("getent", ["passwd", login], { timeout: 5_000 })).stdout.trim();
  } catch {
    throw new TunnelError("login_unknown", `there is no account "${login}" on this host`);
  }
  const [name = "", , uid = "", gid = "", , home = ""] = line.split(":");
  if (name !== login || !home)
    throw new TunnelError("login_unknown", `there is no account "${login}" on this host`);
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/**
 * Makes sure `login`'s ~/.ssh/authorized_keys holds the gateway key (and no older gateway key),
 * restricted to loopback. Running as root the agent may do it for any account; otherwise only
 * for the account it runs as.
 */
export async function installGatewayKey(login: string, publicKey: string): Promise<void> {
  if (!/^ssh-ed25519 [A-Za-z0-9+/]+=*$/.test(publicKey)) {
    throw new TunnelError("bad_request", "the gateway key is not an ssh-ed25519 public key line");
  }
  const account = await lookupAccount(login);
  const root = process.getuid?.() === 0;
  if (!root && account.name !== os.userInfo().username) {
    throw new TunnelError(
      "agent_not_root",
      `the agent runs as ${os.userInfo().username} and cannot install the gateway key for "${login}"; log in as ${os.userInfo().username} or run the agent as root`,
    );
  }
  const dir = path.join(account.home, ".ssh");
  const file = path.join(dir, "authorized_keys");
  const wanted = `${GATEWAY_KEY_OPTIONS} ${publicKey} ${GATEWAY_KEY_COMMENT}`;
  let current = "";
  try {
    current = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const lines = current.split("\n").filter((line) => line !== "");
  if (lines.includes(wanted)) return;
  const kept = lines.filter((line) => !line.endsWith(` ${GATEWAY_KEY_COMMENT}`));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.ocore-${process.pid}`;
  await writeFile(temporary, `${[...kept, wanted].join("\n")}\n`, { mode: 0o600 });
  if (root) {
    await chown(dir, account.uid, account.gid);
    await chown(temporary, account.uid, account.gid);
  }
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}
