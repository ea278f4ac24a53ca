// Entry of the child process that prepareEmbeddedDatabase starts on a first start: creates the
// embedded database in the directory given as the only argument and applies the migrations.
import { createDatabase } from "./database.js";

async function main(dir: string | undefined): Promise<void> {
  if (!dir) throw new Error("usage: create-embedded-database-main.js DIRECTORY");
  const database = createDatabase({ kind: "pglite", dir });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
