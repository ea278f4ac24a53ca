"use client";

import { TextField } from "@/components/ui/text-field";
import { planWaves, wavePlanLine } from "@/lib/run-waves";
import { checkRate } from "@/lib/template-runs";
import { errorFor } from "@/lib/templates";

/** What the run form asks about how the hosts are taken on (all as the API reads them). */
export interface Rollout {
  maxConcurrency: string;
  maxErrors: string;
  canary: string;
  canaryPause: boolean;
  waves: string;
}

export const DEFAULT_ROLLOUT: Rollout = {
  maxConcurrency: "10%",
  maxErrors: "0",
  canary: "",
  canaryPause: false,
  waves: "",
};

/** Hosts assumed when the count is not known yet (a selector): only the sizes' spelling is checked. */
const UNKNOWN_TOTAL = 100_000;

/**
 * The client's objections to a rollout for `total` runnable hosts (undefined: not known before the
 * start), by field; the server checks again.
 */
export function rolloutErrors(r: Rollout, total: number | undefined): Partial<Record<keyof Rollout, string>> {
  const plan = planWaves(r.canary, r.waves, total === undefined ? UNKNOWN_TOTAL : Math.max(total, 1));
  return {
    maxConcurrency: checkRate(r.maxConcurrency, "concurrency"),
    maxErrors: checkRate(r.maxErrors, "errors"),
    ...("error" in plan ? { [plan.field]: plan.error } : {}),
    ...(r.canaryPause && !r.canary.trim() ? { canaryPause: "needs a canary" } : {}),
  };
}

/**
 * Concurrency, error budget, canary and waves, with the plan they make for the previewed hosts
 * spelled out ("canary 1 host (all must succeed), then 3 waves of 1 · 2 · 5 hosts").
 */
export function RolloutFields({
  value,
  onChange,
  total,
  serverError,
}: {
  value: Rollout;
  onChange: (next: Rollout) => void;
  /** Runnable hosts (undefined: not known before the start, so no plan is shown). */
  total: number | undefined;
  serverError: { field: string; message: string } | undefined;
}) {
  const errors = rolloutErrors(value, total);
  const set = (patch: Partial<Rollout>) => onChange({ ...value, ...patch });
  const plan = total === undefined ? undefined : planWaves(value.canary, value.waves, total);
  return (
    <fieldset className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="run-rollout">
      <legend className="mb-2 text-sm font-medium">How the hosts are taken on</legend>
      <TextField
        label="Max concurrency (N or N%)"
        value={value.maxConcurrency}
        onChange={(e) => set({ maxConcurrency: e.target.value })}
        error={errors.maxConcurrency ?? errorFor(serverError, "maxConcurrency")}
        data-testid="run-concurrency"
      />
      <TextField
        label="Max errors (N or N%), across all waves"
        value={value.maxErrors}
        onChange={(e) => set({ maxErrors: e.target.value })}
        hint="after one more failure, no host starts"
        error={errors.maxErrors ?? errorFor(serverError, "maxErrors")}
        data-testid="run-max-errors"
      />
      <TextField
        label="Canary (N or N%, empty for none)"
        value={value.canary}
        onChange={(e) => set({ canary: e.target.value })}
        hint="the first hosts run alone; one failure among them stops the run"
        error={errors.canary ?? errorFor(serverError, "canary")}
        data-testid="run-canary"
      />
      <TextField
        label="Waves after it (batch sizes)"
        value={value.waves}
        onChange={(e) => set({ waves: e.target.value })}
        placeholder="1, 10%, 50%, rest"
        hint="each wave starts when the one before ended; the last size repeats"
        error={errors.waves ?? errorFor(serverError, "waves")}
        data-testid="run-waves"
      />
      <div className="text-sm sm:col-span-2">
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            checked={value.canaryPause}
            onChange={(e) => set({ canaryPause: e.target.checked })}
            data-testid="run-canary-pause"
          />
          Pause after a successful canary until someone resumes the run
        </label>
        {(errors.canaryPause ?? errorFor(serverError, "canaryPause")) ? (
          <p className="text-danger">{errors.canaryPause ?? errorFor(serverError, "canaryPause")}</p>
        ) : null}
      </div>
      <p className="text-sm text-ink-muted sm:col-span-3" data-testid="run-wave-plan">
        {total && plan && "sizes" in plan
          ? `Plan for ${total} host${total === 1 ? "" : "s"}: ${wavePlanLine(plan)}`
          : ""}
      </p>
    </fieldset>
  );
}
