import { describe, expect, it } from "vitest";
import { parseTagInput } from "./tag-input";

describe("tag input", () => {
  it("reads key=value lists with any separator", () => {
    expect(parseTagInput("env=prod, role=web;\nzone=eu-1")).toEqual({
      tags: { env: "prod", role: "web", zone: "eu-1" },
    });
    expect(parseTagInput("  ")).toEqual({ tags: {} });
  });

  it("says what is wrong", () => {
    expect(parseTagInput("env")).toEqual({ tags: { env: "" } });
    expect(parseTagInput("a=b=c")).toMatchObject({ error: expect.stringMatching(/not key=value/) });
    expect(parseTagInput("Env=prod")).toMatchObject({ error: expect.stringMatching(/The key "Env"/) });
    expect(parseTagInput("env=pr od")).toMatchObject({ error: expect.stringMatching(/value of env/) });
  });
});
