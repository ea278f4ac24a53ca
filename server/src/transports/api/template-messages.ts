import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  TemplateDefinition as DefinitionMessage,
  TemplateParameter as ParameterMessage,
} from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { placeholdersOf, type TemplateDefinition } from "../../domain/templates/template-definition.js";
import type { TemplateView, VersionRow } from "../../domain/templates/template-store.js";

const safe = (value: bigint) =>
  value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : Number.NaN;

/** The contract's definition as the plain object the domain validates (zod, field names kept). */
export function definitionInput(message: DefinitionMessage | undefined): unknown {
  if (!message) return undefined;
  return {
    name: message.name,
    type: message.type,
    scope: message.scope,
    description: message.description,
    examples: message.examples.map((e) => ({
      title: e.title,
      parameters: { ...e.parameters },
      note: e.note,
    })),
    interpreter: message.interpreter,
    script: message.script,
    argv: [...message.argv],
    env: { ...message.env },
    runAs: message.runAs,
    timeoutSeconds: message.timeoutSeconds,
    memoryMaxMb: message.memoryMaxMb,
    cpuQuotaPercent: message.cpuQuotaPercent,
    tasksMax: message.tasksMax,
    writePaths: [...message.writePaths],
    parameters: message.parameters.map((p: ParameterMessage) => ({
      name: p.name,
      type: p.type,
      description: p.description,
      required: p.required,
      defaultValue: p.defaultValue,
      pattern: p.pattern,
      allowedValues: [...p.allowedValues],
      min: safe(p.min),
      max: safe(p.max),
      listSource: p.listSource,
      confirm: p.confirm,
    })),
  };
}

export function definitionMessage(d: TemplateDefinition) {
  return {
    ...d,
    examples: d.examples.map((e) => ({ ...e, parameters: { ...e.parameters } })),
    parameters: d.parameters.map((p) => ({ ...p, min: BigInt(p.min), max: BigInt(p.max) })),
  };
}

export function versionMessage(v: VersionRow) {
  return {
    id: v.id,
    templateId: v.templateId,
    version: v.version,
    hash: v.hash,
    definition: definitionMessage(v.definition),
    reviewState: v.reviewState,
    author: v.authorName,
    createdAt: timestampFromDate(v.createdAt),
    reviewer: v.reviewerName ?? "",
    reviewedAt: v.reviewedAt ? timestampFromDate(v.reviewedAt) : undefined,
    reviewNote: v.reviewNote,
    needsRoot: v.definition.runAs === "root",
    placeholders: placeholdersOf(v.definition),
  };
}

export function templateMessage(view: TemplateView) {
  return {
    id: view.template.id,
    key: view.template.key,
    builtin: view.template.builtin,
    latest: versionMessage(view.latest),
    approved: view.approved ? versionMessage(view.approved) : undefined,
  };
}
