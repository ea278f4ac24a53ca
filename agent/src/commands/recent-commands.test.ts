import { describe, expect, it } from "vitest";
import { openRecentCommands } from "./recent-commands.js";

describe("recent command ids", () => {
  it("forgets finished ids once they are older than maxAgeMs, keeps running ones, and keeps at most maxEntries", async () => {
    let now = 0;
    const recent = await openRecentCommands({ maxAgeMs: 1_000, maxEntries: 3, now: () => now });
    await recent.markRunning("a"); // still running when it is old: never forgotten
    await recent.markFinished("b", new Uint8Array([1]));
    now = 500;
    await recent.markFinished("c", new Uint8Array([2]));
    now = 1_200; // b (at 0) is too old now; c (at 500) is not
    await recent.markFinished("d", new Uint8Array([3]));
    expect(recent.get("a")?.state).toBe("running");
    expect(recent.get("b")).toBeUndefined();
    expect(recent.get("c")?.state).toBe("finished");
    expect(recent.get("d")?.finished).toBe(Buffer.from([3]).toString("base64"));

    await recent.markFinished("e", new Uint8Array([4])); // a fourth id: the oldest finished goes
    expect(recent.size).toBe(3);
    expect(recent.get("c")).toBeUndefined();
    expect(recent.get("a")?.state).toBe("running");
  });
});
