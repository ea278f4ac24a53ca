import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeApiError } from "./api-error";

describe("describeApiError", () => {
  it("reports a failed fetch as unreachable", () => {
    const error = ConnectError.from(new TypeError("Failed to fetch"));
    expect(describeApiError(error)).toEqual({ kind: "unreachable", message: "[unknown] Failed to fetch" });
  });

  it.each([Code.Unavailable, Code.DeadlineExceeded])("reports code %i as unreachable", (code) => {
    expect(describeApiError(new ConnectError("no answer", code)).kind).toBe("unreachable");
  });

  it("reports an error the server sent as failed, without a final period", () => {
    const error = new ConnectError("database is locked.", Code.Internal);
    expect(describeApiError(error)).toEqual({ kind: "failed", message: "[internal] database is locked" });
  });
});
