/** The reasons a provisioning or removal ends in `failed` (the server's `status_reason`). */
export type FailureReason =
  | "auth_failed"
  | "unreachable"
  | "host_key_mismatch"
  | "unsupported_os"
  | "docker_missing"
  | "docker_too_old"
  | "no_sudo"
  | "upload_failed"
  | "agent_start_failed"
  | "agent_not_connected"
  | "no_credentials"
  | "uninstall_failed"
  | "internal";

/** A job step failed for a reason the user can act on; anything else is reported as internal. */
export class ProvisioningFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ProvisioningFailure";
  }
}

/** The job lost its lease (another process took over, or a removal replaced it): stop quietly. */
export class JobSuperseded extends Error {
  constructor() {
    super("the job was taken over or replaced");
    this.name = "JobSuperseded";
  }
}
