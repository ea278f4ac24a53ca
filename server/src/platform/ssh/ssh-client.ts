import net from "node:net";
import { Client, type ConnectConfig, type SFTPWrapper } from "ssh2";
import type { Logger } from "../logging/logger.js";
import { hostKeyAlgorithm, hostKeyFingerprint } from "./host-key.js";
import { shellQuote } from "./shell-quote.js";
import { describeTarget, SshError, unreachableError } from "./ssh-error.js";
import { collectExec, type ExecResult, withTimeout } from "./ssh-exec.js";

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

/** Exactly one of password or privateKey (with its passphrase when the key is encrypted). */
export type SshCredentials =
  | { readonly kind: "password"; readonly password: string }
  | { readonly kind: "private_key"; readonly privateKey: string; readonly passphrase?: string };

/** Each phase has its own limit, so a black-holed port, a stuck handshake and a hung command all end. */
export interface SshTimeouts {
  /** TCP connect (SYN answered). */
  readonly connectMs: number;
  /** SSH handshake and authentication, counted from the TCP connection. */
  readonly handshakeMs: number;
  /** A command's default limit (exec can set its own). */
  readonly commandMs: number;
  /** An upload's default limit. */
  readonly transferMs: number;
}

export const defaultSshTimeouts: SshTimeouts = {
  connectMs: 10_000,
  handshakeMs: 20_000,
  commandMs: 120_000,
  transferMs: 600_000,
};

export interface PresentedHostKey {
  /** `SHA256:…` as OpenSSH prints it. */
  readonly fingerprint: string;
  readonly algorithm: string;
}

export interface ExecOptions {
  readonly timeoutMs?: number;
  /** stdout and stderr are each kept up to this many bytes (the rest is counted, not kept). */
  readonly maxOutputBytes?: number;
  readonly stdin?: string | Buffer;
}

export interface UploadOptions {
  readonly mode: number;
  readonly timeoutMs?: number;
}

export interface SshConnection {
  readonly target: SshTarget;
  readonly hostKey: PresentedHostKey;
  /** Runs argv (quoted by shellQuote: no argument is ever interpreted by the remote shell). */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Writes a local file (path) or bytes to remotePath over SFTP and sets its mode. */
  upload(
    source: { readonly path: string } | { readonly data: Buffer },
    remotePath: string,
    options: UploadOptions,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  readonly target: SshTarget;
  readonly credentials: SshCredentials;
  /** The pinned fingerprint; null accepts the first key presented (pin on first contact). */
  readonly pinnedHostKey: string | null;
  readonly signal?: AbortSignal;
}

/** The one SSH client of the server: everything that talks SSH goes through a connector. */
export interface SshConnector {
  connect(options: ConnectOptions): Promise<SshConnection>;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;

export function createSshConnector(
  options: { readonly timeouts?: Partial<SshTimeouts>; readonly logger?: Logger } = {},
): SshConnector {
  const timeouts = { ...defaultSshTimeouts, ...options.timeouts };
  return {
    async connect(connect) {
      const socket = await openSocket(connect.target, timeouts.connectMs, connect.signal);
      return handshake(socket, connect, timeouts, options.logger);
    },
  };
}

function openSocket(target: SshTarget, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const fail = (error: SshError) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new SshError(
            "unreachable",
            `${target.host}:${target.port} did not answer within ${Math.round(timeoutMs / 1000)} s (timeout); check the address, the port and any firewall in between`,
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => fail(new SshError("connection_lost", "the connection attempt was cancelled"));
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => fail(unreachableError(target, error)));
  });
}

function authConfig(credentials: SshCredentials): Partial<ConnectConfig> {
  if (credentials.kind === "password") return { password: credentials.password, tryKeyboard: true };
  return { privateKey: credentials.privateKey, passphrase: credentials.passphrase };
}

function handshake(
  socket: net.Socket,
  options: ConnectOptions,
  timeouts: SshTimeouts,
  logger: Logger | undefined,
): Promise<SshConnection> {
  const { target } = options;
  const client = new Client();
  let presented: PresentedHostKey | undefined;
  let mismatch = false;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: SshError) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      client.end();
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(new SshError("connection_lost", "the connection attempt was cancelled"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) => {
      finish(
        prompts.map(() => (options.credentials.kind === "password" ? options.credentials.password : "")),
      );
    });
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      if (!presented) {
        client.end();
        reject(new SshError("host_key_mismatch", "the host presented no host key"));
        return;
      }
      resolve(createConnection(client, target, presented, timeouts, logger));
    });
    client.on("error", (error: Error & { level?: string }) => {
      fail(
        classifyHandshakeError(target, error, {
          mismatch,
          presented,
          pinned: options.pinnedHostKey,
          timeouts,
        }),
      );
    });
    client.once("close", () =>
      fail(
        new SshError(
          "unreachable",
          `${target.host}:${target.port} closed the connection during the SSH handshake; check that it is an SSH server`,
        ),
      ),
    );
    try {
      client.connect({
        sock: socket,
        username: target.username,
        readyTimeout: timeouts.handshakeMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer) => {
          presented = { fingerprint: hostKeyFingerprint(key), algorithm: hostKeyAlgorithm(key) };
          mismatch = options.pinnedHostKey !== null && presented.fingerprint !== options.pinnedHostKey;
          return !mismatch;
        },
        ...authConfig(options.credentials),
      });
    } catch (error) {
      // ssh2 parses the private key synchronously: a bad key or passphrase lands here.
      fail(
        new SshError(
          "auth_failed",
          `the private key cannot be used (${(error as Error).message}); paste the whole key file, and give its passphrase if it has one`,
          { cause: error },
        ),
      );
    }
  });
}

function classifyHandshakeError(
  target: SshTarget,
  error: Error & { level?: string; code?: string },
  state: { mismatch: boolean; presented?: PresentedHostKey; pinned: string | null; timeouts: SshTimeouts },
): SshError {
  if (state.mismatch && state.presented) {
    return new SshError(
      "host_key_mismatch",
      `the host key of ${target.host}:${target.port} changed: it presented ${state.presented.algorithm} ${state.presented.fingerprint}, but ${state.pinned} is pinned. This can mean someone is intercepting the connection. If the host was reinstalled, verify the new key on its console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and accept it`,
      { cause: error, presentedHostKey: state.presented },
    );
  }
  if (error.level === "client-authentication") {
    return new SshError(
      "auth_failed",
      `${describeTarget(target)} refused the credentials; check the user name and the password or key (is the public key in ~/.ssh/authorized_keys?)`,
      { cause: error },
    );
  }
  if (error.level === "client-timeout") {
    return new SshError(
      "unreachable",
      `${target.host}:${target.port} accepted the connection but did not complete the SSH handshake within ${Math.round(state.timeouts.handshakeMs / 1000)} s (timeout); check that the port is an SSH server and the host is not overloaded`,
      { cause: error },
    );
  }
  if (error.level === "client-socket" || error.code) {
    return unreachableError(target, error as NodeJS.ErrnoException);
  }
  return new SshError(
    "unreachable",
    `the SSH handshake with ${target.host}:${target.port} failed: ${error.message}`,
    { cause: error },
  );
}

function createConnection(
  client: Client,
  target: SshTarget,
  hostKey: PresentedHostKey,
  timeouts: SshTimeouts,
  logger: Logger | undefined,
): SshConnection {
  let closed = false;
  const closedPromise = new Promise<void>((resolve) =>
    client.once("close", () => {
      closed = true;
      resolve();
    }),
  );
  client.on("error", (error) =>
    logger?.debug({ err: error, target: describeTarget(target) }, "ssh connection error"),
  );
  let sftp: Promise<SFTPWrapper> | undefined;
  const openSftp = () => {
    sftp ??= new Promise((resolve, reject) =>
      client.sftp((error, wrapper) =>
        error
          ? reject(
              new SshError(
                "transfer_failed",
                `the host refused SFTP (${error.message}); enable the sftp subsystem in sshd_config`,
                { cause: error },
              ),
            )
          : resolve(wrapper),
      ),
    );
    return sftp;
  };
  const lost = () =>
    new SshError(
      "connection_lost",
      `the SSH connection to ${describeTarget(target)} was lost; check the host and retry`,
    );

  /** SFTP calls may never call back once the connection is gone: end them with the connection. */
  const untilClosed = <T>(work: Promise<T>): Promise<T> => {
    const closedError = closedPromise.then((): never => {
      throw lost();
    });
    closedError.catch(() => undefined);
    return Promise.race([work, closedError]);
  };

  return {
    target,
    hostKey,
    exec(argv, execOptions = {}) {
      if (closed) return Promise.reject(lost());
      const command = shellQuote(argv);
      const timeoutMs = execOptions.timeoutMs ?? timeouts.commandMs;
      const maxBytes = execOptions.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
      return new Promise<ExecResult>((resolve, reject) => {
        client.exec(command, (error, channel) => {
          if (error) {
            reject(
              new SshError("connection_lost", `the host refused to run ${argv[0]}: ${error.message}`, {
                cause: error,
              }),
            );
            return;
          }
          collectExec(
            channel,
            { timeoutMs, maxBytes, stdin: execOptions.stdin, name: argv[0] ?? "" },
            closedPromise,
          ).then(resolve, reject);
        });
      });
    },
    async upload(source, remotePath, uploadOptions) {
      if (closed) throw lost();
      const wrapper = await untilClosed(openSftp());
      const timeoutMs = uploadOptions.timeoutMs ?? timeouts.transferMs;
      await withTimeout(
        untilClosed(
          new Promise<void>((resolve, reject) => {
            const done = (error: Error | null | undefined) =>
              error
                ? reject(
                    new SshError(
                      "transfer_failed",
                      `uploading ${remotePath} failed: ${error.message}; check free space and permissions in its directory`,
                      { cause: error },
                    ),
                  )
                : resolve();
            if ("path" in source)
              wrapper.fastPut(source.path, remotePath, { mode: uploadOptions.mode, concurrency: 32 }, done);
            else wrapper.writeFile(remotePath, source.data, { mode: uploadOptions.mode }, done);
          }),
        ),
        timeoutMs,
        () =>
          new SshError(
            "transfer_failed",
            `uploading ${remotePath} did not finish within ${Math.round(timeoutMs / 1000)} s (timeout); check the network to the host`,
          ),
      );
      await untilClosed(
        new Promise<void>((resolve, reject) =>
          wrapper.chmod(remotePath, uploadOptions.mode, (error) =>
            error
              ? reject(
                  new SshError(
                    "transfer_failed",
                    `setting the mode of ${remotePath} failed: ${error.message}`,
                    { cause: error },
                  ),
                )
              : resolve(),
          ),
        ),
      );
    },
    async close() {
      if (closed) return;
      client.end();
      await withTimeout(closedPromise, 5_000, () => new Error("close timed out")).catch(() =>
        client.destroy(),
      );
    },
  };
}
