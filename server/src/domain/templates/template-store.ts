import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import {
  commandTemplates,
  commandTemplateVersions,
  type ReviewState,
} from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { TemplateDefinition } from "./template-definition.js";

export type VersionRow = typeof commandTemplateVersions.$inferSelect & { definition: TemplateDefinition };
export type TemplateRow = typeof commandTemplates.$inferSelect;

export interface TemplateView {
  readonly template: TemplateRow;
  readonly latest: VersionRow;
  readonly approved: VersionRow | undefined;
}

export async function getVersion(db: Db, versionId: string): Promise<VersionRow> {
  AppError.requireId(versionId, "version_id");
  const [row] = await db
    .select()
    .from(commandTemplateVersions)
    .where(eq(commandTemplateVersions.id, versionId));
  if (!row) throw AppError.notFound(`template version ${versionId}`);
  return row as VersionRow;
}

export async function getTemplateRow(db: Db, templateId: string, field = "id"): Promise<TemplateRow> {
  AppError.requireId(templateId, field);
  const [row] = await db.select().from(commandTemplates).where(eq(commandTemplates.id, templateId));
  if (!row) throw AppError.notFound(`template ${templateId}`);
  return row;
}

export async function listVersions(db: Db, templateId: string): Promise<VersionRow[]> {
  return (await db
    .select()
    .from(commandTemplateVersions)
    .where(eq(commandTemplateVersions.templateId, templateId))
    .orderBy(desc(commandTemplateVersions.version))) as VersionRow[];
}

/** Templates with their newest and newest approved versions; `query` filters name, type, description. */
export async function listTemplates(db: Db, query = ""): Promise<TemplateView[]> {
  // Ad-hoc commands' holders are not templates anyone picks (decision 0231).
  const templates = await db
    .select()
    .from(commandTemplates)
    .where(eq(commandTemplates.adhoc, false))
    .orderBy(commandTemplates.key);
  if (templates.length === 0) return [];
  const versions = (await db
    .select()
    .from(commandTemplateVersions)
    .where(
      inArray(
        commandTemplateVersions.templateId,
        templates.map((t) => t.id),
      ),
    )
    .orderBy(desc(commandTemplateVersions.version))) as VersionRow[];
  const needle = query.trim().toLowerCase();
  return templates.flatMap((template) => {
    const own = versions.filter((v) => v.templateId === template.id);
    const latest = own[0];
    if (!latest) return [];
    const d = latest.definition;
    if (
      needle &&
      ![d.name, d.type, d.description, template.key].some((s) => s.toLowerCase().includes(needle))
    ) {
      return [];
    }
    return [{ template, latest, approved: own.find((v) => v.reviewState === "approved") }];
  });
}

export async function getTemplateView(db: Db, templateId: string): Promise<TemplateView> {
  const template = await getTemplateRow(db, templateId);
  const versions = await listVersions(db, templateId);
  const latest = versions[0];
  if (!latest) throw new AppError("internal", `template ${templateId} has no version`);
  return { template, latest, approved: versions.find((v) => v.reviewState === "approved") };
}

/**
 * The version a run or preview uses: the one named, else the newest approved one. A run refuses
 * versions that are not approved (`requireApproved`).
 */
export async function pickVersion(
  db: Db,
  templateId: string,
  versionId: string,
  requireApproved: boolean,
): Promise<VersionRow> {
  await getTemplateRow(db, templateId, "template_id");
  if (versionId !== "") {
    const version = await getVersion(db, versionId);
    if (version.templateId !== templateId) {
      throw AppError.invalid("version_id", "is a version of another template");
    }
    if (requireApproved) requireRunnable(version);
    return version;
  }
  const [newest] = (await db
    .select()
    .from(commandTemplateVersions)
    .where(
      and(
        eq(commandTemplateVersions.templateId, templateId),
        requireApproved ? eq(commandTemplateVersions.reviewState, "approved") : sql`true`,
      ),
    )
    .orderBy(desc(commandTemplateVersions.version))
    .limit(1)) as VersionRow[];
  if (!newest) {
    throw new AppError(
      "failed_precondition",
      `template ${templateId} has no approved version yet: a second person with templates.approve must approve it before it runs`,
    );
  }
  return newest;
}

export function requireRunnable(version: { version: number; reviewState: ReviewState }): void {
  if (version.reviewState !== "approved") {
    throw new AppError(
      "failed_precondition",
      `version ${version.version} is ${version.reviewState}, not approved: only approved versions run (a second person with templates.approve reviews it)`,
    );
  }
}
