import { randomBytes } from "node:crypto";
import { type CheckResult, errorText, sentence } from "./check-result.js";
import { engineCall, engineMessage } from "./engine-call.js";

const PING_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 30_000;
/** Containers the start check creates carry this name prefix and label (and are always removed). */
export const START_CHECK_PREFIX = "ocore-start-check-";

/**
 * The cheap check, every cycle: `GET /_ping` then `GET /version`. Critical when the daemon does
 * not answer (socket missing, daemon stopped or hung past 5 s); the value is the ping's time in ms.
 */
export async function checkDockerDaemon(
  socketPath: string,
  now: () => number = Date.now,
): Promise<CheckResult> {
  const started = now();
  try {
    const ping = await engineCall(socketPath, "GET", "/_ping", { timeoutMs: PING_TIMEOUT_MS });
    const ms = now() - started;
    if (ping.status !== 200) {
      return {
        key: "docker",
        subject: "",
        state: "critical",
        value: ms,
        message: sentence(`the Docker daemon answers its ping with ${ping.status}: ${engineMessage(ping)}`),
      };
    }
    const version = await engineCall(socketPath, "GET", "/version", { timeoutMs: PING_TIMEOUT_MS });
    const parsed =
      version.status === 200 ? (JSON.parse(version.body) as { Version?: string; ApiVersion?: string }) : {};
    return {
      key: "docker",
      subject: "",
      state: "ok",
      value: ms,
      message: sentence(
        `Docker ${parsed.Version ?? "(version unknown)"} (API ${parsed.ApiVersion ?? "?"}) answers in ${ms} ms`,
      ),
    };
  } catch (error) {
    return {
      key: "docker",
      subject: "",
      state: "critical",
      message: sentence(`the Docker daemon does not answer on ${socketPath}: ${errorText(error)}`),
    };
  }
}

interface ImageSummary {
  readonly Id: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Size?: number;
}

/**
 * The deeper check, run rarely: creates, starts and removes a container (no network, 32 MiB)
 * from the smallest local image, running `sh -c 'exit 0'`. No registry is needed; with no image
 * at all the answer is unknown. An image without `sh` still proves the runtime started the
 * container's process environment, so "executable not found" counts as started.
 */
export async function checkContainerStart(socketPath: string): Promise<CheckResult> {
  const fail = (message: string): CheckResult => ({
    key: "docker_start",
    subject: "",
    state: "critical",
    message: sentence(message),
  });
  let containerId: string | undefined;
  try {
    const images = await engineCall(socketPath, "GET", "/images/json", { timeoutMs: PING_TIMEOUT_MS });
    if (images.status !== 200) return fail(`Docker refused to list images: ${engineMessage(images)}`);
    const list = (JSON.parse(images.body) as ImageSummary[]).filter((image) => image.Id);
    if (list.length === 0) {
      return {
        key: "docker_start",
        subject: "",
        state: "unknown",
        message: "no local image to start a test container from",
      };
    }
    const image = [...list].sort((a, b) => (a.Size ?? 0) - (b.Size ?? 0))[0] as ImageSummary;
    const imageName = image.RepoTags?.find((tag) => tag !== "<none>:<none>") ?? image.Id;
    const name = `${START_CHECK_PREFIX}${randomBytes(4).toString("hex")}`;
    const started = Date.now();
    const created = await engineCall(socketPath, "POST", `/containers/create?name=${name}`, {
      timeoutMs: START_TIMEOUT_MS,
      body: {
        Image: image.Id,
        Entrypoint: ["sh", "-c", "exit 0"],
        Cmd: [],
        Labels: { "ocore.check": "start" },
        NetworkDisabled: true,
        HostConfig: { NetworkMode: "none", Memory: 32 * 1024 * 1024, AutoRemove: false },
      },
    });
    if (created.status !== 201)
      return fail(`Docker could not create a container from ${imageName}: ${engineMessage(created)}`);
    containerId = (JSON.parse(created.body) as { Id: string }).Id;
    const start = await engineCall(socketPath, "POST", `/containers/${containerId}/start`, {
      timeoutMs: START_TIMEOUT_MS,
    });
    const ms = Date.now() - started;
    const startMessage = start.status === 204 || start.status === 304 ? "" : engineMessage(start);
    if (startMessage && !/executable file not found|no such file or directory/i.test(startMessage)) {
      return fail(`Docker could not start a container from ${imageName}: ${startMessage}`);
    }
    return {
      key: "docker_start",
      subject: "",
      state: "ok",
      value: ms,
      message: sentence(`a test container from ${imageName} was created and started in ${ms} ms`),
    };
  } catch (error) {
    return fail(`starting a test container failed: ${errorText(error)}`);
  } finally {
    if (containerId) {
      await engineCall(socketPath, "DELETE", `/containers/${containerId}?force=true&v=true`, {
        timeoutMs: START_TIMEOUT_MS,
      }).catch(() => undefined);
    }
  }
}
