import { type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import type { Interceptor } from "@connectrpc/connect";
import { AppError } from "../../platform/errors/app-error.js";

/**
 * Refuses, for every RPC and before its handler runs, input no handler can store: a NUL
 * character in any string (PostgreSQL refuses it in text), naming the field as the client
 * wrote it in JSON. Runs inside the auth interceptor, so a refused change is audited like any
 * other failed one.
 */
export function createInputInterceptor(): Interceptor {
  return (next) => async (request) => {
    if (!request.stream) {
      checkStrings(request.method.input, request.message);
      return next(request);
    }
    const messages = request.message;
    const input = request.method.input;
    return next({
      ...request,
      message: (async function* () {
        for await (const message of messages) {
          checkStrings(input, message);
          yield message;
        }
      })(),
    });
  };
}

export function checkStrings(desc: DescMessage, message: unknown): void {
  const field = fieldWithNul(reflect(desc, message as never), "");
  if (field) throw AppError.invalid(field, "must not contain NUL characters");
}

const hasNul = (value: unknown): boolean => typeof value === "string" && value.includes("\0");

/** The JSON path (`tags`, `roleBindings[0].selector`) of the first string holding NUL. */
function fieldWithNul(message: ReflectMessage, prefix: string): string | undefined {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const name = `${prefix}${field.jsonName}`;
    switch (field.fieldKind) {
      case "scalar":
        if (field.scalar === ScalarType.STRING && hasNul(message.get(field))) return name;
        break;
      case "message": {
        const found = fieldWithNul(message.get(field), `${name}.`);
        if (found) return found;
        break;
      }
      case "list": {
        let index = 0;
        for (const item of message.get(field)) {
          if (field.listKind === "scalar" && hasNul(item)) return `${name}[${index}]`;
          if (field.listKind === "message") {
            const found = fieldWithNul(item as ReflectMessage, `${name}[${index}].`);
            if (found) return found;
          }
          index++;
        }
        break;
      }
      case "map":
        for (const [key, value] of message.get(field)) {
          if (hasNul(key)) return name;
          if (field.mapKind === "scalar" && hasNul(value)) return `${name}.${String(key)}`;
          if (field.mapKind === "message") {
            const found = fieldWithNul(value as ReflectMessage, `${name}.${String(key)}.`);
            if (found) return found;
          }
        }
        break;
      default:
        break;
    }
  }
  return undefined;
}
