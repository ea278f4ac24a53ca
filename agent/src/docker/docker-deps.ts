import Docker from "dockerode";
import { engineCall } from "./docker-errors.js";

/** What every Docker handler uses: one Engine client and the socket it talks to (for messages). */
export interface DockerDeps {
  readonly docker: Docker;
  readonly socketPath: string;
}

/**
 * A client on the Engine's unix socket. No client-side timeout: a followed log or a pull may
 * rightly run for long; every call is bounded by its command's signal (cancel or deadline).
 */
export function createDockerDeps(socketPath: string): DockerDeps {
  return { docker: new Docker({ socketPath }), socketPath };
}

/** Inspects a container, mapping a missing one to not_found. */
export function inspectContainer(
  deps: DockerDeps,
  container: string,
  signal: AbortSignal,
): Promise<Docker.ContainerInspectInfo> {
  return engineCall(`container ${container}`, deps.socketPath, () =>
    deps.docker.getContainer(container).inspect({ abortSignal: signal }),
  );
}

/** The name Docker shows, without its leading slash. */
export function bareName(name: string | undefined): string {
  return (name ?? "").replace(/^\//, "");
}
