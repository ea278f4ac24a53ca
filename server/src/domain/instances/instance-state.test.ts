import { create } from "@bufbuild/protobuf";
import { InstanceStatusSchema } from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { describe, expect, it } from "vitest";
import { CREATE_FAILED_PREFIX, deriveInstanceState, keepsStoredState } from "./instance-state.js";

const status = (
  states: Record<string, { state: string; exitCode?: number; oomKilled?: boolean; error?: string }>,
) =>
  create(InstanceStatusSchema, {
    instanceId: "i",
    containers: Object.entries(states).map(([role, value]) => ({ role, ...value })),
  });
const running = { state: "running" };

describe("instance state from Docker", () => {
  it("is running when every container runs", () => {
    expect(deriveInstanceState(status({ db: running, odoo: running, mail: running }), "running")).toEqual({
      state: "running",
      message: "",
    });
  });

  it("is stopped after a stop, failed with the exit reason when a container died", () => {
    const exited = { state: "exited", exitCode: 0 };
    expect(deriveInstanceState(status({ db: exited, odoo: exited, mail: exited }), "stopped").state).toBe(
      "stopped",
    );
    const died = deriveInstanceState(
      status({ db: running, odoo: { state: "exited", exitCode: 3 }, mail: running }),
      "running",
    );
    expect(died).toEqual({ state: "failed", message: expect.stringContaining("Odoo exited with code 3") });
  });

  it("names an out-of-memory kill and Docker's start error", () => {
    const oom = deriveInstanceState(
      status({ db: { state: "exited", exitCode: 137, oomKilled: true }, odoo: running, mail: running }),
      "running",
    );
    expect(oom.message).toContain("more memory than its limit");
    const error = deriveInstanceState(
      status({ db: running, odoo: running, mail: { state: "created", error: "port is already allocated" } }),
      "running",
    );
    expect(error.message).toContain("port is already allocated");
  });

  it("is restarting while Docker restarts a container, failed when containers are missing", () => {
    expect(
      deriveInstanceState(
        status({ db: running, odoo: { state: "restarting", exitCode: 1 }, mail: running }),
        "running",
      ).state,
    ).toBe("restarting");
    expect(deriveInstanceState(status({ db: running, mail: running }), "running").message).toContain(
      "Odoo container is missing",
    );
    expect(deriveInstanceState(undefined, "running").message).toContain("containers are gone");
  });

  it("keeps a failed creation's reason when Docker shows no container, not any other state", () => {
    const gone = deriveInstanceState(undefined, "running");
    const createFailed = {
      state: "failed",
      stateMessage: `${CREATE_FAILED_PREFIX}pulling odoo:17.0 failed. Nothing was left on the server`,
    };
    expect(keepsStoredState(createFailed, gone)).toBe(true);
    expect(keepsStoredState({ state: "running", stateMessage: "" }, gone)).toBe(false);
    expect(keepsStoredState({ state: "failed", stateMessage: "Odoo exited with code 1" }, gone)).toBe(false);
    expect(keepsStoredState(createFailed, { state: "running", message: "" })).toBe(false);
  });
});
