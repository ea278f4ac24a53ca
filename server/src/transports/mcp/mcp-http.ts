import type { IncomingMessage, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Authenticator } from "../../domain/authentication/authenticate.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { credentialsOf } from "../api/auth-gate.js";
import type { NodeHandler } from "../http/api-adapter.js";
import { createMcpToolServer, type McpDeps } from "./mcp-tools.js";

export const MCP_PATH = "/mcp";
export const PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource";

/**
 * The MCP endpoint, Streamable HTTP, stateless (a new MCP server per request, JSON answers):
 * POST /mcp with `Authorization: Bearer <API token or access token>`. Without valid credentials
 * it answers 401 with the `WWW-Authenticate` header the MCP authorization spec asks for, pointing
 * at the protected-resource metadata served next to it. Cookies are not accepted here.
 */
export function createMcpHandler(
  deps: McpDeps & {
    readonly authenticator: Authenticator;
    readonly logger: Logger;
    readonly publicUrl?: string;
  },
): NodeHandler {
  const baseOf = (request: IncomingMessage) =>
    deps.publicUrl ?? `http://${request.headers.host ?? "localhost"}`;
  return (anyRequest, anyResponse) => {
    const request = anyRequest as IncomingMessage;
    const response = anyResponse as ServerResponse;
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path?.startsWith(PROTECTED_RESOURCE_PATH)) {
      const base = baseOf(request);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          resource: `${base}${MCP_PATH}`,
          bearer_methods_supported: ["header"],
          authorization_servers: [],
          resource_name: "oCore",
        }),
      );
      return;
    }
    if (path !== MCP_PATH) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    handleMcp(request, response).catch((error: unknown) => {
      deps.logger.error({ err: error }, "MCP request failed");
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end("internal error\n");
    });
  };

  async function handleMcp(request: IncomingMessage, response: ServerResponse) {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers))
      if (typeof value === "string") headers.set(name, value);
    const meta = {
      sourceIp: request.socket?.remoteAddress ?? "",
      userAgent: headers.get("user-agent") ?? "",
      secureTransport: false,
    };
    const { bearer } = credentialsOf(headers, meta);
    const refuse = (description: string) => {
      response.writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": `Bearer resource_metadata="${baseOf(request)}${PROTECTED_RESOURCE_PATH}${MCP_PATH}", error="invalid_token", error_description="${description}"`,
      });
      response.end(JSON.stringify({ error: "invalid_token", error_description: description }));
    };
    if (!bearer) return refuse("send an oCore API token as Authorization: Bearer");
    let principal: Awaited<ReturnType<Authenticator["authenticate"]>>;
    try {
      principal = await deps.authenticator.authenticate({
        bearer,
        sourceIp: meta.sourceIp,
        userAgent: meta.userAgent,
      });
    } catch (error) {
      if (error instanceof AppError && error.code === "unauthenticated") return refuse(error.message);
      throw error;
    }
    if (!principal) return refuse("send an oCore API token as Authorization: Bearer");
    if (principal.mustChangePassword) return refuse("change your one-time password first");
    const audit = {
      actor: { type: principal.kind, id: principal.id, name: principal.name },
      sourceIp: meta.sourceIp,
      userAgent: meta.userAgent,
    };
    const server = createMcpToolServer(deps, principal, audit);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    response.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  }
}
