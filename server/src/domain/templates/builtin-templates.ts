import { desc, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commandTemplates, commandTemplateVersions } from "../../platform/db/schema/templates.js";
import { systemContext } from "../audit/audit-context.js";
import { BUILTIN_TEMPLATES } from "./builtin-library.js";
import { createTemplate, updateTemplate } from "./save-template.js";
import { definitionHash, parseDefinition } from "./template-definition.js";

/**
 * Stores the built-in library: a missing template is created, a changed one gets a new version.
 * Built-in versions are written by "system" and, like any version, run only once a person with
 * templates.approve approved them.
 */
export async function ensureBuiltinTemplates(db: Db, now: Date): Promise<void> {
  for (const builtin of BUILTIN_TEMPLATES) {
    const definition = parseDefinition(builtin.definition);
    const [template] = await db.select().from(commandTemplates).where(eq(commandTemplates.key, builtin.key));
    if (!template) {
      await createTemplate(db, systemContext(), { key: builtin.key, definition, builtin: true }, now);
      continue;
    }
    const [latest] = await db
      .select({ hash: commandTemplateVersions.hash })
      .from(commandTemplateVersions)
      .where(eq(commandTemplateVersions.templateId, template.id))
      .orderBy(desc(commandTemplateVersions.version))
      .limit(1);
    if (latest?.hash !== definitionHash(definition)) {
      await updateTemplate(db, systemContext(), { templateId: template.id, definition }, now);
    }
  }
}
