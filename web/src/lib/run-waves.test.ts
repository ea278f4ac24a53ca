import { describe, expect, it } from "vitest";
import { planWaves, wavePlanLine } from "./run-waves";

describe("planWaves (the server's plan, shown before the start)", () => {
  it("resolves a canary, sizes, percentages rounded up, rest, and repeats the last size", () => {
    expect(planWaves("", "", 7)).toEqual({ sizes: [7], canary: 0 });
    expect(planWaves("2", "1, 25%, rest", 12)).toEqual({ sizes: [2, 1, 3, 6], canary: 2 });
    expect(planWaves("", "2", 5)).toEqual({ sizes: [2, 2, 1], canary: 0 });
    expect(planWaves("5%", "", 100)).toEqual({ sizes: [5, 95], canary: 5 });
  });

  it.each([
    ["3", "", 3, "canary", "would be every host (3)"],
    ["100%", "", 10, "canary", "between 1% and 99%"],
    ["", "rest, 1", 10, "waves", '"rest" can only be the last'],
    ["", "0", 10, "waves", "at least 1 host"],
    ["", "1", 5000, "waves", "more than 1000 waves"],
    ["", "ten", 10, "waves", "is not a number"],
  ])("refuses canary %j waves %j on %i hosts on its field", (canary, waves, total, field, message) => {
    const plan = planWaves(canary, waves, total);
    expect(plan).toMatchObject({ field });
    expect("error" in plan && plan.error).toContain(message);
  });

  it("says the plan in one line", () => {
    expect(wavePlanLine({ sizes: [2, 1, 3, 6], canary: 2 })).toBe(
      "canary 2 hosts (all must succeed), then 3 waves of 1 · 3 · 6 hosts",
    );
    expect(wavePlanLine({ sizes: [7], canary: 0 })).toBe("one wave of 7 hosts");
    expect(wavePlanLine({ sizes: Array(20).fill(1), canary: 0 })).toBe(
      "20 waves of 1 · 1 · 1 · 1 · 1 · 1 · … · 1 hosts",
    );
  });
});
