import { describe, expect, it } from "vitest";
import { type AlertRow, nextAlertState, type Transition } from "./alert-transition.js";
import type { AlertSignal } from "./alert-types.js";

const t0 = new Date("2026-12-07T12:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function signal(overrides: Partial<AlertSignal> = {}): AlertSignal {
  return {
    fingerprint: "f1",
    ruleKey: "rule:r1",
    ruleName: "CPU high",
    serverId: "s1",
    labels: {},
    severity: "warning",
    value: 95,
    threshold: 90,
    active: true,
    recovered: false,
    noData: false,
    dependent: true,
    describe: () => ({ summary: "cpu is high", action: "look" }),
    timing: { forMs: 60_000, keepFiringForMs: 30_000 },
    ...overrides,
  };
}

const online = (seconds: number) => ({ serverOffline: false, now: at(seconds) });
const rowOf = (transition: Transition): AlertRow => {
  if (transition.kind !== "upsert") throw new Error(`expected an upsert, got ${transition.kind}`);
  return { ...transition.row, id: "a1" };
};
const eventOf = (transition: Transition) =>
  transition.kind === "upsert" ? transition.event : transition.kind;

describe("the alert lifecycle", () => {
  it("goes pending, fires after `for`, keeps firing for keep_firing_for once recovered, then resolves", () => {
    const pending = rowOf(nextAlertState(undefined, signal(), online(0)));
    expect(pending.state).toBe("pending");
    expect(eventOf(nextAlertState(pending, signal(), online(59)))).toBeUndefined();
    const firing = nextAlertState(pending, signal(), online(60));
    expect(eventOf(firing)).toBe("firing");
    expect(rowOf(firing)).toMatchObject({ state: "firing", episode: 1, notifiedAt: at(60) });

    const clearing = rowOf(
      nextAlertState(rowOf(firing), signal({ active: false, recovered: true }), online(70)),
    );
    expect(clearing).toMatchObject({ state: "firing", clearSince: at(70) });
    // A relapse before keep_firing_for ran out starts the clear period again.
    const relapse = rowOf(nextAlertState(clearing, signal(), online(80)));
    expect(relapse).toMatchObject({ state: "firing", clearSince: null });
    const clear2 = rowOf(nextAlertState(relapse, signal({ active: false, recovered: true }), online(90)));
    expect(
      eventOf(nextAlertState(clear2, signal({ active: false, recovered: true }), online(119))),
    ).toBeUndefined();
    const resolved = nextAlertState(clear2, signal({ active: false, recovered: true }), online(120));
    expect(eventOf(resolved)).toBe("resolved");
    expect(rowOf(resolved)).toMatchObject({ state: "resolved", resolvedAt: at(120) });

    // The next episode reuses the row and counts on.
    const again = rowOf(
      nextAlertState(rowOf(resolved), signal({ timing: { forMs: 0, keepFiringForMs: 0 } }), online(200)),
    );
    expect(again).toMatchObject({ state: "firing", episode: 2 });
  });

  it("drops a pending alert whose condition stopped before `for` without telling anyone", () => {
    const pending = rowOf(nextAlertState(undefined, signal(), online(0)));
    expect(nextAlertState(pending, signal({ active: false }), online(30))).toEqual({ kind: "delete" });
  });

  it("keeps firing between the thresholds (hysteresis) and notifies again only when it escalates", () => {
    const firing = rowOf(
      nextAlertState(undefined, signal({ timing: { forMs: 0, keepFiringForMs: 0 } }), online(0)),
    );
    const between = nextAlertState(
      firing,
      signal({ active: false, recovered: false, value: 85 }),
      online(10),
    );
    expect(eventOf(between)).toBeUndefined();
    expect(rowOf(between)).toMatchObject({ state: "firing", value: 85 });
    const worse = nextAlertState(rowOf(between), signal({ severity: "critical", value: 99 }), online(20));
    expect(eventOf(worse)).toBe("firing");
    expect(rowOf(worse).severity).toBe("critical");
  });

  it("holds dependent alerts as unreachable while the server is offline, and sorts them out when it is back", () => {
    const firing = rowOf(
      nextAlertState(undefined, signal({ timing: { forMs: 0, keepFiringForMs: 0 } }), online(0)),
    );
    const held = nextAlertState(firing, signal(), { serverOffline: true, now: at(10) });
    expect(eventOf(held)).toBeUndefined();
    expect(rowOf(held).state).toBe("unreachable");
    expect(nextAlertState(rowOf(held), signal(), { serverOffline: true, now: at(20) })).toEqual({
      kind: "none",
    });
    // Back and still bad: firing again, silently (it was told). Back and fine: resolved, told.
    expect(rowOf(nextAlertState(rowOf(held), signal(), online(30)))).toMatchObject({ state: "firing" });
    expect(eventOf(nextAlertState(rowOf(held), signal({ active: false, recovered: true }), online(30)))).toBe(
      "resolved",
    );

    // A pending alert never told: back and still bad starts over as pending; fine: gone.
    const pending = rowOf(nextAlertState(undefined, signal(), online(0)));
    const heldPending = rowOf(nextAlertState(pending, signal(), { serverOffline: true, now: at(10) }));
    expect(rowOf(nextAlertState(heldPending, signal(), online(40)))).toMatchObject({
      state: "pending",
      pendingSince: at(40),
    });
    expect(nextAlertState(heldPending, signal({ active: false, recovered: true }), online(40))).toEqual({
      kind: "delete",
    });
  });

  it("holds its state without data, and the agent rule itself is never unreachable", () => {
    const pending = rowOf(nextAlertState(undefined, signal(), online(0)));
    expect(nextAlertState(pending, signal({ noData: true, active: false }), online(90))).toEqual({
      kind: "none",
    });
    const agent = signal({ dependent: false, timing: { forMs: 0, keepFiringForMs: 0 } });
    expect(eventOf(nextAlertState(undefined, agent, { serverOffline: true, now: at(0) }))).toBe("firing");
  });
});
