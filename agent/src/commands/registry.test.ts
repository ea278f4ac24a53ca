import { create } from "@bufbuild/protobuf";
import { DockerContainerListSchema } from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import { describe, expect, it } from "vitest";
import type { BackupTransfer } from "../instances/backup-transfer.js";
import { CommandError, type CommandHandler } from "./command-handler.js";
import { type CommandHandlerDeps, createCommandHandlerLoaders } from "./registry.js";

const config = { server: undefined, stateDir: "/nonexistent/ocore-agent" };

const noTransfer: BackupTransfer = {
  upload: () => Promise.reject(new Error("not used")),
  download: () => {
    throw new Error("not used");
  },
};

/** Every production handler: what the executor holds after its first command. */
async function loadAll(deps: CommandHandlerDeps): Promise<CommandHandler[]> {
  const groups = await Promise.all(createCommandHandlerLoaders(deps).map((load) => load()));
  return groups.flat();
}

describe("the command registry", () => {
  it("lists each kind once", async () => {
    const names = (
      await loadAll({ config, dockerSocket: "/var/run/docker.sock", transfer: async () => noTransfer })
    ).map((handler) => handler.input.typeName);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        "ocore.agent.v1.AgentUpgrade",
        "ocore.agent.v1.DockerContainerList",
        "ocore.agent.v1.InstanceCreate",
      ]),
    );
  });

  it("creates nothing until a group is loaded", () => {
    let transfers = 0;
    const loaders = createCommandHandlerLoaders({
      config,
      dockerSocket: "/var/run/docker.sock",
      transfer: async () => {
        transfers += 1;
        return noTransfer;
      },
    });
    expect(loaders.length).toBeGreaterThan(0);
    expect(transfers).toBe(0);
  });

  it("keeps Docker commands known but refused when Docker is switched off", async () => {
    const handler = (
      await loadAll({ config, dockerSocket: undefined, transfer: async () => noTransfer })
    ).find((h) => h.input.typeName === DockerContainerListSchema.typeName);
    const run = handler?.run(create(DockerContainerListSchema), {
      commandId: "c1",
      signal: new AbortController().signal,
      output: async () => undefined,
    });
    await expect(run).rejects.toBeInstanceOf(CommandError);
    await expect(run).rejects.toMatchObject({ code: "docker_disabled" });
  });
});
