import { type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Requirement, Selector } from "./selector.js";

/** The selector as a SQL condition on a jsonb tags column, with every value bound as a parameter. */
export function selectorCondition(tags: AnyPgColumn | SQL, selector: Selector): SQL {
  if (selector.requirements.length === 0) return sql`true`;
  return sql.join(
    selector.requirements.map((requirement) => sql`(${requirementCondition(tags, requirement)})`),
    sql` and `,
  );
}

/** `tags` holds key=value: jsonb containment, which the GIN index on tags answers (tag values are strings). */
function contains(tags: AnyPgColumn | SQL, key: string, value: string): SQL {
  return sql`${tags} @> ${JSON.stringify({ [key]: value })}::jsonb`;
}

/** `$."key" ? (@ == "v1" || @ == "v2")`: the key's value is one of the values. */
function inPath(key: string, values: readonly string[]): string {
  const alternatives = values.map((value) => `@ == ${JSON.stringify(value)}`).join(" || ");
  return `$.${JSON.stringify(key)} ? (${alternatives})`;
}

function requirementCondition(tags: AnyPgColumn | SQL, requirement: Requirement): SQL {
  const value = sql`${tags} ->> ${requirement.key}`;
  switch (requirement.op) {
    case "eq":
      return contains(tags, requirement.key, requirement.value);
    case "ne":
      return sql`${value} is distinct from ${requirement.value}`;
    case "in":
      // One jsonpath with the values ORed, which the GIN index on tags answers in one scan (an OR
      // of containments made PostgreSQL read every row). Keys and values are JSON-quoted.
      return sql`${tags} @? ${inPath(requirement.key, requirement.values)}::jsonpath`;
    case "notin":
      return sql`${value} is null or ${value} not in (${sql.join(
        requirement.values.map((v) => sql`${v}`),
        sql`, `,
      )})`;
    case "exists":
      // jsonb's key-exists operator, which the GIN index on tags answers (`->> key is not null` reads every row).
      return sql`${tags} ? ${requirement.key}`;
    case "absent":
      return sql`${value} is null`;
  }
}

/** Any of several selectors (an access scope made of several bindings). */
export function anySelectorCondition(tags: AnyPgColumn | SQL, selectors: readonly Selector[]): SQL {
  if (selectors.length === 0) return sql`false`;
  return sql.join(
    selectors.map((selector) => sql`(${selectorCondition(tags, selector)})`),
    sql` or `,
  );
}
