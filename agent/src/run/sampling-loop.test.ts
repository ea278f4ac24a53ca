import { create } from "@bufbuild/protobuf";
import { type HostSample, HostSampleSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import { describe, expect, it } from "vitest";
import type { Sampler } from "../collectors/sampler.js";
import type { Spool } from "../spool/spool.js";
import { createCaptureLogger } from "../test/capture-logger.js";
import { createFakeClock } from "../test/fake-clock.js";
import { createSamplingLoop } from "./sampling-loop.js";

function setUp(sample: () => Promise<HostSample>) {
  const clock = createFakeClock(0);
  const { logger, lines } = createCaptureLogger();
  const appended: Array<{ at: number; sequence: bigint }> = [];
  const spool = {
    append: async (s: HostSample) => void appended.push({ at: clock.now(), sequence: s.sequence }),
  } as Spool;
  const sampler: Sampler = { prime: async () => undefined, sample };
  let notified = 0;
  const loop = createSamplingLoop({
    sampler,
    spool,
    clock,
    logger,
    intervalMs: 10_000,
    onSample: () => notified++,
  });
  return { clock, loop, appended, lines, notified: () => notified };
}

describe("sampling loop", () => {
  it("samples every interval into the spool and applies a new interval at once", async () => {
    let sequence = 0n;
    const { clock, loop, appended, notified } = setUp(async () =>
      create(HostSampleSchema, { sequence: ++sequence }),
    );
    loop.start();
    await clock.advance(30_000);
    expect(appended.map((entry) => entry.at)).toEqual([10_000, 20_000, 30_000]);
    expect(notified()).toBe(3);
    // At 35 s: the next sample is due 2 s after the last one, i.e. now-ish, not at 40 s.
    await clock.advance(5_000);
    loop.setIntervalSeconds(2);
    await clock.advance(5_000);
    expect(appended.map((entry) => entry.at).slice(3)).toEqual([35_000, 37_000, 39_000]);
    await loop.stop();
    await clock.advance(60_000);
    expect(appended).toHaveLength(6);
  });

  it("logs a failing sample once per distinct error and keeps going", async () => {
    let calls = 0;
    const { clock, loop, lines, appended } = setUp(async () => {
      calls++;
      if (calls <= 3) throw new Error("/proc/stat: EACCES");
      return create(HostSampleSchema, { sequence: BigInt(calls) });
    });
    loop.start();
    await clock.advance(50_000);
    expect(lines.filter((line) => line.level === 50)).toHaveLength(1);
    expect(appended.map((entry) => entry.sequence)).toEqual([4n, 5n]);
    await loop.stop();
  });
});
