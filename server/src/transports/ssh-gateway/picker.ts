import type ssh2 from "ssh2";
import { listSshServers } from "../../domain/ssh-gateway/ssh-access.js";
import { TARGET_SYNTAX } from "../../domain/ssh-gateway/ssh-target.js";
import type { ConnectionState } from "./connection-state.js";

/**
 * The picker of a connection without a target: lists the servers the user may reach, reads a
 * number or a name, and sets the target. False when the user left or no server is reachable.
 */
export async function pickServer(state: ConnectionState, down: ssh2.ServerChannel): Promise<boolean> {
  const identity = state.identity;
  if (!identity || "error" in state.target) return false;
  const servers = await listSshServers(state.deps.db, identity.principal);
  const write = (text: string) => down.write(text.replaceAll("\n", "\r\n"));
  if (servers.length === 0) {
    write("oCore: there is no server you may reach over SSH.\n");
    return false;
  }
  write(`oCore SSH gateway — servers you may reach (next time: ${TARGET_SYNTAX}):\n`);
  servers.forEach((server, index) => {
    write(
      `  ${String(index + 1).padStart(3)}  ${server.name}${server.status === "active" ? "" : ` (${server.status})`}\n`,
    );
  });
  for (let attempt = 0; attempt < 3; attempt++) {
    write("Server number or name (empty to quit): ");
    const answer = (await readLine(down, write)).trim();
    if (answer === "") return false;
    const byNumber = /^\d+$/.test(answer) ? servers[Number(answer) - 1] : undefined;
    const chosen = byNumber ?? servers.find((server) => server.name === answer);
    if (chosen) {
      state.target = { user: state.target.user, server: chosen.id, login: state.target.login };
      return true;
    }
    write(`no server "${answer.slice(0, 64)}" in the list\n`);
  }
  return false;
}

/** One line typed on the raw terminal, echoed as typed (backspace works; at most 200 characters). */
function readLine(down: ssh2.ServerChannel, write: (text: string) => void): Promise<string> {
  return new Promise<string>((resolve) => {
    let line = "";
    const finish = (value: string) => {
      down.removeListener("data", onData);
      down.removeListener("close", onClose);
      resolve(value);
    };
    const onClose = () => finish("");
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          write("\n");
          return finish(line);
        }
        if (char === "\u0003" || char === "\u0004") return finish("");
        if (char === "\u007f" || char === "\b") {
          if (line.length > 0) {
            line = line.slice(0, -1);
            write("\b \b");
          }
        } else if (line.length < 200 && char >= " ") {
          line += char;
          write(char);
        }
      }
    };
    down.on("data", onData);
    down.once("close", onClose);
  });
}
