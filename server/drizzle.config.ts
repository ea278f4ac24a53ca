import { defineConfig } from "drizzle-kit";

// `npm run generate` (drizzle-kit generate) turns schema changes into a new committed SQL
// migration; CI regenerates and fails when schema.ts and the migrations disagree.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/platform/db/schema",
  out: "./src/platform/db/migrations",
  casing: "snake_case",
});
