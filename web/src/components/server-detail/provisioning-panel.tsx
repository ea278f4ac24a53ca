"use client";

import { useMutation, useQuery } from "@connectrpc/connect-query";
import {
  type ProvisioningJob,
  type Server,
  ServerService,
} from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import Link from "next/link";
import { useEffect, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { formatTimestamp } from "@/lib/format";
import { acceptanceHint, linkParts } from "@/lib/requirement-verdict";

const STEP_LABELS: Record<string, string> = {
  connect: "Connect over SSH",
  check: "Check the requirements",
  install: "Install the agent",
  wait_agent: "Wait for the agent",
  uninstall: "Uninstall the agent",
  cleanup: "Clean up",
};
const VERDICT_STYLE: Record<string, string> = {
  pass: "text-success",
  warn: "text-warning",
  fail: "text-danger",
};

/** A host joining by itself does the first step on its side. */
const JOIN_STEP_LABELS: Record<string, string> = {
  ...STEP_LABELS,
  connect: "Verify the server and download the agent (on the host)",
};

function StepList({ job }: { job: ProvisioningJob }) {
  const steps = job.steps.filter((step) => step.attempt === job.attempt);
  const labels = job.kind === "join" ? JOIN_STEP_LABELS : STEP_LABELS;
  if (steps.length === 0) return <p className="text-sm text-ink-muted">Waiting for a worker to start…</p>;
  return (
    <ol className="space-y-2" data-testid="provisioning-steps">
      {steps.map((step) => (
        <li
          key={`${step.attempt}-${step.step}-${step.startedAt?.seconds}`}
          className="flex gap-3 text-sm"
          data-testid="provisioning-step"
          data-status={step.status}
        >
          <span
            aria-hidden="true"
            className={`mt-1 size-2.5 shrink-0 rounded-full ${step.status === "succeeded" ? "bg-success" : step.status === "failed" ? "bg-danger" : "animate-pulse bg-accent motion-reduce:animate-none"}`}
          />
          <div className="min-w-0">
            <p className="font-medium">
              {labels[step.step] ?? step.step}{" "}
              <span className="font-normal text-ink-muted">· {step.status}</span>
            </p>
            {step.message ? (
              <p className={step.status === "failed" ? "text-danger" : "text-ink-muted"}>{step.message}</p>
            ) : null}
            {step.startedAt ? (
              <p className="text-xs text-ink-muted">{formatTimestamp(step.startedAt)}</p>
            ) : null}
          </div>
        </li>
      ))}
    </ol>
  );
}

/**
 * A server's provisioning (or removal) as it happens: steps, requirement verdicts, the pinned
 * host key to confirm, and what to do when it fails. Refetched whenever the live feed reports a
 * change of this server (`changeKey`), never on a timer.
 */
export function ProvisioningPanel({ server: live, changeKey }: { server: Server; changeKey: string }) {
  const details = useQuery(ServerService.method.getServer, { id: live.id });
  // biome-ignore lint/correctness/useExhaustiveDependencies: refetch when the live feed reports a change
  useEffect(() => {
    void details.refetch();
  }, [changeKey]);
  const server = details.data?.server ?? live;
  const job = server.provisioning;
  const [accepted, setAccepted] = useState<string[]>([]);
  const retry = useMutation(ServerService.method.retryProvisioning, {
    onSuccess: () => void details.refetch(),
  });
  const acceptKey = useMutation(ServerService.method.acceptHostKey, {
    onSuccess: () => void details.refetch(),
  });
  if (!job) return null;
  const failed = job.state === "failed";
  const failedVerdicts = job.verdicts.filter((verdict) => verdict.verdict === "fail" && !verdict.accepted);

  return (
    <section
      className="space-y-4 rounded-lg border border-line bg-surface p-4"
      aria-labelledby="provisioning-heading"
      data-testid="provisioning-panel"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="provisioning-heading" className="text-lg font-semibold">
          {job.kind === "remove" ? "Removal" : "Provisioning"}
        </h2>
        <p className="text-sm text-ink-muted" data-testid="provisioning-state">
          Attempt {job.attempt} · {job.state}
          {job.state === "running" ? ` · ${STEP_LABELS[job.step] ?? job.step}` : ""}
        </p>
      </div>
      {failed ? (
        <p role="alert" className="text-sm text-danger" data-testid="provisioning-error">
          <span className="font-medium">{job.errorReason.replaceAll("_", " ") || "Failed"}:</span>{" "}
          {job.errorMessage}
        </p>
      ) : null}
      <StepList job={job} />
      {server.hostKeyFingerprint ? (
        <div className="space-y-1 text-sm">
          <p className="font-medium">Host key</p>
          <p>
            <code className="font-mono break-all" data-testid="host-key">
              {server.hostKeyAlgorithm} {server.hostKeyFingerprint}
            </code>
          </p>
          <p className="text-ink-muted">
            Confirm it matches{" "}
            <code className="font-mono">ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code> run on the
            host. If it does not, remove this server: something else answered at this address.
          </p>
        </div>
      ) : null}
      {server.pendingHostKeyFingerprint ? (
        <div
          role="alert"
          className="space-y-2 rounded-md border border-danger-line bg-danger-surface p-3 text-sm"
        >
          <p>
            The host now presents a different key,{" "}
            <code className="font-mono break-all">{server.pendingHostKeyFingerprint}</code>. Check it on the
            host; accept it only if the host was reinstalled on purpose.
          </p>
          <Button
            variant="danger"
            aria-disabled={acceptKey.isPending}
            onClick={() => acceptKey.mutate({ id: server.id, fingerprint: server.pendingHostKeyFingerprint })}
          >
            Accept the new key
          </Button>
          {acceptKey.error ? <ActionError error={acceptKey.error} action="accept the key" /> : null}
        </div>
      ) : null}
      {job.verdicts.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full text-sm" data-testid="verdicts">
            <caption className="mb-2 text-left font-medium">Requirements</caption>
            <tbody className="divide-y divide-line">
              {job.verdicts.map((verdict) => (
                <tr key={verdict.id} data-testid="verdict" data-verdict={verdict.verdict}>
                  <th scope="row" className="py-1.5 pr-3 text-left font-medium whitespace-nowrap">
                    {verdict.title}
                  </th>
                  <td className={`py-1.5 pr-3 font-medium uppercase ${VERDICT_STYLE[verdict.verdict] ?? ""}`}>
                    {verdict.verdict}
                    {verdict.accepted ? " (accepted)" : ""}
                  </td>
                  <td className="py-1.5 text-ink-muted">
                    {linkParts(verdict.message).map((part, index) =>
                      part.href ? (
                        <a
                          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed message
                          key={index}
                          href={part.href}
                          target="_blank"
                          rel="noreferrer"
                          className="underline"
                        >
                          {part.text}
                        </a>
                      ) : (
                        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed message
                        <span key={index}>{part.text}</span>
                      ),
                    )}
                    {acceptanceHint(verdict, failed && job.kind === "provision") ? (
                      <span className="mt-1 block font-medium text-ink" data-testid="verdict-hint">
                        {acceptanceHint(verdict, failed && job.kind === "provision")}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {failed && job.kind === "provision" ? (
        <div className="space-y-2 border-t border-line pt-3">
          {failedVerdicts.length > 0 ? (
            <fieldset className="space-y-1 text-sm">
              <legend className="font-medium">Go ahead without these requirements (at your own risk):</legend>
              {failedVerdicts.map((verdict) => (
                <label key={verdict.id} className="flex items-center gap-2">
                  <input
                    type="checkbox"
                    checked={accepted.includes(verdict.id)}
                    onChange={(event) =>
                      setAccepted(
                        event.target.checked
                          ? [...accepted, verdict.id]
                          : accepted.filter((id) => id !== verdict.id),
                      )
                    }
                  />
                  {verdict.title}
                </label>
              ))}
            </fieldset>
          ) : null}
          <Button
            variant="primary"
            aria-disabled={retry.isPending}
            onClick={() =>
              retry.mutate({
                id: server.id,
                acceptedRequirements: [...job.acceptedRequirements, ...accepted],
                replaceAccepted: accepted.length > 0,
              })
            }
            data-testid="retry-provisioning"
          >
            {retry.isPending ? "Starting…" : "Fix the cause, then retry"}
          </Button>
          {retry.error ? <ActionError error={retry.error} action="retry" /> : null}
        </div>
      ) : null}
      {job.kind === "join" && (failed || job.state === "succeeded") ? (
        <p className="border-t border-line pt-3 text-sm" data-testid="rejoin">
          This host joined by itself: oCore has no SSH access to it. To install the agent again,{" "}
          <Link href={`/servers/new?join=${server.id}`} className="text-accent underline">
            create a new join command
          </Link>{" "}
          and run it on the host.
        </p>
      ) : null}
      {details.error ? <ActionError error={details.error} action="read the provisioning details" /> : null}
    </section>
  );
}
