/**
 * Why an SSH operation failed, in the words of the server lifecycle (a failed server's
 * `status_reason`): the provisioning job copies the code, the message is shown to the user.
 */
export type SshFailure =
  | "auth_failed"
  | "unreachable"
  | "host_key_mismatch"
  | "command_timeout"
  | "transfer_failed"
  | "connection_lost";

export class SshError extends Error {
  readonly presentedHostKey: { readonly fingerprint: string; readonly algorithm: string } | undefined;
  constructor(
    readonly reason: SshFailure,
    message: string,
    options?: {
      cause?: unknown;
      /** For host_key_mismatch: the key the host presented (`SHA256:…`) and its algorithm. */
      presentedHostKey?: { readonly fingerprint: string; readonly algorithm: string };
    },
  ) {
    super(message, options);
    this.name = "SshError";
    this.presentedHostKey = options?.presentedHostKey;
  }
}

/** The address as users write it: `user@host:port`. */
export function describeTarget(target: { host: string; port: number; username: string }): string {
  return `${target.username}@${target.host}:${target.port}`;
}

/** Turns a socket-level error (before SSH) into `unreachable` with a sentence saying why and what to check. */
export function unreachableError(
  target: { host: string; port: number; username: string },
  error: NodeJS.ErrnoException,
): SshError {
  const where = `${target.host}:${target.port}`;
  switch (error.code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NODATA":
    case "EAI_NONAME":
      return new SshError(
        "unreachable",
        `the host name ${target.host} was not found (DNS); check the spelling or use its IP address`,
        { cause: error },
      );
    case "ECONNREFUSED":
      return new SshError(
        "unreachable",
        `${where} refused the connection; check that sshd runs and listens on port ${target.port}, and that no firewall rejects it`,
        { cause: error },
      );
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new SshError(
        "unreachable",
        `${where} is not reachable from the oCore server (no route to host); check the address and the network between them`,
        { cause: error },
      );
    case "ECONNRESET":
    case "EPIPE":
      return new SshError(
        "unreachable",
        `${where} closed the connection before SSH started; check that port ${target.port} is an SSH server and that no firewall or fail2ban blocks this address`,
        { cause: error },
      );
    default:
      return new SshError(
        "unreachable",
        `could not connect to ${where}: ${error.message}; check the address and port`,
        { cause: error },
      );
  }
}
