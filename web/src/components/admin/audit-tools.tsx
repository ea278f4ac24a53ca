"use client";

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { AuditService, ExportFormat } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { type AuditFilterValues, auditExportName } from "@/lib/audit-filters";

/** The filters as the API takes them. */
export function auditFilterMessage(values: AuditFilterValues) {
  return {
    actor: values.actor,
    action: values.action,
    target: values.target,
    since: values.since ? timestampFromDate(new Date(values.since)) : undefined,
    until: values.until ? timestampFromDate(new Date(values.until)) : undefined,
  };
}

/** Checks the hash chain on demand and says whether it holds. */
export function VerifyChain() {
  const verify = useQuery(AuditService.method.verifyAuditChain, {}, { enabled: false, retry: false });
  const result = verify.data;
  return (
    <div className="space-y-2">
      <Button
        onClick={verify.isFetching ? undefined : () => void verify.refetch()}
        aria-disabled={verify.isFetching}
        data-testid="verify-chain"
      >
        {verify.isFetching ? "Verifying…" : "Verify the chain"}
      </Button>
      {verify.error ? <ActionError error={verify.error} action="verify the chain" /> : null}
      {result && !verify.isFetching ? (
        result.ok ? (
          <p role="status" className="text-sm text-success" data-testid="chain-result">
            The chain is intact: {result.checked.toString()} entries checked, none altered or missing.
          </p>
        ) : (
          <p role="alert" className="text-sm text-danger" data-testid="chain-result">
            The chain is broken at entry #{result.firstBrokenId.toString()}: {result.problem}. Someone changed
            the audit table outside oCore; restore it from a backup and find out who had database access.
          </p>
        )
      ) : null}
    </div>
  );
}

/** Streams the filtered log to a file the browser saves. */
export function ExportLog({ filters }: { filters: AuditFilterValues }) {
  const transport = useTransport();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ConnectError>();
  const download = async (format: "csv" | "jsonl") => {
    setBusy(true);
    setError(undefined);
    try {
      const client = createClient(AuditService, transport);
      const parts: BlobPart[] = [];
      const stream = client.exportAuditLog(
        {
          filter: auditFilterMessage(filters),
          format: format === "csv" ? ExportFormat.CSV : ExportFormat.JSON,
        },
        { timeoutMs: 300_000 },
      );
      for await (const response of stream) parts.push(new Uint8Array(response.chunk));
      const url = URL.createObjectURL(
        new Blob(parts, { type: format === "csv" ? "text/csv" : "application/jsonl" }),
      );
      const link = document.createElement("a");
      link.href = url;
      link.download = auditExportName(format, new Date());
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(ConnectError.from(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        <Button
          onClick={busy ? undefined : () => void download("csv")}
          aria-disabled={busy}
          data-testid="export-csv"
        >
          Export CSV
        </Button>
        <Button
          onClick={busy ? undefined : () => void download("jsonl")}
          aria-disabled={busy}
          data-testid="export-json"
        >
          Export JSON lines
        </Button>
      </div>
      {error ? <ActionError error={error} action="export the log" /> : null}
    </div>
  );
}
