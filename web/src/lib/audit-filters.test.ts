import { describe, expect, it } from "vitest";
import { auditExportName, auditFilterSearch, NO_AUDIT_FILTERS, parseAuditFilters } from "./audit-filters";

describe("audit filters in the URL", () => {
  it("round-trips and drops broken times", () => {
    const values = { ...NO_AUDIT_FILTERS, actor: "admin", since: "2026-03-01T10:00:00.000Z" };
    const search = auditFilterSearch(values);
    expect(search).toBe("?actor=admin&since=2026-03-01T10%3A00%3A00.000Z");
    expect(parseAuditFilters(new URLSearchParams(search.slice(1)))).toEqual(values);
    expect(parseAuditFilters(new URLSearchParams("until=soon")).until).toBe("");
    expect(auditFilterSearch(NO_AUDIT_FILTERS)).toBe("");
  });

  it("names exports by time", () => {
    expect(auditExportName("csv", new Date("2026-03-01T10:20:30Z"))).toBe(
      "ocore-audit-2026-03-01T102030Z.csv",
    );
  });
});
