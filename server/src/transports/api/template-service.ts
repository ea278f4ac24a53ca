import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { holdsOn } from "../../domain/auth/principal.js";
import type { TemplateDeps } from "../../domain/runs/template-deps.js";
import { planHosts } from "../../domain/templates/resolve-targets.js";
import { reviewVersion } from "../../domain/templates/review-version.js";
import { createTemplate, updateTemplate } from "../../domain/templates/save-template.js";
import { resolveParameters } from "../../domain/templates/template-definition.js";
import {
  getTemplateView,
  listTemplates,
  listVersions,
  pickVersion,
} from "../../domain/templates/template-store.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";
import { definitionInput, templateMessage, versionMessage } from "./template-messages.js";

/** Whether the caller may run commands on a server with these tags. */
export const mayRunOn = (context: HandlerContext) => {
  const principal = principalOf(context);
  return (tags: Readonly<Record<string, string>>) => holdsOn(principal, "commands.run", tags);
};

/** TemplateService: thin translation between the contract and the template use cases. */
export function createTemplateService(deps: TemplateDeps | undefined): ServiceImpl<typeof TemplateService> {
  const need = (): TemplateDeps => {
    if (!deps) throw new AppError("unavailable", "command templates are not running in this server process");
    return deps;
  };
  return {
    async listTemplates(request) {
      if (request.query.length > 200) throw AppError.invalid("query", "must be at most 200 characters");
      return { templates: (await listTemplates(need().db, request.query)).map(templateMessage) };
    },
    async getTemplate(request) {
      const { db } = need();
      const view = await getTemplateView(db, request.id);
      return {
        template: templateMessage(view),
        versions: (await listVersions(db, request.id)).map(versionMessage),
      };
    },
    async createTemplate(request, context) {
      const { db, now } = need();
      const view = await createTemplate(
        db,
        auditContextOf(context),
        { key: request.key, definition: definitionInput(request.definition) },
        now(),
      );
      return { template: templateMessage(view) };
    },
    async updateTemplate(request, context) {
      const { db, now } = need();
      const view = await updateTemplate(
        db,
        auditContextOf(context),
        { templateId: request.id, definition: definitionInput(request.definition) },
        now(),
      );
      return { template: templateMessage(view) };
    },
    async approveVersion(request, context) {
      const { db, now } = need();
      const version = await reviewVersion(
        db,
        auditContextOf(context),
        { ...request, decision: "approved" },
        now(),
      );
      return { version: versionMessage(version) };
    },
    async rejectVersion(request, context) {
      const { db, now } = need();
      const version = await reviewVersion(
        db,
        auditContextOf(context),
        { ...request, decision: "rejected" },
        now(),
      );
      return { version: versionMessage(version) };
    },
    async previewRun(request, context) {
      const { db } = need();
      const version = await pickVersion(db, request.templateId, request.versionId, false);
      const parameters = resolveParameters(version.definition, request.parameters);
      const planned = await planHosts(db, {
        definition: version.definition,
        parameters,
        targets: { serverIds: request.targets?.serverIds ?? [], selector: request.targets?.selector ?? "" },
        mayRunOn: mayRunOn(context),
      });
      return {
        version: versionMessage(version),
        hosts: planned.map((p) => ({
          serverId: p.host.id,
          serverName: p.host.name,
          refusedReason: p.refused ?? "",
          title: p.render?.title ?? "",
          command: p.render ? [...p.render.command] : [],
          env: p.render ? { ...p.render.env } : {},
          listOptions: Object.fromEntries(
            Object.entries(p.render?.listOptions ?? {}).map(([name, options]) => [name, options.join(",")]),
          ),
        })),
      };
    },
  };
}
