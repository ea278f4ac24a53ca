import { create } from "@bufbuild/protobuf";
import { BackupScheduleSchema } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { describe, expect, it } from "vitest";
import { checkScheduleForm, describeSchedule, formOf, scheduleOf } from "./backup-schedule";

describe("the backup schedule form", () => {
  it("shows a stored schedule and turns the form back into the same request", () => {
    const daily = create(BackupScheduleSchema, {
      enabled: true,
      frequency: { case: "dailyAt", value: { hour: 3, minute: 5 } },
    });
    expect(formOf(daily)).toEqual({ mode: "daily", dailyAt: "03:05", everyHours: "6" });
    expect(scheduleOf(formOf(daily))).toEqual({
      enabled: true,
      frequency: { case: "dailyAt", value: { hour: 3, minute: 5 } },
    });
    expect(describeSchedule(daily)).toBe("Daily at 03:05 UTC");
    const hourly = create(BackupScheduleSchema, {
      enabled: true,
      frequency: { case: "everyHours", value: 12 },
    });
    expect(describeSchedule(hourly)).toBe("Every 12 hours");
    expect(scheduleOf(formOf(hourly)).frequency).toEqual({ case: "everyHours", value: 12 });
  });

  it("shows a disabled or missing schedule as off, and off removes it", () => {
    expect(formOf(undefined).mode).toBe("off");
    expect(formOf(create(BackupScheduleSchema, { enabled: false })).mode).toBe("off");
    expect(describeSchedule(undefined)).toBe("Off");
    expect(scheduleOf({ mode: "off", dailyAt: "02:00", everyHours: "6" })).toEqual({
      enabled: false,
      frequency: { case: undefined },
    });
  });

  it("refuses times and intervals the server would refuse", () => {
    expect(checkScheduleForm({ mode: "daily", dailyAt: "24:00", everyHours: "6" })).toMatch(/00:00 to 23:59/);
    expect(checkScheduleForm({ mode: "hourly", dailyAt: "", everyHours: "0" })).toMatch(/1 to 168/);
    expect(checkScheduleForm({ mode: "hourly", dailyAt: "", everyHours: "1.5" })).toMatch(/whole number/);
    expect(checkScheduleForm({ mode: "daily", dailyAt: "23:59", everyHours: "" })).toBeUndefined();
    expect(checkScheduleForm({ mode: "off", dailyAt: "nonsense", everyHours: "" })).toBeUndefined();
  });
});
