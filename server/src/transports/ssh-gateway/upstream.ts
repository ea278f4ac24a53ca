import type { Duplex } from "node:stream";
import ssh2 from "ssh2";
import { AppError } from "../../platform/errors/app-error.js";
import { hostKeyFingerprint } from "../../platform/ssh/host-key.js";

/**
 * The gateway's SSH client to the host's own sshd, over the agent's tunnel: logs in as `login`
 * with the server's gateway key, and accepts only the host key pinned at provisioning.
 */
export function connectUpstream(input: {
  sock: Duplex;
  login: string;
  privateKey: string;
  pinnedFingerprint: string | null;
  serverName: string;
  timeoutMs?: number;
}): Promise<ssh2.Client> {
  const client = new ssh2.Client();
  return new Promise<ssh2.Client>((resolve, reject) => {
    let hostKeyProblem: string | undefined;
    const fail = (error: Error) => {
      client.removeAllListeners("ready");
      client.end();
      input.sock.destroy();
      reject(error);
    };
    client.once("ready", () => {
      client.removeAllListeners("error");
      client.on("error", () => {});
      resolve(client);
    });
    client.once("error", (error: Error & { level?: string }) => {
      if (hostKeyProblem) return fail(new AppError("failed_precondition", hostKeyProblem));
      if (error.level === "client-authentication") {
        return fail(
          new AppError(
            "failed_precondition",
            `the host's sshd refused the gateway key for "${input.login}" (is the login allowed to use keys in its sshd_config?)`,
          ),
        );
      }
      fail(new AppError("unavailable", `the SSH connection to ${input.serverName} failed: ${error.message}`));
    });
    client.connect({
      sock: input.sock,
      username: input.login,
      privateKey: input.privateKey,
      readyTimeout: input.timeoutMs ?? 20_000,
      keepaliveInterval: 30_000,
      hostVerifier: (key: Buffer) => {
        const presented = hostKeyFingerprint(key);
        if (!input.pinnedFingerprint) {
          hostKeyProblem = `${input.serverName} has no pinned host key; the gateway does not trust it`;
          return false;
        }
        if (presented !== input.pinnedFingerprint) {
          hostKeyProblem = `${input.serverName} presented host key ${presented}, not the pinned ${input.pinnedFingerprint}; an admin must accept the new key`;
          return false;
        }
        return true;
      },
    });
  });
}
