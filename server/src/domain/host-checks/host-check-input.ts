import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HostChecks } from "@ocore/proto/gen/ocore/agent/v1/host_checks_pb.js";
import { z } from "zod";
import { AppError } from "../../platform/errors/app-error.js";

export const CHECK_KEYS = [
  "docker",
  "docker_start",
  "sshd",
  "inodes",
  "odoo_containers",
  "odoo_web",
  "odoo_realtime",
  "odoo_cron",
  "odoo_mail",
] as const;
/** The checks of one Odoo instance; their subject is the instance's name. */
export const INSTANCE_CHECK_KEYS = [
  "odoo_containers",
  "odoo_web",
  "odoo_realtime",
  "odoo_cron",
  "odoo_mail",
] as const;
export const isInstanceCheck = (key: string): boolean =>
  (INSTANCE_CHECK_KEYS as readonly string[]).includes(key);
/** An instance's name as instances are named (instance-input.ts). */
const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
export type CheckKey = (typeof CHECK_KEYS)[number];
export const CHECK_STATES = ["ok", "warning", "critical", "unknown"] as const;
export type CheckState = (typeof CHECK_STATES)[number];

/**
 * What one HostChecks message may carry; beyond it the agent's stream is refused. The agent sends
 * at most 32 mounts and 100 instances (5 checks each), plus its three host checks.
 */
export const HOST_CHECK_LIMITS = { results: 600, subject: 256, message: 500 } as const;

const result = z
  .object({
    key: z.enum(CHECK_KEYS),
    subject: z.string().max(HOST_CHECK_LIMITS.subject),
    state: z.enum(CHECK_STATES),
    value: z.number().finite().optional(),
    message: z.string().max(HOST_CHECK_LIMITS.message),
  })
  .refine(
    (check) =>
      check.key === "inodes"
        ? check.subject.startsWith("/")
        : isInstanceCheck(check.key)
          ? INSTANCE_NAME.test(check.subject)
          : check.subject === "",
    {
      message:
        "inodes name a mount point (starting with /), the odoo_ checks an instance name; the other checks have no subject",
      path: ["subject"],
    },
  );

export type HostCheckInput = z.infer<typeof result>;

export interface ValidHostChecks {
  readonly checkedAt: Date;
  readonly results: readonly HostCheckInput[];
}

/** Checks an agent's HostChecks at the stream boundary; throws invalid_argument naming the field. */
export function validateHostChecks(message: HostChecks): ValidHostChecks {
  if (!message.checkedAt) throw AppError.invalid("hostChecks.checkedAt", "is missing");
  if (message.results.length > HOST_CHECK_LIMITS.results) {
    throw AppError.invalid(
      "hostChecks.results",
      `carries ${message.results.length}, at most ${HOST_CHECK_LIMITS.results}`,
    );
  }
  const seen = new Set<string>();
  const results = message.results.map((raw, index) => {
    const parsed = result.safeParse({
      key: raw.key,
      subject: raw.subject,
      state: raw.state,
      value: raw.value,
      message: raw.message,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw AppError.invalid(
        `hostChecks.results[${index}].${issue?.path.join(".") ?? ""}`,
        issue?.message ?? "is invalid",
      );
    }
    const id = `${parsed.data.key}\u0000${parsed.data.subject}`;
    if (seen.has(id)) {
      throw AppError.invalid(
        `hostChecks.results[${index}]`,
        `repeats ${parsed.data.key} ${parsed.data.subject}`.trim(),
      );
    }
    seen.add(id);
    return parsed.data;
  });
  return { checkedAt: timestampDate(message.checkedAt), results };
}
