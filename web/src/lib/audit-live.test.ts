import { create } from "@bufbuild/protobuf";
import { AuditEntrySchema } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { describe, expect, it } from "vitest";
import { addLiveEntries, followStart, MAX_LIVE_ENTRIES, mergeAuditEntries } from "./audit-live";

const entry = (id: number) => create(AuditEntrySchema, { id: BigInt(id), action: `a.${id}` });
const ids = (entries: readonly { id: bigint }[]) => entries.map((e) => Number(e.id));

describe("the live audit log", () => {
  it("follows after the newer of the log's end and the newest listed entry", () => {
    expect(followStart({ latestId: 9n, entries: [entry(7), entry(3)] })).toBe(9n);
    expect(followStart({ latestId: 9n, entries: [entry(10)] })).toBe(10n);
    expect(followStart({ latestId: 0n, entries: [] })).toBe(0n);
  });

  it("puts arrivals first, newest first, and keeps a bounded number", () => {
    expect(ids(addLiveEntries([entry(5)], [entry(6), entry(7)]))).toEqual([7, 6, 5]);
    const many = Array.from({ length: MAX_LIVE_ENTRIES + 5 }, (_, i) => entry(i + 1));
    const kept = addLiveEntries([], many);
    expect(kept).toHaveLength(MAX_LIVE_ENTRIES);
    expect(Number(kept[0]?.id)).toBe(MAX_LIVE_ENTRIES + 5);
  });

  it("shows each entry once, newest first, when live and listed overlap", () => {
    expect(ids(mergeAuditEntries([entry(12), entry(11)], [entry(11), entry(10), entry(4)]))).toEqual([
      12, 11, 10, 4,
    ]);
    expect(ids(mergeAuditEntries([], [entry(2), entry(1)]))).toEqual([2, 1]);
  });
});
