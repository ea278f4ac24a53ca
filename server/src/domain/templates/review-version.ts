import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commandTemplateVersions } from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { VersionRow } from "./template-store.js";

/**
 * Approves or rejects a pending version. The reviewer must not be its author (four eyes) and
 * must name the hash they reviewed, so a version cannot be approved blind or by a stale screen.
 * Audited `template.approve` / `template.reject` with the version's hash.
 */
export async function reviewVersion(
  db: Db,
  context: AuditContext,
  input: {
    readonly versionId: string;
    readonly hash: string;
    readonly note: string;
    readonly decision: "approved" | "rejected";
  },
  now: Date,
): Promise<VersionRow> {
  AppError.requireId(input.versionId, "version_id");
  if (input.note.length > 1000) throw AppError.invalid("note", "must be at most 1000 characters");
  if (input.decision === "rejected" && input.note.trim() === "") {
    throw AppError.invalid("note", "must say why the version is rejected");
  }
  return db.transaction(async (tx) => {
    const [version] = await tx
      .select()
      .from(commandTemplateVersions)
      .where(eq(commandTemplateVersions.id, input.versionId))
      .for("update");
    if (!version) throw AppError.notFound(`template version ${input.versionId}`);
    if (input.hash !== version.hash) {
      throw AppError.invalid(
        "hash",
        `is not the hash of version ${version.version} (${version.hash}); review the version as it is`,
      );
    }
    if (version.reviewState !== "pending") {
      throw new AppError(
        "failed_precondition",
        `version ${version.version} was already ${version.reviewState}`,
      );
    }
    if (context.actor.type !== "user") {
      throw new AppError(
        "permission_denied",
        "only a person (a signed-in user) can review a template version",
      );
    }
    if (version.authorKind === "user" && version.authorId === context.actor.id) {
      throw new AppError(
        "permission_denied",
        `you wrote version ${version.version}: a second person with templates.approve must review it`,
      );
    }
    const [updated] = await tx
      .update(commandTemplateVersions)
      .set({
        reviewState: input.decision,
        reviewerId: context.actor.id,
        reviewerName: context.actor.name,
        reviewedAt: now,
        reviewNote: input.note.trim(),
      })
      .where(eq(commandTemplateVersions.id, input.versionId))
      .returning();
    await recordAudit(
      tx,
      context,
      {
        action: input.decision === "approved" ? "template.approve" : "template.reject",
        targetType: "template",
        targetId: version.templateId,
        before: { version: version.version, reviewState: "pending" },
        after: {
          version: version.version,
          versionId: version.id,
          sha256: version.hash,
          reviewState: input.decision,
        },
        detail: input.note.trim() || undefined,
      },
      now,
    );
    return updated as VersionRow;
  });
}
