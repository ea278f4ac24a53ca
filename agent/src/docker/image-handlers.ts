import type { Readable } from "node:stream";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  DockerImageInspectResultSchema,
  DockerImageInspectSchema,
  DockerImageListResultSchema,
  DockerImageListSchema,
  DockerImagePullResultSchema,
  DockerImagePullSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import {
  type CommandContext,
  CommandError,
  type CommandHandler,
  defineHandler,
} from "../commands/command-handler.js";
import type { DockerDeps } from "./docker-deps.js";
import { engineCall, engineMessage, toCommandError } from "./docker-errors.js";
import { destroyOnAbort, jsonLines } from "./docker-streams.js";
import { checkImageRef, checkPlatform, pullReference } from "./docker-validation.js";

const UNREACHABLE =
  /dial tcp|no such host|connection refused|i\/o timeout|network is unreachable|TLS handshake|server misbehaving|Client\.Timeout|context deadline exceeded|server gave HTTP response/i;
const MISSING =
  /manifest unknown|not found|pull access denied|repository does not exist|no matching manifest/i;
/** A layer's progress line is sent at most this often; status changes always go out. */
const PROGRESS_INTERVAL_MS = 1000;

/** The error a failed pull becomes: unreachable registry, missing image, or another failure. */
export function pullError(reference: string, detail: string): CommandError {
  if (UNREACHABLE.test(detail)) {
    return new CommandError(
      "registry_unreachable",
      `The registry of ${reference} cannot be reached from this host (${detail}). Check the host's DNS, ` +
        "network and proxy settings (and that the registry name is right), then retry.",
    );
  }
  if (MISSING.test(detail)) {
    return new CommandError(
      "not_found",
      `The registry has no image ${reference}, or refuses to serve it without credentials (${detail}). ` +
        "Check the name and tag; for a private registry run `docker login` on the host.",
    );
  }
  return new CommandError(
    "pull_failed",
    `Pulling ${reference} failed: ${detail}. Retry, or check the Docker daemon's log.`,
  );
}

interface PullProgress {
  readonly id?: string;
  readonly status?: string;
  readonly progress?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
}

/** Turns Docker's JSON progress into lines on the `progress` output; throws on an error line. */
async function relayPullProgress(
  source: Readable,
  reference: string,
  context: CommandContext,
): Promise<void> {
  const lastStatus = new Map<string, string>();
  const lastSent = new Map<string, number>();
  for await (const value of jsonLines(source)) {
    const line = (value ?? {}) as PullProgress;
    if (line.error || line.errorDetail?.message) {
      throw pullError(reference, String(line.errorDetail?.message ?? line.error));
    }
    const key = line.id ?? "";
    const status = line.status ?? "";
    const now = Date.now();
    const changed = lastStatus.get(key) !== status;
    if (!changed && now - (lastSent.get(key) ?? 0) < PROGRESS_INTERVAL_MS) continue;
    lastStatus.set(key, status);
    lastSent.set(key, now);
    const text = [line.id ? `${line.id}:` : "", status, line.progress ?? ""].filter(Boolean).join(" ");
    await context.output("progress", `${text}\n`);
  }
}

export function imageHandlers(deps: DockerDeps): CommandHandler[] {
  const { docker, socketPath } = deps;

  const list = defineHandler({
    input: DockerImageListSchema,
    output: DockerImageListResultSchema,
    async run(spec, { signal }) {
      const filters: Record<string, string[]> = {};
      if (spec.reference) filters.reference = [checkReferencePattern(spec.reference)];
      if (spec.danglingOnly) filters.dangling = ["true"];
      const images = await engineCall("the image list", socketPath, () =>
        docker.listImages({ all: spec.all, filters: JSON.stringify(filters), abortSignal: signal }),
      );
      return {
        images: images.map((image) => ({
          id: image.Id,
          repoTags: (image.RepoTags ?? []).filter((tag) => tag !== "<none>:<none>"),
          repoDigests: (image.RepoDigests ?? []).filter((digest) => digest !== "<none>@<none>"),
          createdAt: timestampFromMs(image.Created * 1000),
          sizeBytes: BigInt(Math.max(0, image.Size)),
          labels: image.Labels ?? {},
          containers: BigInt(image.Containers ?? -1),
        })),
      };
    },
  });

  const inspect = defineHandler({
    input: DockerImageInspectSchema,
    output: DockerImageInspectResultSchema,
    async run(spec) {
      const image = checkImageRef(spec.image);
      const info = await engineCall(`image ${image}`, socketPath, () => docker.getImage(image).inspect());
      return { id: info.Id, repoTags: info.RepoTags ?? [], inspectJson: JSON.stringify(info) };
    },
  });

  const pull = defineHandler({
    input: DockerImagePullSchema,
    output: DockerImagePullResultSchema,
    async run(spec, context) {
      const reference = pullReference(spec.image);
      const platform = checkPlatform(spec.platform);
      let source: Readable;
      try {
        source = (await docker.pull(reference, {
          ...(platform ? { platform } : {}),
          abortSignal: context.signal,
        })) as Readable;
      } catch (error) {
        const code = (error as { statusCode?: number }).statusCode;
        if (code === 404 || code === 500) throw pullError(reference, engineMessage(error));
        throw toCommandError(error, `image ${reference}`, socketPath);
      }
      const stopListening = destroyOnAbort(source, context.signal);
      try {
        await relayPullProgress(source, reference, context);
      } catch (error) {
        if (context.signal.aborted) throw context.signal.reason ?? error;
        throw error instanceof CommandError ? error : pullError(reference, engineMessage(error));
      } finally {
        stopListening();
      }
      const info = await engineCall(`image ${reference}`, socketPath, () =>
        docker.getImage(reference).inspect(),
      );
      return { image: reference, id: info.Id };
    },
  });

  return [list, inspect, pull] as CommandHandler[];
}

/** A reference filter may hold '*' wildcards; everything else must look like a reference. */
function checkReferencePattern(value: string): string {
  checkImageRef(value.replaceAll("*", "x"), "reference");
  return value;
}
