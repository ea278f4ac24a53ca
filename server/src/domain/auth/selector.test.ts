import { describe, expect, it } from "vitest";
import { AppError } from "../../platform/errors/app-error.js";
import { matchesSelector, parseSelector } from "./selector.js";

const prodWeb = { env: "prod", role: "web" };
const stagingWorker = { env: "staging", role: "worker", decommissioned: "" };

describe("parseSelector", () => {
  it("parses every kind of requirement", () => {
    expect(
      parseSelector("env=prod, role in (web,worker),!decommissioned,tier!=db,zone notin (a, b),backup")
        .requirements,
    ).toEqual([
      { op: "eq", key: "env", value: "prod" },
      { op: "in", key: "role", values: ["web", "worker"] },
      { op: "absent", key: "decommissioned" },
      { op: "ne", key: "tier", value: "db" },
      { op: "notin", key: "zone", values: ["a", "b"] },
      { op: "exists", key: "backup" },
    ]);
  });

  it("treats the empty selector as 'everything'", () => {
    expect(parseSelector("").requirements).toEqual([]);
    expect(matchesSelector(parseSelector("  "), {})).toBe(true);
  });

  it.each([
    ["env=", /expected a tag value at position 5/],
    ["env=prod,", /expected a tag key at position 10/],
    ["Env=prod", /"Env" is not a valid tag key/],
    ["role in web", /expected "\(" to start the list of values at position 9/],
    ["role in (web worker)", /expected "," or "\)" in the list of values at position 14/],
    ["env=prod;role=web", /unexpected ";"; requirements are separated by ","/],
    ["env=pr*d", /unexpected "\*"/],
  ])("explains what is wrong with %j", (source, message) => {
    const error = (() => {
      try {
        parseSelector(source);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).field).toBe("selector");
    expect((error as AppError).message).toMatch(message);
  });
});

describe("matchesSelector", () => {
  it.each([
    ["env=prod", true, false],
    ["env!=prod", false, true],
    ["role in (web,worker)", true, true],
    ["role notin (web)", false, true],
    ["!decommissioned", true, false],
    ["decommissioned", false, true],
    ["env=prod,role=web", true, false],
    ["env=staging,!decommissioned", false, false],
    ["missing notin (x)", true, true],
  ])("%s → prod/web %s, staging/worker %s", (source, prod, staging) => {
    const selector = parseSelector(source);
    expect(matchesSelector(selector, prodWeb)).toBe(prod);
    expect(matchesSelector(selector, stagingWorker)).toBe(staging);
  });
});
