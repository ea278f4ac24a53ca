import { readFileSync } from "node:fs";

/** The server's release version, from its package.json (works from src/ and dist/). */
export function readServerVersion(): string {
  const file = new URL("../package.json", import.meta.url);
  const { version } = JSON.parse(readFileSync(file, "utf8")) as { version: string };
  return version;
}
