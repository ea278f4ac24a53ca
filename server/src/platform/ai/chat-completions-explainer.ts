import type { ReportExplainer } from "../../domain/diagnosis/report-explainer.js";

const SYSTEM_PROMPT = [
  "You explain a server diagnosis report to an operator.",
  "The report was computed by deterministic analyzers; treat its numbers as facts and do not invent others.",
  "Answer the question in a few short paragraphs: the most likely cause with its time window and evidence, what it rules out, and which listed fix to try first.",
  "You cannot run anything. Only refer to fixes and templates that appear in the report.",
].join(" ");

/**
 * A ReportExplainer over an OpenAI-compatible `POST {endpoint}/chat/completions`: one request,
 * no tools, bounded by a timeout. The caller has already limited and anonymized what it sends.
 */
export function createChatCompletionsExplainer(options: {
  readonly endpoint: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
}): ReportExplainer {
  return {
    async explain(input) {
      const messages = [
        { role: "system", content: SYSTEM_PROMPT },
        ...input.history.flatMap((turn) => [
          { role: "user", content: turn.question },
          { role: "assistant", content: turn.summary },
        ]),
        {
          role: "user",
          content: `Question: ${input.question}\n\nReport (JSON):\n${JSON.stringify(input.report)}`,
        },
      ];
      const response = await fetch(`${options.endpoint}/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: options.model, messages, temperature: 0.2 }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (!response.ok) throw new Error(`the model endpoint answered HTTP ${response.status}`);
      const body = (await response.json()) as { choices?: Array<{ message?: { content?: unknown } }> };
      const content = body.choices?.[0]?.message?.content;
      if (typeof content !== "string") throw new Error("the model endpoint's answer has no message content");
      return content;
    },
  };
}
