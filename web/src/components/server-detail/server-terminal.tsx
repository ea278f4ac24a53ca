"use client";

import "@xterm/xterm/css/xterm.css";
import { createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { readCookie } from "@/lib/cookies";
import { CSRF_COOKIE } from "@/lib/session-interceptors";
import {
  describeClose,
  inputFrames,
  parseServerMessage,
  resizeFrame,
  startFrame,
  terminalUrl,
} from "@/lib/terminal";

type Phase =
  | { kind: "connecting" }
  | { kind: "choose"; logins: string[] }
  | { kind: "open"; login: string }
  | { kind: "ended"; message: string };

/**
 * A shell on the server in the browser (xterm.js), through the SSH gateway's own path: the same
 * RBAC, limits, audit and recording as `ssh -p 2222`. One WebSocket per session; the terminal
 * fits its box and tells the host its size.
 */
export function ServerTerminal(props: { serverId: string; onClose: () => void }) {
  const [attempt, setAttempt] = useState(0);
  return <TerminalSession key={attempt} {...props} onReconnect={() => setAttempt((value) => value + 1)} />;
}

function TerminalSession({
  serverId,
  onClose,
  onReconnect,
}: {
  serverId: string;
  onClose: () => void;
  onReconnect: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const transport = useTransport();
  const [phase, setPhase] = useState<Phase>({ kind: "connecting" });
  const [notice, setNotice] = useState<string>();
  const [login, setLogin] = useState<string>();

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let disposed = false;
    let socket: WebSocket | undefined;
    let cleanup: (() => void) | undefined;
    setPhase({ kind: "connecting" });
    setNotice(undefined);
    (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([
        import("@xterm/xterm"),
        import("@xterm/addon-fit"),
      ]);
      // Any API call refreshes an expired access cookie first; the socket cannot do that itself.
      await createClient(AuthService, transport)
        .getCurrentUser({})
        .catch(() => undefined);
      if (disposed) return;
      const terminal = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000, convertEol: false });
      const fit = new FitAddon();
      terminal.loadAddon(fit);
      terminal.open(element);
      fit.fit();
      const ws = new WebSocket(terminalUrl(window.location, readCookie(document.cookie, CSRF_COOKIE) ?? ""));
      socket = ws;
      ws.binaryType = "arraybuffer";
      let ended = false;
      const end = (message: string) => {
        if (ended) return;
        ended = true;
        setPhase({ kind: "ended", message });
      };
      ws.onopen = () => ws.send(startFrame(serverId, login, terminal.cols, terminal.rows));
      ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
        if (typeof event.data !== "string") {
          terminal.write(new Uint8Array(event.data));
          return;
        }
        const message = parseServerMessage(event.data);
        if (!message) return;
        if (message.type === "logins") setPhase({ kind: "choose", logins: message.logins });
        else if (message.type === "ready") {
          setPhase({ kind: "open", login: message.login });
          terminal.focus();
        } else if (message.type === "notice") setNotice(message.message);
        else
          end(
            message.code === null ? "The session ended." : `The session ended (exit status ${message.code}).`,
          );
      };
      ws.onclose = (event) => end(describeClose(event.code, event.reason));
      const typed = terminal.onData((data) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        for (const frame of inputFrames(data)) ws.send(frame);
      });
      const showSize = () => {
        element.dataset.cols = String(terminal.cols);
        element.dataset.rows = String(terminal.rows);
      };
      showSize();
      const resized = terminal.onResize(({ cols, rows }) => {
        showSize();
        if (ws.readyState === WebSocket.OPEN) ws.send(resizeFrame(cols, rows));
      });
      const observer = new ResizeObserver(() => fit.fit());
      observer.observe(element);
      cleanup = () => {
        observer.disconnect();
        typed.dispose();
        resized.dispose();
        terminal.dispose();
      };
    })().catch((error: unknown) => {
      if (!disposed) setPhase({ kind: "ended", message: `The terminal could not start: ${String(error)}` });
    });
    return () => {
      disposed = true;
      socket?.close(1000);
      cleanup?.();
    };
  }, [serverId, login, transport]);

  return (
    <section
      className="space-y-2 rounded-lg border border-line bg-surface p-3"
      aria-label="Terminal"
      data-testid="terminal-panel"
    >
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium">Terminal</span>
        <span className="text-ink-muted" data-testid="terminal-status">
          {phase.kind === "connecting"
            ? "Connecting…"
            : phase.kind === "choose"
              ? "Choose a login"
              : phase.kind === "open"
                ? `Connected as ${phase.login} · recorded`
                : "Ended"}
        </span>
        <div className="ml-auto flex gap-2">
          {phase.kind === "ended" ? (
            <Button onClick={onReconnect} data-testid="terminal-reconnect">
              Reconnect
            </Button>
          ) : null}
          <Button onClick={onClose} data-testid="terminal-close">
            Close terminal
          </Button>
        </div>
      </div>
      {phase.kind === "choose" ? (
        <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="terminal-logins">
          <span>Log in as:</span>
          {phase.logins.map((choice) => (
            <Button key={choice} onClick={() => setLogin(choice)} data-testid="terminal-login">
              {choice}
            </Button>
          ))}
        </div>
      ) : null}
      {notice || phase.kind === "ended" ? (
        <p
          role="alert"
          data-testid="terminal-message"
          className="rounded-md border border-line bg-surface-muted px-3 py-2 text-sm"
        >
          {[notice, phase.kind === "ended" ? phase.message : undefined].filter(Boolean).join(" — ")}
        </p>
      ) : null}
      <div ref={box} className="h-96 w-full overflow-hidden rounded bg-black p-1" data-testid="terminal" />
    </section>
  );
}
