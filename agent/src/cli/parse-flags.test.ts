import { describe, expect, it } from "vitest";
import { parseFlags, UsageError } from "./parse-flags.js";

const known = ["server", "token", "token-file"];

describe("the agent's flags", () => {
  it("reads --name value and --name=value", () => {
    expect(parseFlags(["--server", "ocore:8443", "--token=abc"], known)).toEqual(
      new Map([
        ["server", "ocore:8443"],
        ["token", "abc"],
      ]),
    );
  });

  it.each([
    [["--nope", "x"], 'unknown argument "--nope"'],
    [["stray"], 'unknown argument "stray"'],
    [["--server"], "--server needs a value"],
    [["--server="], "--server needs a value"],
    [["--token", "a", "--token", "b"], "--token is given twice"],
  ])("refuses %j", (args, message) => {
    expect(() => parseFlags(args, known)).toThrow(new UsageError(message));
  });
});
