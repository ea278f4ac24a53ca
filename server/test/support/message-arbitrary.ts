import { create, type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

/**
 * Strings a careless or hostile client sends: empty, huge, control characters, path and SQL
 * tricks, selector and pattern syntax, wrong-looking ids, and plain random text.
 */
const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "a".repeat(5_000),
      "x".repeat(70_000),
      "\u0000",
      "line\nbreak",
      "../../etc/passwd",
      "'; drop table servers; --",
      "%s%n%x",
      "*",
      "env in (",
      "tag=",
      "!=",
      "name=web,env!=prod",
      "(((((",
      "00000000-0000-0000-0000-000000000000",
      "not-a-uuid",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "http://",
      "https://example.invalid:99999/x",
      "user@",
      "ssh-ed25519 AAAA",
      "-----BEGIN CERTIFICATE-----",
      "\u202e\u0301",
      "😀".repeat(100),
    ),
  },
  { weight: 1, arbitrary: fc.uuid() },
);

const int32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, -1, 1, 2 ** 31 - 1, -(2 ** 31)),
);
const uint32 = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 32 - 1));
const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)),
);
const uint64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 2n ** 64n - 1n));
const double = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308),
);

function scalar(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return nastyString;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return double;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return uint64;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return uint32;
    default:
      return int32;
  }
}

/** One value of a field's element type (a map value, a list element, or the field itself). */
function element(
  field: Pick<DescField, "fieldKind"> & Partial<DescField>,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar as ScalarType);
    case "enum": {
      const numbers = (field.enum?.values ?? []).map((value) => value.number);
      // Known values mostly, and now and then one the contract does not have.
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...(numbers.length > 0 ? numbers : [0])) },
        { weight: 1, arbitrary: fc.constantFrom(-1, Math.max(0, ...numbers) + 1, 2 ** 31 - 1) },
      );
    }
    case "message":
      return messageInit(field.message as DescMessage, depth + 1);
    default:
      return fc.constant(undefined);
  }
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalar(field.scalar)
          : field.listKind === "enum"
            ? element({ fieldKind: "enum", enum: field.enum }, depth)
            : messageInit(field.message, depth + 1);
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(item, { maxLength: 4 }) },
        { weight: 1, arbitrary: fc.array(item, { minLength: 200, maxLength: 1_200 }) },
      );
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalar(field.scalar)
          : field.mapKind === "enum"
            ? element({ fieldKind: "enum", enum: field.enum }, depth)
            : messageInit(field.message, depth + 1);
      const key = scalar(field.mapKey).map((k) => (typeof k === "bigint" ? k.toString() : k));
      return fc.dictionary(key as fc.Arbitrary<string>, value, { maxKeys: 4 });
    }
    default:
      return element(field, depth);
  }
}

/**
 * Random, often invalid, values for a message's init shape: each field set or not, oneofs with
 * one random case, nested messages two levels deep. The server must answer every one of them with
 * a clear client error or a success, never `internal`.
 */
export function messageInit(desc: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (depth > 2) return fc.constant({});
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of desc.members) {
    if (member.kind === "oneof") {
      const cases = member.fields.map((field) =>
        fieldValue(field, depth).map((value) => ({ case: field.localName, value })),
      );
      parts[member.localName] = fc.oneof(fc.constant({ case: undefined }), ...cases);
    } else {
      parts[member.localName] = fieldValue(member, depth);
    }
  }
  return fc.record(parts, { requiredKeys: [] });
}

/** A message of the given type built from random values. */
export function messageArbitrary(desc: DescMessage): fc.Arbitrary<Message> {
  return messageInit(desc).map((init) => create(desc, init as never));
}
