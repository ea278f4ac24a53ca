import type { BackupSchedule } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";

/** The schedule form: off, daily at a UTC time ("HH:MM"), or every N hours. */
export interface ScheduleForm {
  readonly mode: "off" | "daily" | "hourly";
  readonly dailyAt: string;
  readonly everyHours: string;
}

export const MAX_EVERY_HOURS = 168;

/** The form for a stored schedule (a disabled one shows as off, keeping its values). */
export function formOf(schedule: BackupSchedule | undefined): ScheduleForm {
  const frequency = schedule?.frequency;
  const dailyAt =
    frequency?.case === "dailyAt"
      ? `${String(frequency.value.hour).padStart(2, "0")}:${String(frequency.value.minute).padStart(2, "0")}`
      : "02:00";
  const everyHours = frequency?.case === "everyHours" ? String(frequency.value) : "6";
  const mode = !schedule?.enabled ? "off" : frequency?.case === "everyHours" ? "hourly" : "daily";
  return { mode, dailyAt, everyHours };
}

/** What is wrong with the form, or undefined. */
export function checkScheduleForm(form: ScheduleForm): string | undefined {
  if (form.mode === "daily" && !/^([01]\d|2[0-3]):[0-5]\d$/.test(form.dailyAt)) {
    return "Enter a time from 00:00 to 23:59 (UTC).";
  }
  if (form.mode === "hourly") {
    const hours = Number(form.everyHours);
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_EVERY_HOURS) {
      return `Enter a whole number of hours from 1 to ${MAX_EVERY_HOURS}.`;
    }
  }
  return undefined;
}

/** The SetBackupSchedule request's schedule for a valid form ("off" removes the schedule). */
export function scheduleOf(form: ScheduleForm) {
  if (form.mode === "daily") {
    const [hour, minute] = form.dailyAt.split(":").map(Number);
    return {
      enabled: true,
      frequency: { case: "dailyAt" as const, value: { hour: hour ?? 0, minute: minute ?? 0 } },
    };
  }
  if (form.mode === "hourly") {
    return { enabled: true, frequency: { case: "everyHours" as const, value: Number(form.everyHours) } };
  }
  return { enabled: false, frequency: { case: undefined } };
}

/** One line for the schedule, e.g. "Daily at 02:00 UTC" or "Every 6 hours". */
export function describeSchedule(schedule: BackupSchedule | undefined): string {
  const form = formOf(schedule);
  if (form.mode === "off") return "Off";
  if (form.mode === "daily") return `Daily at ${form.dailyAt} UTC`;
  return form.everyHours === "1" ? "Every hour" : `Every ${form.everyHours} hours`;
}
