import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";

/** Every service of the public API, read from the generated descriptors (not from our own lists). */
export async function apiServices(): Promise<DescService[]> {
  const anyFile = fileURLToPath(import.meta.resolve("@ocore/proto/gen/ocore/api/v1/system_service_pb.js"));
  const dir = path.dirname(anyFile);
  const services: DescService[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith("_pb.js"))) {
    const module = (await import(path.join(dir, file))) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (value && typeof value === "object" && (value as { kind?: unknown }).kind === "service") {
        services.push(value as DescService);
      }
    }
  }
  return services;
}

export function procedureOf(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/** Methods the contract does not mark side-effect free change state. */
export function isMutating(method: DescMethod): boolean {
  return method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
}
