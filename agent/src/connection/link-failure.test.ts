import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.js";
import { createFailureLog } from "./link-failure.js";

describe("the link's failure log", () => {
  it("says at once that the link is down, then at most once a minute that it is still retrying", () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger(
      "info",
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    let now = Date.parse("2026-12-07T10:00:00Z");
    const failures = createFailureLog(logger, { now: () => now });
    const refused = {
      kind: "connection refused",
      fatal: false,
      detail: "connect ECONNREFUSED 10.0.0.1:8443",
    };
    // An attempt every 5 s for 3 minutes.
    for (let attempt = 0; attempt < 36; attempt++) {
      failures.report(refused, { retryInMs: 5_000 });
      now += 5_000;
    }
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [
        40,
        "agent link down: connection refused; retrying with backoff (next attempt at 2026-12-07T10:00:05.000Z)",
      ],
      [
        40,
        "agent link still down (connection refused, 13 attempts since 2026-12-07T10:00:00.000Z): still retrying, next attempt at 2026-12-07T10:01:05.000Z",
      ],
      [
        40,
        "agent link still down (connection refused, 25 attempts since 2026-12-07T10:00:00.000Z): still retrying, next attempt at 2026-12-07T10:02:05.000Z",
      ],
    ]);
    expect(lines[1]).toMatchObject({
      attempts: 13,
      nextAttemptAt: "2026-12-07T10:01:05.000Z",
      retryInMs: 5_000,
    });

    // Another kind of failure is news: said at once.
    failures.report(
      { kind: "tls failure", fatal: false, detail: "certificate has expired" },
      { retryInMs: 5_000 },
    );
    expect(lines).toHaveLength(4);
    expect(lines[3]?.msg).toMatch(/^TLS failed: .*\(next attempt at /);
    // After a connection, the next failure is news again.
    failures.clear();
    failures.report({ kind: "tls failure", fatal: false, detail: "x" }, { retryInMs: 5_000 });
    expect(lines).toHaveLength(5);
  });
});
