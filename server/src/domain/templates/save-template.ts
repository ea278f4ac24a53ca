import { desc, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commandTemplates, commandTemplateVersions } from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { definitionHash, parseDefinition } from "./template-definition.js";
import { getTemplateView, type TemplateView } from "./template-store.js";

const KEY = /^[a-z0-9][a-z0-9.-]{1,62}$/;

/** Creates a template as version 1, pending review; audited `template.create` with the hash. */
export async function createTemplate(
  db: Db,
  context: AuditContext,
  input: { readonly key: string; readonly definition: unknown; readonly builtin?: boolean },
  now: Date,
): Promise<TemplateView> {
  if (!KEY.test(input.key)) throw AppError.invalid("key", "must match [a-z0-9][a-z0-9.-]{1,62}");
  if (input.key.startsWith("builtin.") && !input.builtin) {
    throw AppError.invalid("key", 'must not start with "builtin." (reserved for the built-in library)');
  }
  if (input.key.startsWith("adhoc.")) {
    throw AppError.invalid("key", 'must not start with "adhoc." (reserved for ad-hoc commands)');
  }
  const definition = parseDefinition(input.definition);
  const hash = definitionHash(definition);
  const templateId = await db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: commandTemplates.id })
      .from(commandTemplates)
      .where(eq(commandTemplates.key, input.key));
    if (existing) throw new AppError("already_exists", `a template with key ${input.key} already exists`);
    const [template] = await tx
      .insert(commandTemplates)
      .values({ key: input.key, builtin: input.builtin ?? false, createdAt: now })
      .returning({ id: commandTemplates.id });
    const id = (template as { id: string }).id;
    const [version] = await tx
      .insert(commandTemplateVersions)
      .values({ templateId: id, version: 1, hash, definition, ...author(context), createdAt: now })
      .returning({ id: commandTemplateVersions.id });
    await recordAudit(
      tx,
      context,
      {
        action: "template.create",
        targetType: "template",
        targetId: id,
        after: { key: input.key, version: 1, versionId: version?.id, sha256: hash, runAs: definition.runAs },
      },
      now,
    );
    return id;
  });
  return getTemplateView(db, templateId);
}

/**
 * Stores a changed definition as the next version (pending review); versions never change, so
 * runs keep the version they started with. An unchanged definition is refused (same hash).
 */
export async function updateTemplate(
  db: Db,
  context: AuditContext,
  input: { readonly templateId: string; readonly definition: unknown },
  now: Date,
): Promise<TemplateView> {
  AppError.requireId(input.templateId);
  const definition = parseDefinition(input.definition);
  const hash = definitionHash(definition);
  await db.transaction(async (tx) => {
    const [template] = await tx
      .select()
      .from(commandTemplates)
      .where(eq(commandTemplates.id, input.templateId))
      .for("update");
    if (!template) throw AppError.notFound(`template ${input.templateId}`);
    const [latest] = await tx
      .select()
      .from(commandTemplateVersions)
      .where(eq(commandTemplateVersions.templateId, input.templateId))
      .orderBy(desc(commandTemplateVersions.version))
      .limit(1);
    if (latest?.hash === hash) {
      throw new AppError(
        "failed_precondition",
        `the definition is unchanged (version ${latest.version}, hash ${hash})`,
      );
    }
    const number = (latest?.version ?? 0) + 1;
    const [version] = await tx
      .insert(commandTemplateVersions)
      .values({
        templateId: input.templateId,
        version: number,
        hash,
        definition,
        ...author(context),
        createdAt: now,
      })
      .returning({ id: commandTemplateVersions.id });
    await recordAudit(
      tx,
      context,
      {
        action: "template.update",
        targetType: "template",
        targetId: input.templateId,
        before: latest ? { version: latest.version, sha256: latest.hash } : undefined,
        after: { version: number, versionId: version?.id, sha256: hash, runAs: definition.runAs },
      },
      now,
    );
  });
  return getTemplateView(db, input.templateId);
}

function author(context: AuditContext) {
  return {
    authorKind: context.actor.type,
    authorId: context.actor.id || null,
    authorName: context.actor.name,
  };
}
