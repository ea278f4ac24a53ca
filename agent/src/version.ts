import { readFileSync } from "node:fs";

/** Set by the executable's build (esbuild `define`); absent when running from src/ or dist/. */
declare const OCORE_AGENT_BUILD_VERSION: string | undefined;

/** The agent's release version: baked into the executable, else from its package.json (src/ and dist/). */
export function readAgentVersion(): string {
  if (typeof OCORE_AGENT_BUILD_VERSION === "string") return OCORE_AGENT_BUILD_VERSION;
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return version;
}
