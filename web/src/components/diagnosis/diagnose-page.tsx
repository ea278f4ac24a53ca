"use client";

import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { useMutation } from "@connectrpc/connect-query";
import { DiagnosisService, type DiagnosisTurn } from "@ocore/proto/gen/ocore/api/v1/diagnosis_service_pb.js";
import { type FormEvent, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";

const when = (t: Timestamp | undefined) =>
  t ? timestampDate(t).toISOString().slice(0, 16).replace("T", " ") : "";
const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

/**
 * A conversation with the diagnosis engine: each question's report under the previous ones;
 * follow-ups keep the servers and window of the conversation. The report can be saved as Markdown.
 */
export function DiagnosePage() {
  const [question, setQuestion] = useState("");
  const [selector, setSelector] = useState("");
  const [conversationId, setConversationId] = useState("");
  const [turns, setTurns] = useState<DiagnosisTurn[]>([]);
  const [error, setError] = useState<ConnectError | undefined>();
  const diagnose = useMutation(DiagnosisService.method.diagnose, {
    onSuccess: (answer) => {
      setConversationId(answer.conversationId);
      if (answer.turn) setTurns((previous) => [...previous, answer.turn as DiagnosisTurn]);
      setQuestion("");
      setError(undefined);
    },
    onError: (caught) => setError(ConnectError.from(caught)),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (question.trim() === "" || diagnose.isPending) return;
    diagnose.mutate({ question, selector, conversationId });
  };
  return (
    <div className="space-y-6">
      <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2 text-sm">
        <label className="flex min-w-80 flex-1 flex-col gap-1">
          <span className="font-medium">{conversationId ? "Follow-up question" : "Question"}</span>
          <input
            value={question}
            onChange={(event) => setQuestion(event.target.value)}
            placeholder="why is web-1 slow?"
            className="rounded-md border border-line bg-surface px-3 py-1.5"
            data-testid="diagnose-question"
          />
        </label>
        <label className="flex w-60 flex-col gap-1">
          <span className="font-medium">Servers by tags (optional)</span>
          <input
            value={selector}
            onChange={(event) => setSelector(event.target.value)}
            placeholder="env=prod"
            className="rounded-md border border-line bg-surface px-3 py-1.5"
            data-testid="diagnose-selector"
          />
        </label>
        <Button
          type="submit"
          variant="primary"
          aria-disabled={diagnose.isPending}
          data-testid="diagnose-submit"
        >
          {diagnose.isPending ? "Diagnosing…" : "Diagnose"}
        </Button>
        {conversationId ? (
          <Button
            onClick={() => {
              setConversationId("");
              setTurns([]);
            }}
          >
            New conversation
          </Button>
        ) : null}
      </form>
      {error ? <ActionError error={error} action="diagnose" /> : null}
      {[...turns].reverse().map((turn) => (
        <TurnReport key={turn.position} turn={turn} />
      ))}
    </div>
  );
}

function TurnReport({ turn }: { turn: DiagnosisTurn }) {
  const report = turn.report;
  if (!report) return null;
  const download = () => {
    const url = URL.createObjectURL(new Blob([turn.markdown], { type: "text/markdown" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `diagnosis-${turn.position}.md`;
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <article
      className="space-y-4 rounded-lg border border-line bg-surface p-4"
      data-testid="diagnosis-report"
    >
      <header className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="text-lg font-semibold">{turn.question}</h2>
        <span className="text-sm text-ink-muted">
          {when(report.windowStart)} – {when(report.windowEnd)} UTC ·{" "}
          <button type="button" className="underline" onClick={download}>
            Markdown
          </button>
        </span>
      </header>
      <p data-testid="diagnosis-summary">{report.summary}</p>
      {turn.explanation ? (
        <p className="whitespace-pre-wrap rounded-md bg-surface-muted p-3 text-sm">{turn.explanation}</p>
      ) : null}
      <ul className="text-sm text-ink-muted">
        {report.baselines.map((b) => (
          <li key={b.serverId}>
            <span className="font-medium text-ink">{b.serverName}</span>: {b.text}
          </li>
        ))}
      </ul>
      <section className="space-y-3">
        <h3 className="font-medium">Findings</h3>
        {report.findings.length === 0 ? (
          <p className="text-sm text-ink-muted">No cause found; see the checks below.</p>
        ) : null}
        {report.findings.map((f, i) => (
          <div
            key={`${f.serverId}-${f.title}`}
            className="rounded-md border border-line p-3"
            data-testid="diagnosis-finding"
          >
            <p className="font-medium">
              {i + 1}. {f.title} — {f.serverName}{" "}
              <span className="text-sm text-ink-muted">
                ({Math.round(f.likelihood * 100)} %
                {f.windowStart ? `, ${when(f.windowStart)} – ${when(f.windowEnd)}` : ""})
              </span>
            </p>
            <p className="text-sm">{f.summary}</p>
            <ul className="mt-1 list-disc pl-5 text-sm text-ink-muted">
              {f.evidence.map((e) => (
                <li key={`${e.label}-${e.text}`}>{e.text}</li>
              ))}
            </ul>
          </div>
        ))}
      </section>
      {report.alerts.length > 0 ? (
        <section>
          <h3 className="font-medium">Open alerts</h3>
          <ul className="list-disc pl-5 text-sm">
            {report.alerts.map((a) => (
              <li key={a.id}>
                {a.serverName}: {a.ruleName} ({a.state}, {a.severity}) — {a.summary}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {report.remediation.length > 0 ? (
        <section>
          <h3 className="font-medium">Fixes, in order</h3>
          <ol className="list-decimal pl-5 text-sm" data-testid="diagnosis-fixes">
            {report.remediation.map((r) => (
              <li key={`${r.priority}`}>
                {r.title} on {r.serverName}
                {r.templateKey ? (
                  <>
                    {" "}
                    — template <code>{r.templateKey}</code>, started as a run (RunService) through its review
                  </>
                ) : null}
                <span className="text-ink-muted">. {r.note}</span>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      <details>
        <summary className="cursor-pointer font-medium">Reasoning ({report.steps.length} checks)</summary>
        <table className="mt-2 w-full text-sm">
          <thead>
            <tr>
              <th className={HEAD}>Check</th>
              <th className={HEAD}>Server</th>
              <th className={HEAD}>Checked</th>
              <th className={HEAD}>Showed</th>
              <th className={HEAD}>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {report.steps.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: steps are a fixed ordered list
              <tr key={i} className="border-t border-line">
                <td className="px-3 py-1">{s.analyzer}</td>
                <td className="px-3 py-1">{s.serverName}</td>
                <td className="px-3 py-1">{s.checked}</td>
                <td className="px-3 py-1">{s.showed}</td>
                <td className="px-3 py-1">{s.outcome.replace("_", " ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </article>
  );
}
