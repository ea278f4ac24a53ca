import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type ConnectRequest,
  ConnectRequestSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { MetricBatchSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../platform/errors/app-error.js";
import { validateCommandEvent, validateCommandEvents } from "./command-event-validation.js";
import { validateHello, validateMetricBatch } from "./message-validation.js";

const NOW = new Date("2026-12-07T12:00:00Z");

/** Runs the validator the gateway runs for this message; returns what it accepted. */
function validate(message: ConnectRequest): unknown {
  const { payload } = message;
  switch (payload.case) {
    case "hello":
      return validateHello(payload.value);
    case "metricBatch":
      return validateMetricBatch(payload.value, NOW);
    case "commandEvent":
      return validateCommandEvent(payload.value);
    case "commandEvents":
      return validateCommandEvents(payload.value);
    default:
      return undefined;
  }
}

/** A validator may accept or refuse, but only ever refuse as invalid_argument (never a crash). */
function acceptsOrRefusesCleanly(message: ConnectRequest): void {
  try {
    validate(message);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("invalid_argument");
  }
}

/** Numbers an agent (or an attacker with its certificate) can put in a double or integer field. */
const anyDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, -1),
);
const anyU64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** Mostly plausible values, so that some batches pass and what passes is checked too. */
const percent = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: 0, max: 100, noNaN: true }) },
  { weight: 1, arbitrary: anyDouble },
);
const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 1n << 40n }) },
  { weight: 1, arbitrary: anyU64 },
);

describe("agent stream message validation (property)", () => {
  it("never crashes on random bytes decoded as an agent message", () => {
    let decoded = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        let message: ConnectRequest;
        try {
          message = fromBinary(ConnectRequestSchema, bytes);
        } catch {
          return; // grpc-js refuses what does not decode before any validator runs
        }
        decoded++;
        acceptsOrRefusesCleanly(message);
      }),
      { numRuns: 3_000 },
    );
    expect(decoded).toBeGreaterThan(100);
  });

  it("accepts a metric batch only with finite, in-range numbers, and refuses the rest cleanly", () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sequence: fc.oneof(fc.bigInt({ min: 1n, max: 1n << 40n }), anyU64),
            collectedAtMs: fc.oneof(
              fc.integer({ min: NOW.getTime() - 86_400_000, max: NOW.getTime() }),
              fc.integer({ min: 0, max: 4_102_444_800_000 }),
            ),
            usage: percent,
            load1: fc.oneof(fc.double({ min: 0, max: 64, noNaN: true }), anyDouble),
            perCore: fc.array(percent, { maxLength: 4 }),
            totalBytes: bytes,
            usedBytes: bytes,
            tcp: fc.nat(),
          }),
          { minLength: 0, maxLength: 5 },
        ),
        (samples) => {
          const batch = create(MetricBatchSchema, {
            samples: samples.map((s) => ({
              sequence: s.sequence,
              collectedAt: timestampFromMs(s.collectedAtMs),
              cpu: { usagePercent: s.usage, load1: s.load1, perCorePercent: s.perCore },
              memory: { totalBytes: s.totalBytes, usedBytes: s.usedBytes },
              tcpConnections: s.tcp,
            })),
          });
          let result: unknown;
          try {
            result = validateMetricBatch(batch, NOW);
          } catch (error) {
            expect(error).toBeInstanceOf(AppError);
            expect((error as AppError).code).toBe("invalid_argument");
            return;
          }
          // Whatever was accepted holds no NaN or infinity anywhere (it goes into SQL as is).
          accepted++;
          const json = JSON.stringify(result, (_, value) =>
            typeof value === "bigint" ? value.toString() : value,
          );
          expect(json).not.toMatch(/null|NaN|Infinity/);
          for (const sample of samples) {
            expect(Number.isFinite(sample.usage) && sample.usage >= 0 && sample.usage <= 100).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
    expect(accepted).toBeGreaterThan(5);
  });

  it("refuses a command event with a bad id or sequence cleanly, whatever else it holds", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.bigInt({ min: -5n, max: 1n << 63n }), (id, sequence) => {
        const message = create(ConnectRequestSchema, {
          payload: {
            case: "commandEvent",
            value: {
              commandId: id,
              event: { case: "output", value: { sequence, stream: 1, data: new Uint8Array(3) } },
            },
          },
        });
        acceptsOrRefusesCleanly(message);
      }),
      { numRuns: 2_000 },
    );
  });
});
