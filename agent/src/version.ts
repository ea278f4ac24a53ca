import { readFileSync } from "node:fs";

/** The agent's release version, from its package.json (works from src/ and dist/). */
export function readAgentVersion(): string {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return version;
}
