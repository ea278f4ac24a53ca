import { create } from "@bufbuild/protobuf";
import { DockerContainerListSchema } from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import { describe, expect, it } from "vitest";
import type { BackupTransfer } from "../instances/backup-transfer.js";
import { CommandError } from "./command-handler.js";
import { createCommandHandlers } from "./registry.js";

const noTransfer: BackupTransfer = {
  upload: () => Promise.reject(new Error("not used")),
  download: () => {
    throw new Error("not used");
  },
};

describe("the command registry", () => {
  it("lists each kind once", () => {
    const names = createCommandHandlers({ dockerSocket: "/var/run/docker.sock", transfer: noTransfer }).map(
      (handler) => handler.input.typeName,
    );
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        "ocore.agent.v1.AgentUpgrade",
        "ocore.agent.v1.DockerContainerList",
        "ocore.agent.v1.InstanceCreate",
      ]),
    );
  });

  it("keeps Docker commands known but refused when Docker is switched off", async () => {
    const handler = createCommandHandlers({ dockerSocket: undefined, transfer: noTransfer }).find(
      (h) => h.input.typeName === DockerContainerListSchema.typeName,
    );
    const run = handler?.run(create(DockerContainerListSchema), {
      commandId: "c1",
      signal: new AbortController().signal,
      output: async () => undefined,
    });
    await expect(run).rejects.toBeInstanceOf(CommandError);
    await expect(run).rejects.toMatchObject({ code: "docker_disabled" });
  });
});
