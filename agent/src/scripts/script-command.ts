import { access, constants } from "node:fs/promises";
import type { ScriptRun } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { CommandError } from "../commands/command-handler.js";

/** $0 of every shell run (the server's preview shows the same). */
export const SCRIPT_NAME = "ocore-template";

const INTERPRETERS = new Set(["bash", "sh", "python3"]);
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The interpreter's argv for a script: the script is ONE argument, the values follow as further
 * arguments. Nothing is ever joined into a string a shell parses (server:
 * domain/templates/render-for-host.ts, interpreterCommand, builds the same for the preview).
 */
export function interpreterArgs(run: Pick<ScriptRun, "interpreter" | "script" | "argv">): string[] {
  return run.interpreter === "python3"
    ? ["-c", run.script, ...run.argv]
    : ["-c", run.script, SCRIPT_NAME, ...run.argv];
}

/** Absolute path of an allowed interpreter, from the system's fixed directories (never $PATH). */
export async function findInterpreter(name: string): Promise<string> {
  if (!INTERPRETERS.has(name)) {
    throw new CommandError("invalid_argument", `interpreter ${name} is not one of bash, sh, python3`);
  }
  for (const dir of ["/usr/bin", "/bin", "/usr/local/bin"]) {
    const candidate = `${dir}/${name}`;
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next directory
    }
  }
  throw new CommandError(
    "interpreter_missing",
    `${name} is not installed on this host (looked in /usr/bin, /bin, /usr/local/bin)`,
  );
}

/** Re-checks what the server validated: a spec that fails here was not made by oCore's server. */
export function checkScriptRun(run: ScriptRun): void {
  const bad = (message: string): never => {
    throw new CommandError("invalid_argument", message);
  };
  if (run.script === "" || run.script.includes("\0")) bad("script is empty or contains NUL");
  for (const arg of run.argv) if (arg.includes("\0")) bad("an argument contains NUL");
  for (const [name, value] of Object.entries(run.env)) {
    if (!ENV_NAME.test(name)) bad(`environment name ${name.slice(0, 70)} is not [A-Z_][A-Z0-9_]*`);
    if (value.includes("\0")) bad(`environment value of ${name} contains NUL`);
  }
  if (!USER.test(run.runAs)) bad(`run_as ${run.runAs.slice(0, 40)} is not a user name`);
  if (run.timeoutSeconds < 1 || run.timeoutSeconds > 86_400) bad("timeout_seconds must be 1 to 86400");
  for (const path of run.writePaths)
    if (!/^\/[A-Za-z0-9._/@+-]*$/.test(path) || path.split("/").includes(".."))
      bad(`write path ${path.slice(0, 80)} is not a plain absolute path`);
}
