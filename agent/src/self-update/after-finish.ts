/**
 * Runs `action` once the command's result has had time to leave on the stream: the executor
 * sends CommandFinished right after the handler returns, and the agent's graceful stop (SIGTERM)
 * flushes the stream before it ends it.
 */
export type AfterFinish = (action: () => void) => void;

export const afterFinish: AfterFinish = (action) => {
  setTimeout(action, 1500);
};

/** Asks this process to stop the way systemd or the supervisor would (flush, then exit 0). */
export function stopThisAgent(): void {
  process.kill(process.pid, "SIGTERM");
}
