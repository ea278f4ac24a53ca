import { describe, expect, it } from "vitest";
import { createLinkStateMachine, InvalidTransitionError, type LinkState } from "./link-state-machine.js";

describe("link state machine", () => {
  it("walks the normal life of a link and reports each change", () => {
    const changes: string[] = [];
    let now = 0;
    const machine = createLinkStateMachine({
      now: () => now,
      onChange: (from, to) => changes.push(`${from}>${to}`),
    });
    const path: LinkState[] = [
      "connecting",
      "handshaking",
      "connected",
      "backing_off",
      "connecting",
      "backing_off",
    ];
    for (const state of path) {
      now += 5;
      machine.transition(state);
    }
    machine.transition("connecting");
    machine.transition("handshaking");
    machine.transition("connected");
    machine.transition("connecting"); // reconnect with a renewed certificate
    machine.transition("stopped");
    expect(machine.state).toBe("stopped");
    expect(machine.enteredAt).toBe(30);
    expect(changes.slice(0, 3)).toEqual([
      "idle>connecting",
      "connecting>handshaking",
      "handshaking>connected",
    ]);
    expect(changes).toHaveLength(11);
  });

  it.each<[LinkState[], LinkState]>([
    [[], "connected"],
    [[], "handshaking"],
    [["connecting"], "connected"],
    [["connecting", "backing_off"], "handshaking"],
    [["connecting", "handshaking"], "idle"],
    [["stopped"], "connecting"],
  ])("after %j refuses to go to %s", (before, to) => {
    const machine = createLinkStateMachine({ now: () => 0 });
    for (const state of before) machine.transition(state);
    const from = machine.state;
    expect(() => machine.transition(to)).toThrow(InvalidTransitionError);
    expect(() => machine.transition(to)).toThrow(`cannot go from ${from} to ${to}`);
    expect(machine.state).toBe(from);
  });
});
