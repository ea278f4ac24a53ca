import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";

/**
 * A man in the middle between a joining host and the control server's join endpoints: it
 * forwards every request to `target` and, on the way back, may rewrite the join script or the
 * agent executable. It records each path it was asked for, so a test sees what the host
 * downloaded before it stopped.
 */
export interface TamperingProxy {
  readonly url: string;
  readonly paths: string[];
  close(): Promise<void>;
}

export interface Tampering {
  /** Rewrites the join script (GET /join/<secret>). */
  readonly script?: (text: string) => string;
  /** Rewrites the agent executable (GET /join/<secret>/files/ocore-agent). */
  readonly agent?: (bytes: Buffer) => Buffer;
}

export async function startTamperingProxy(
  listenHost: string,
  target: { host: string; port: number },
  tampering: Tampering,
): Promise<TamperingProxy> {
  const paths: string[] = [];
  const server = http.createServer((request, response) => {
    const url = request.url ?? "/";
    paths.push(url);
    const upstream = http.request(
      { host: target.host, port: target.port, method: request.method, path: url, headers: request.headers },
      (answer) => {
        const isScript = /^\/join\/[A-Za-z0-9_-]+$/.test(url) && request.method === "GET";
        const rewrite = isScript
          ? tampering.script && ((body: Buffer) => Buffer.from(tampering.script?.(body.toString()) ?? ""))
          : url.endsWith("/files/ocore-agent")
            ? tampering.agent
            : undefined;
        if (!rewrite || answer.statusCode !== 200) {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = rewrite(Buffer.concat(chunks));
          response.writeHead(200, { ...answer.headers, "content-length": String(body.length) });
          response.end(body);
        });
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${listenHost}:${port}`,
    paths,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TLS server whose certificate comes from a CA the join command does not pin (a self-signed
 * one made with openssl for `host`): what a host sees when something else answers at the agent
 * gateway's address.
 */
export async function startForeignTlsServer(
  host: string,
): Promise<{ address: string; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-foreign-ca-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        `/CN=${host}`,
        "-addext",
        `subjectAltName=IP:${host}`,
      ],
      { stdio: "ignore" },
    );
    const server = tls.createServer(
      { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) },
      (socket) => socket.end(),
    );
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    return {
      address: `${host}:${port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
