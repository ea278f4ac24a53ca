import { readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { type CheckResult, errorText, sentence } from "./check-result.js";

/** A listening TCP socket from /proc/net/tcp{,6}: its port and socket inode. */
export interface ListeningSocket {
  readonly port: number;
  readonly inode: string;
}

const LISTEN = "0A";

/** Parses /proc/net/tcp or tcp6 (see proc(5)) and keeps the LISTEN sockets. */
export function parseListeningSockets(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const port = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
    if (Number.isInteger(port) && fields[9]) sockets.push({ port, inode: fields[9] });
  }
  return sockets;
}

/** The pids whose command name is the OpenSSH daemon (`sshd`; not `sshd-session` children). */
async function sshdPids(procRoot: string): Promise<string[]> {
  const entries = await readdir(procRoot);
  const pids: string[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (pid) => {
        const comm = await readFile(path.join(procRoot, pid, "comm"), "utf8").catch(() => "");
        if (comm.trim() === "sshd") pids.push(pid);
      }),
  );
  return pids.sort((a, b) => Number(a) - Number(b));
}

/** Socket inodes a process holds open; undefined when its fds are not readable (not root). */
async function socketInodes(procRoot: string, pid: string): Promise<Set<string> | undefined> {
  const directory = path.join(procRoot, pid, "fd");
  let fds: string[];
  try {
    fds = await readdir(directory);
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  await Promise.all(
    fds.map(async (fd) => {
      const target = await readlink(path.join(directory, fd)).catch(() => "");
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1]) inodes.add(match[1]);
    }),
  );
  return inodes;
}

/**
 * sshd, judged from inside the host (works behind NAT, needs no credentials): critical when no
 * `sshd` process runs, or when it runs but holds no listening TCP socket. When the agent may not
 * read sshd's file descriptors it falls back to "something listens on port 22" and says so.
 */
export async function checkSshd(procRoot = "/proc"): Promise<CheckResult> {
  const result = (state: CheckResult["state"], message: string, value?: number): CheckResult => ({
    key: "sshd",
    subject: "",
    state,
    value,
    message: sentence(message),
  });
  try {
    const pids = await sshdPids(procRoot);
    if (pids.length === 0) return result("critical", "no sshd process is running");
    const tables = await Promise.all(
      ["tcp", "tcp6"].map((file) => readFile(path.join(procRoot, "net", file), "utf8").catch(() => "")),
    );
    const listening = tables.flatMap(parseListeningSockets);
    const held = await Promise.all(pids.map((pid) => socketInodes(procRoot, pid)));
    if (held.some((inodes) => inodes === undefined)) {
      const on22 = listening.some((socket) => socket.port === 22);
      return on22
        ? result(
            "ok",
            `sshd runs (pid ${pids[0]}) and port 22 listens (its sockets are not readable by the agent)`,
            22,
          )
        : result(
            "warning",
            `sshd runs (pid ${pids[0]}) but nothing listens on port 22, and its sockets are not readable by the agent`,
          );
    }
    const inodes = new Set(held.flatMap((set) => [...(set ?? [])]));
    const ports = [
      ...new Set(listening.filter((socket) => inodes.has(socket.inode)).map((s) => s.port)),
    ].sort((a, b) => a - b);
    if (ports.length === 0)
      return result("critical", `sshd runs (pid ${pids[0]}) but listens on no TCP port`);
    return result("ok", `sshd runs (pid ${pids[0]}) and listens on port ${ports.join(", ")}`, ports[0]);
  } catch (error) {
    return result("unknown", `could not read sshd's state from ${procRoot}: ${errorText(error)}`);
  }
}
