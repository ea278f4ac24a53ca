"use client";

import "asciinema-player/dist/bundle/asciinema-player.css";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { SshSessionService } from "@ocore/proto/gen/ocore/api/v1/ssh_session_service_pb.js";
import { useEffect, useRef, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { readCookie } from "@/lib/cookies";
import { CSRF_COOKIE, CSRF_HEADER } from "@/lib/session-interceptors";
import { describeOutcome, formatBytes, formatElapsed } from "@/lib/ssh-sessions";

/**
 * One session: what is known about it and its recording in asciinema-player. The recording is
 * read through GetRecording (the console's transport, so an expired access token is refreshed);
 * "Download .cast" fetches the same file from GET /api/ssh-sessions/<id>.cast, the address a
 * script would use with an API token.
 */
export function SessionReplay({ id }: { id: string }) {
  const session = useQuery(SshSessionService.method.getSession, { id });
  const transport = useTransport();
  const container = useRef<HTMLDivElement>(null);
  const [cast, setCast] = useState<string>();
  const [castError, setCastError] = useState<ConnectError>();
  const [downloadError, setDownloadError] = useState<string>();

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const parts: Uint8Array[] = [];
      for await (const piece of createClient(SshSessionService, transport).getRecording({ id })) {
        parts.push(piece.data);
      }
      const text = new TextDecoder().decode(await new Blob(parts as BlobPart[]).arrayBuffer());
      if (!cancelled) setCast(text);
    })().catch((caught: unknown) => {
      if (!cancelled) setCastError(ConnectError.from(caught));
    });
    return () => {
      cancelled = true;
    };
  }, [id, transport]);

  useEffect(() => {
    const element = container.current;
    if (!cast || !element) return;
    let disposed = false;
    let player: { dispose(): void } | undefined;
    void import("asciinema-player").then((AsciinemaPlayer) => {
      if (disposed) return;
      player = AsciinemaPlayer.create({ data: cast }, element, {
        fit: "width",
        idleTimeLimit: 2,
        preload: true,
        terminalFontSize: "small",
      });
    });
    return () => {
      disposed = true;
      player?.dispose();
    };
  }, [cast]);

  const download = async () => {
    setDownloadError(undefined);
    const csrf = readCookie(document.cookie, CSRF_COOKIE) ?? "";
    const response = await fetch(`/api/ssh-sessions/${encodeURIComponent(id)}.cast`, {
      headers: { [CSRF_HEADER]: csrf },
      credentials: "same-origin",
    });
    if (!response.ok) {
      setDownloadError(`${response.status} ${(await response.text()).trim()}`);
      return;
    }
    const name =
      /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? "session.cast";
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  if (session.error) {
    return (
      <ListError
        error={session.error}
        permission="sessions.read"
        retrying={session.isFetching}
        onRetry={() => void session.refetch()}
        testId="replay-error"
      />
    );
  }
  const info = session.data?.session;
  if (!info) return <ListSkeleton label="Loading the session…" testId="replay-loading" />;
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4" data-testid="replay-facts">
        <dt className="text-ink-muted">User</dt>
        <dd>{info.username}</dd>
        <dt className="text-ink-muted">Server · login</dt>
        <dd>
          {info.serverName} · {info.login}
        </dd>
        <dt className="text-ink-muted">Started</dt>
        <dd>{info.startedAt ? timestampDate(info.startedAt).toLocaleString() : "—"}</dd>
        <dt className="text-ink-muted">Duration</dt>
        <dd>{formatElapsed(info.durationMs)}</dd>
        <dt className="text-ink-muted">From</dt>
        <dd>{info.clientAddress || "—"}</dd>
        <dt className="text-ink-muted">Outcome</dt>
        <dd data-testid="replay-outcome">{describeOutcome(info)}</dd>
        <dt className="text-ink-muted">Kind</dt>
        <dd>
          {info.kind}
          {info.command ? `: ${info.command}` : ""}
        </dd>
        <dt className="text-ink-muted">Recording</dt>
        <dd>
          {formatBytes(info.recordingBytes)}
          {info.recordsInput ? " · keystrokes included" : " · output only"}
        </dd>
      </dl>
      <div className="flex gap-2">
        <Button onClick={() => void download()} data-testid="replay-download">
          Download .cast
        </Button>
      </div>
      {downloadError ? (
        <p role="alert" className="text-sm text-danger">
          Could not download the recording: {downloadError}
        </p>
      ) : null}
      {castError ? (
        <ActionError error={castError} action="load the recording" testId="replay-cast-error" />
      ) : null}
      {!cast && !castError ? <ListSkeleton label="Loading the recording…" /> : null}
      <div ref={container} data-testid="replay-player" className="overflow-hidden rounded-lg" />
      {info.live ? (
        <p className="text-sm text-ink-muted">
          The session is still open: this is what was recorded until now (at most a second behind).
        </p>
      ) : null}
    </div>
  );
}
