import { CommandError } from "../commands/command-handler.js";

/** What an error from dockerode / docker-modem may carry. */
interface EngineErrorShape {
  readonly statusCode?: number;
  readonly code?: string;
  readonly json?: unknown;
  readonly message?: string;
  readonly name?: string;
}

const SOCKET_ERRORS = new Set(["ENOENT", "ECONNREFUSED", "EACCES", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

/** Docker's own explanation, without docker-modem's "(HTTP code 404) no such container - " prefix. */
export function engineMessage(error: unknown): string {
  const shape = (error ?? {}) as EngineErrorShape;
  const json = shape.json as { message?: unknown } | string | null | undefined;
  if (json && typeof json === "object" && typeof json.message === "string") return json.message.trim();
  if (typeof json === "string" && json.trim()) return json.trim();
  return String(shape.message ?? error).trim();
}

/**
 * Turns whatever the Engine call threw into a CommandError the user can act on. `what` names the
 * object the command was about ("container web-1", "image odoo:17"). An AbortError is rethrown as
 * is: the executor reports the command as cancelled or timed out.
 */
export function toCommandError(error: unknown, what: string, socketPath: string): Error {
  if (error instanceof CommandError) return error;
  const shape = (error ?? {}) as EngineErrorShape;
  if (shape.name === "AbortError") return error as Error;
  if (shape.code && SOCKET_ERRORS.has(shape.code)) {
    return new CommandError(
      "docker_unavailable",
      `Docker does not answer on ${socketPath} (${shape.code}). Start the Docker daemon ` +
        "(systemctl start docker) or point OCORE_AGENT_DOCKER_SOCKET at its socket, then retry.",
    );
  }
  const detail = engineMessage(error);
  switch (shape.statusCode) {
    case 400:
      return new CommandError("invalid_argument", `Docker refused the request for ${what}: ${detail}`);
    case 404:
      return new CommandError(
        "not_found",
        `${capitalize(what)} does not exist on this host (${detail}). List the host's containers and images to find the right name.`,
      );
    case 409:
      return new CommandError("conflict", `${capitalize(what)}: ${detail}. ${conflictAdvice(detail)}`);
    case 401:
    case 403:
      return new CommandError("permission_denied", `Docker refused access for ${what}: ${detail}`);
    default:
      return new CommandError(
        "docker_error",
        `Docker failed on ${what}: ${detail}. Check the Docker daemon's log on the host (journalctl -u docker).`,
      );
  }
}

function conflictAdvice(detail: string): string {
  if (/already in use/i.test(detail)) return "Choose another name or remove the existing container first.";
  if (/is not running|is paused|is restarting/i.test(detail)) return "Start (or unpause) it first.";
  if (/running|stop the container/i.test(detail)) return "Stop it first, or remove it with force.";
  if (/is being used|in use by/i.test(detail)) return "Remove the containers that use it first.";
  return "Resolve the conflict and retry.";
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Runs one Engine call and maps its failure. */
export async function engineCall<T>(what: string, socketPath: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toCommandError(error, what, socketPath);
  }
}
