import type http from "node:http";
import type http2 from "node:http2";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  createConnectRouter,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import {
  encodeEnvelope,
  pipe,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { clip } from "../../platform/errors/clip.js";
import type { Logger } from "../../platform/logging/logger.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
export type NodeHandler = (request: NodeRequest, response: NodeResponse) => void;

export interface ApiAdapterOptions {
  readonly logger: Logger;
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
  /** The largest request message read, unless a route sets its own (larger) limit. */
  readonly readMaxBytes: number;
  /** Runs once the headers are in, before any of the body is read (authentication). */
  readonly requestGate?: (context: HandlerContext) => void | Promise<void>;
  readonly contextValues?: (request: NodeRequest) => ContextValues;
  /** Everything that is not an RPC (the console, or a plain 404). */
  readonly fallback: NodeHandler;
}

/**
 * The Connect API as a Node request handler: connect-node's adapter plus what a client needs
 * when it gets something wrong. Request messages are bounded, unknown JSON fields and enum
 * values are refused, and an unknown procedure, an unsupported content type or an undecodable
 * binary message get an answer in the protocol the client spoke, with a message, instead of
 * the console's HTML 404, an empty 415 or "internal".
 */
export function createApiAdapter(options: ApiAdapterOptions): NodeHandler {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.readMaxBytes,
    jsonOptions: { ignoreUnknownFields: false },
    requestGate: options.requestGate,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) handlers.set(handler.requestPath, handler);

  return (request, response) => {
    const path = (request.url ?? "/").split("?", 1)[0] ?? "/";
    const handler = handlers.get(path);
    if (!handler) {
      if (!looksLikeRpc(request, path)) return options.fallback(request, response);
      return sendRpcError(
        request,
        response,
        new ConnectError(`${clip(path.slice(1), 200)} is not a procedure of this server`, Code.Unimplemented),
      );
    }
    const contentType = String(request.headers["content-type"] ?? "");
    if (request.method === "POST" && !handler.supportedContentType(contentType)) {
      response.setHeader(
        "accept-post",
        "application/json, application/proto, application/grpc, application/grpc-web",
      );
      return sendRpcError(
        request,
        response,
        new ConnectError(
          `content type "${clip(contentType, 100)}" is not supported: send application/json or application/proto (Connect), application/grpc or application/grpc-web`,
          Code.InvalidArgument,
        ),
        415,
      );
    }
    const universal = universalRequestFromNodeRequest(
      request,
      response,
      undefined,
      options.contextValues?.(request),
    );
    handler(universal)
      .then((answer) => reportParseFailures(answer))
      .then((answer) => universalResponseToNodeResponse(answer, response))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        options.logger.warn(
          { err: reason, procedure: path },
          "the API response could not be written (the client went away?)",
        );
      });
  };
}

const GRPC_CONTENT_TYPE = /^application\/grpc(?:-web)?(?:[+;]|$)/i;
const GRPC_WEB_CONTENT_TYPE = /^application\/grpc-web(?:[+;]|$)/i;
const CONNECT_STREAM_CONTENT_TYPE = /^application\/connect\+/i;
/** `/package.Service/Method`: the shape of every Connect and gRPC procedure path. */
const PROCEDURE_PATH = /^\/[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;

/** True when the request is an RPC by its path or by its headers, so it gets an RPC answer. */
function looksLikeRpc(request: NodeRequest, path: string): boolean {
  const contentType = String(request.headers["content-type"] ?? "");
  return (
    path.startsWith("/ocore.") ||
    PROCEDURE_PATH.test(path) ||
    GRPC_CONTENT_TYPE.test(contentType) ||
    CONNECT_STREAM_CONTENT_TYPE.test(contentType) ||
    request.headers["connect-protocol-version"] !== undefined
  );
}

/**
 * Answers with an error in the client's protocol: gRPC and gRPC-Web clients read a status from
 * (trailers-only) headers, everyone else gets a Connect JSON error.
 */
function sendRpcError(
  request: NodeRequest,
  response: NodeResponse,
  error: ConnectError,
  httpStatus?: number,
): void {
  const contentType = String(request.headers["content-type"] ?? "");
  if (GRPC_CONTENT_TYPE.test(contentType)) {
    const headers = new Headers();
    setTrailerStatus(headers, error);
    response.statusCode = 200;
    response.setHeader("content-type", contentType.split(";", 1)[0] ?? "application/grpc");
    for (const [name, value] of headers) response.setHeader(name, value);
    response.end();
    return;
  }
  const body = errorToJsonBytes(error, {});
  response.statusCode = httpStatus ?? codeToHttpStatus(error.code);
  response.setHeader("content-type", "application/json");
  response.setHeader("cache-control", "no-store");
  response.end(body);
}

/**
 * connect-es reports a binary message it cannot decode as "internal" (it uses one code for
 * reading and writing); for a request it is the client's mistake, so it becomes
 * invalid_argument here, for the Connect protocol (one JSON error body), gRPC (trailers) and
 * gRPC-Web (the trailer frame at the end of the body).
 */
async function reportParseFailures(answer: UniversalServerResponse): Promise<UniversalServerResponse> {
  const contentType = answer.header?.get("content-type") ?? "";
  if (answer.status === 500 && contentType.startsWith("application/json") && answer.body) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of answer.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    const error = errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Internal));
    if (error.code === Code.Internal && error.rawMessage.startsWith("parse binary:")) {
      const invalid = badMessage(error.rawMessage);
      const header = new Headers(answer.header);
      header.delete("content-length");
      return {
        ...answer,
        header,
        status: codeToHttpStatus(invalid.code),
        body: oneChunk(errorToJsonBytes(invalid, {})),
      };
    }
    return { ...answer, body: oneChunk(bytes) };
  }
  if (GRPC_WEB_CONTENT_TYPE.test(contentType) && answer.body) {
    return { ...answer, body: rewriteGrpcWebTrailer(answer.body as AsyncIterable<Uint8Array>) };
  }
  if (GRPC_CONTENT_TYPE.test(contentType) && answer.body && answer.trailer) {
    const trailer = answer.trailer;
    const body = answer.body as AsyncIterable<Uint8Array>;
    return {
      ...answer,
      body: (async function* () {
        yield* body;
        const message = decodeURIComponent(trailer.get("grpc-message") ?? "");
        if (trailer.get("grpc-status") === String(Code.Internal) && message.startsWith("parse binary:")) {
          setTrailerStatus(trailer, badMessage(message));
        }
      })(),
    };
  }
  return answer;
}

/** The largest frame of a gRPC-Web answer passed through: the server's own write limit. */
const GRPC_WEB_MAX_FRAME_BYTES = 0xffffffff;

/** Passes a gRPC-Web body on frame by frame, rewriting a parse failure in its trailer frame. */
async function* rewriteGrpcWebTrailer(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const envelope of pipe(body, transformSplitEnvelope(GRPC_WEB_MAX_FRAME_BYTES))) {
    if ((envelope.flags & trailerFlag) === trailerFlag) {
      const trailer = trailerParse(envelope.data);
      const message = decodeURIComponent(trailer.get("grpc-message") ?? "");
      if (trailer.get("grpc-status") === String(Code.Internal) && message.startsWith("parse binary:")) {
        setTrailerStatus(trailer, badMessage(message));
        yield encodeEnvelope(envelope.flags, trailerSerialize(trailer));
        continue;
      }
    }
    yield encodeEnvelope(envelope.flags, envelope.data);
  }
}

function badMessage(detail: string): ConnectError {
  return new ConnectError(
    `the request is not a valid protobuf message (${clip(detail.replace(/^parse binary:\s*/, ""), 200)})`,
    Code.InvalidArgument,
  );
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
