import { execFile, spawn } from "node:child_process";
import { access, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import Docker from "dockerode";
import type { CommandContext, CommandHandler, OutputStreamName } from "../commands/command-handler.js";

/**
 * Test images without a registry: a one-layer image holding this machine's static busybox
 * (`/bin/busybox`, Debian's busybox-static) with every applet linked into /bin, so `sh`, `sleep`,
 * `echo`, `cat`, `wget`... all work inside. Imported once per image name and process; an image
 * already present (from an earlier run) is reused.
 */

export const TEST_DOCKER_SOCKET = process.env.OCORE_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock";
export const DEFAULT_TEST_IMAGE = "ocore-test-busybox:1";
const BUSYBOX = "/bin/busybox";

const run = promisify(execFile);
const imports = new Map<string, Promise<string>>();

/** A dockerode client on the test socket; fails with what to do when no daemon answers. */
export async function connectTestDocker(socketPath = TEST_DOCKER_SOCKET): Promise<Docker> {
  const docker = new Docker({ socketPath });
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `Docker is required for this test and does not answer on ${socketPath} (${String(error)}). ` +
        "Run scripts/ensure-dockerd.sh (as root) or start the docker service.",
    );
  }
  return docker;
}

/**
 * Makes sure `name` (repo:tag) is a busybox image in the local daemon and returns its id.
 * Needs `/bin/busybox` (apt-get install busybox-static; scripts/install-system-packages.sh does it).
 */
export function ensureTestImage(name = DEFAULT_TEST_IMAGE, socketPath = TEST_DOCKER_SOCKET): Promise<string> {
  const key = `${socketPath}|${name}`;
  let pending = imports.get(key);
  if (!pending) {
    pending = importBusyboxImage(name, socketPath);
    pending.catch(() => imports.delete(key));
    imports.set(key, pending);
  }
  return pending;
}

/** A unique container/volume name prefix for one test file's run, e.g. `ocore-test-ops-4711-`. */
export function uniqueTestPrefix(label: string): string {
  return `ocore-test-${label}-${process.pid}-${Date.now().toString(36)}-`;
}

/** Removes every container whose name starts with `prefix` (cleanup in afterAll). */
export async function removeTestContainers(docker: Docker, prefix: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  await Promise.all(
    containers
      .filter((container) => container.Names.some((name) => name.replace(/^\//, "").startsWith(prefix)))
      .map((container) => docker.getContainer(container.Id).remove({ force: true, v: true })),
  );
}

async function importBusyboxImage(name: string, socketPath: string): Promise<string> {
  const docker = await connectTestDocker(socketPath);
  try {
    const existing = await docker.getImage(name).inspect();
    return existing.Id;
  } catch {
    // not there yet: import it below
  }
  try {
    await access(BUSYBOX);
  } catch {
    throw new Error(
      `${BUSYBOX} is missing: the Docker tests build their image from it. Install busybox-static ` +
        "(scripts/install-system-packages.sh does).",
    );
  }
  const rootfs = await mkdtemp(path.join(os.tmpdir(), "ocore-busybox-rootfs-"));
  try {
    await mkdir(path.join(rootfs, "bin"));
    await mkdir(path.join(rootfs, "tmp"));
    await run("cp", [BUSYBOX, path.join(rootfs, "bin", "busybox")]);
    const { stdout } = await run(BUSYBOX, ["--list"]);
    for (const applet of stdout.split("\n").filter((line) => /^[\w.[-]+$/.test(line) && line !== "busybox")) {
      await symlink("busybox", path.join(rootfs, "bin", applet));
    }
    const [repo, tag] = splitName(name);
    const tar = spawn("tar", ["-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const progress = await docker.importImage(tar.stdout, { repo, tag });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())),
    );
    const imported = await docker.getImage(name).inspect();
    return imported.Id;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

function splitName(name: string): [string, string] {
  const colon = name.lastIndexOf(":");
  if (colon <= name.lastIndexOf("/")) return [name, "latest"];
  return [name.slice(0, colon), name.slice(colon + 1)];
}

/** Test helper: what a handler sent as output, and a context that records it. */
export interface RecordedOutput {
  readonly chunks: Array<{ stream: OutputStreamName; data: Buffer }>;
  text(stream: OutputStreamName): string;
}

export function recordingContext(signal: AbortSignal = new AbortController().signal): {
  context: CommandContext;
  output: RecordedOutput;
} {
  const chunks: Array<{ stream: OutputStreamName; data: Buffer }> = [];
  return {
    context: {
      commandId: "00000000-0000-4000-8000-000000000000",
      signal,
      async output(stream, data) {
        chunks.push({ stream, data: Buffer.from(data) });
      },
    },
    output: {
      chunks,
      text: (stream) =>
        Buffer.concat(chunks.filter((chunk) => chunk.stream === stream).map((chunk) => chunk.data)).toString(
          "utf8",
        ),
    },
  };
}

/** Runs the handler of `input` from `handlers` with typed args, as the executor would. */
export async function runHandler<I extends DescMessage, O extends DescMessage>(
  handlers: readonly CommandHandler[],
  input: I,
  output: O,
  args: MessageInitShape<I>,
  context: CommandContext = recordingContext().context,
): Promise<MessageShape<O>> {
  const handler = handlers.find((candidate) => candidate.input.typeName === input.typeName);
  if (!handler) throw new Error(`no handler for ${input.typeName}`);
  const result = await handler.run(create(input, args) as MessageShape<DescMessage>, context);
  return create(output, result as MessageInitShape<O>);
}
