import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../../platform/config/config-error.js";
import type { RequestHandler } from "./http-server.js";

export interface ConsoleHandler {
  readonly handle: RequestHandler;
  close(): Promise<void>;
}

interface NextServer {
  prepare(): Promise<void>;
  getRequestHandler(): (request: unknown, response: unknown) => Promise<void>;
  close(): Promise<void>;
}

/** The web/ package next to this server: server/dist/http → ../../../web. */
export function defaultWebDir(): string {
  return path.resolve(new URL("../../../../web", import.meta.url).pathname);
}

/**
 * Serves the production build of the console from this process, so the browser talks to one
 * origin for pages and API alike. Next.js is loaded from the web package, not the server's
 * own dependencies: the server runs without it when the console is off.
 */
export async function createConsoleHandler(webDir: string): Promise<ConsoleHandler> {
  if (!existsSync(path.join(webDir, ".next", "BUILD_ID"))) {
    throw new ConfigError(
      "OCORE_CONSOLE",
      `the console is not built (no ${path.join(webDir, ".next")})`,
      "Run `npm run build` first, or set OCORE_CONSOLE=off to serve only the API.",
    );
  }
  const requireFromWeb = createRequire(path.join(webDir, "package.json"));
  const nextModule = (await import(pathToFileURL(requireFromWeb.resolve("next")).href)) as {
    default: (options: { dev: boolean; dir: string; quiet: boolean }) => NextServer;
  };
  const app = nextModule.default({ dev: false, dir: webDir, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  return {
    handle: (request, response) => {
      // Next.js decodes the path and answers a malformed one (`/servers/%zz`) with a 500.
      if (!decodablePath(request.url ?? "/")) {
        response.statusCode = 400;
        response.setHeader("content-type", "text/html; charset=utf-8");
        response.setHeader("cache-control", "no-store");
        response.end(BAD_ADDRESS_PAGE);
        return;
      }
      void handle(request, response);
    },
    close: () => app.close(),
  };
}

function decodablePath(url: string): boolean {
  try {
    for (const segment of (url.split("?", 1)[0] ?? "").split("/")) decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

const BAD_ADDRESS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad address · oCore</title></head>
<body><h1>This address is not valid</h1>
<p>It holds a "%" that is not followed by two hexadecimal digits. <a href="/">Go to the console</a>.</p>
</body></html>
`;
