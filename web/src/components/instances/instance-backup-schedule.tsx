"use client";

import type { ConnectError } from "@connectrpc/connect";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { useEffect, useId, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import {
  checkScheduleForm,
  describeSchedule,
  formOf,
  type ScheduleForm,
  scheduleOf,
} from "@/lib/backup-schedule";
import { formatTimestamp } from "@/lib/format";

const RETENTION_FIELDS = [
  { key: "daily", label: "Days kept" },
  { key: "weekly", label: "Weeks kept" },
  { key: "monthly", label: "Months kept" },
] as const;

type RetentionForm = Record<(typeof RETENTION_FIELDS)[number]["key"], string>;

/** An instance's automatic backups: when they run (UTC), how the last run went, what is kept. */
export function InstanceBackupSchedule({ instanceId }: { instanceId: string }) {
  const schedule = useQuery(BackupService.method.getBackupSchedule, { instanceId });
  const retention = useQuery(BackupService.method.getRetention, { instanceId });
  const [form, setForm] = useState<ScheduleForm>();
  const [keep, setKeep] = useState<RetentionForm>();
  const [editing, setEditing] = useState(false);
  const setSchedule = useMutation(BackupService.method.setBackupSchedule);
  const setRetention = useMutation(BackupService.method.setRetention);
  const modeField = useId();

  useEffect(() => {
    if (!editing) setForm(formOf(schedule.data?.schedule));
  }, [editing, schedule.data]);
  useEffect(() => {
    const policy = retention.data?.retention;
    if (!editing && policy) {
      setKeep({
        daily: String(policy.daily),
        weekly: String(policy.weekly),
        monthly: String(policy.monthly),
      });
    }
  }, [editing, retention.data]);

  const current = schedule.data?.schedule;
  const problem = form ? checkScheduleForm(form) : undefined;
  const badRetention =
    keep && Object.values(keep).some((value) => !/^\d{1,4}$/.test(value) || Number(value) > 1000);
  const busy = setSchedule.isPending || setRetention.isPending;
  const error: ConnectError | null = setSchedule.error ?? setRetention.error;

  const save = async () => {
    if (!form || !keep || problem || badRetention) return;
    await setSchedule.mutateAsync({ instanceId, schedule: scheduleOf(form) });
    await setRetention.mutateAsync({
      instanceId,
      retention: { daily: Number(keep.daily), weekly: Number(keep.weekly), monthly: Number(keep.monthly) },
    });
    setEditing(false);
    void schedule.refetch();
    void retention.refetch();
  };

  return (
    <section className="space-y-3" aria-labelledby="backup-schedule-heading" data-testid="backup-schedule">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="backup-schedule-heading" className="text-lg font-semibold">
          Automatic backups
        </h2>
        {!editing ? <Button onClick={() => setEditing(true)}>Change…</Button> : null}
      </div>
      {schedule.error ? <ActionError error={schedule.error} action="read the backup schedule" /> : null}
      {!editing ? (
        <div className="rounded-lg border border-line bg-surface p-3 text-sm">
          <p className="font-medium" data-testid="backup-schedule-summary">
            {describeSchedule(current)}
            {retention.data?.retention
              ? ` · keeps ${retention.data.retention.daily} days, ${retention.data.retention.weekly} weeks, ${retention.data.retention.monthly} months`
              : ""}
          </p>
          <p className="text-ink-muted">
            {current?.nextRunAt
              ? `Next: ${formatTimestamp(current.nextRunAt)}`
              : "No automatic backup is planned."}
            {current?.lastResult
              ? ` · Last run ${current.lastResult}${current.lastRunAt ? ` ${formatTimestamp(current.lastRunAt)}` : ""}`
              : ""}
            {current?.lastMessage ? ` (${current.lastMessage})` : ""}
          </p>
        </div>
      ) : form && keep ? (
        <form
          className="space-y-3 rounded-lg border border-line bg-surface p-3"
          onSubmit={(event) => {
            event.preventDefault();
            void save().catch(() => undefined);
          }}
        >
          <div className="grid gap-3 sm:grid-cols-2">
            <div className="space-y-1">
              <label htmlFor={modeField} className="block text-sm font-medium">
                Back up
              </label>
              <select
                id={modeField}
                value={form.mode}
                onChange={(e) => setForm({ ...form, mode: e.target.value as ScheduleForm["mode"] })}
                className="block h-9.5 w-full rounded-md border border-line bg-surface px-2 text-ink"
                data-testid="backup-schedule-mode"
              >
                <option value="off">Only by hand</option>
                <option value="daily">Daily</option>
                <option value="hourly">Every few hours</option>
              </select>
            </div>
            {form.mode === "daily" ? (
              <TextField
                label="At (UTC)"
                type="time"
                value={form.dailyAt}
                onChange={(e) => setForm({ ...form, dailyAt: e.target.value })}
                error={problem}
              />
            ) : form.mode === "hourly" ? (
              <TextField
                label="Every (hours)"
                inputMode="numeric"
                value={form.everyHours}
                onChange={(e) => setForm({ ...form, everyHours: e.target.value })}
                error={problem}
              />
            ) : null}
          </div>
          <div className="grid gap-3 sm:grid-cols-3">
            {RETENTION_FIELDS.map((field) => (
              <TextField
                key={field.key}
                label={field.label}
                inputMode="numeric"
                value={keep[field.key]}
                onChange={(e) => setKeep({ ...keep, [field.key]: e.target.value })}
              />
            ))}
          </div>
          <p className="text-sm text-ink-muted">
            {badRetention
              ? "Enter whole numbers from 0 to 1000."
              : "Retention applies to automatic backups after each one: the newest of each of the last N days, weeks and months stays (0 everywhere keeps all)."}
          </p>
          {error ? <ActionError error={error} action="save the schedule" /> : null}
          <div className="flex gap-2">
            <Button type="submit" variant="primary" aria-disabled={busy} data-testid="backup-schedule-save">
              {busy ? "Saving…" : "Save"}
            </Button>
            <Button onClick={() => setEditing(false)}>Cancel</Button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
