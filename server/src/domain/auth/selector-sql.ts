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

function requirementCondition(tags: AnyPgColumn | SQL, requirement: Requirement): SQL {
  const value = sql`${tags} ->> ${requirement.key}`;
  switch (requirement.op) {
    case "eq":
      return contains(tags, requirement.key, requirement.value);
    case "ne":
      return sql`${value} is distinct from ${requirement.value}`;
    case "in":
      return sql.join(
        requirement.values.map((v) => contains(tags, requirement.key, v)),
        sql` or `,
      );
    case "notin":
      return sql`${value} is null or ${value} not in (${sql.join(
        requirement.values.map((v) => sql`${v}`),
        sql`, `,
      )})`;
    case "exists":
      return sql`${value} is not null`;
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
