/**
 * The timer behind the live feeds (WatchFleet, FollowAuditLog): one per process, reading what
 * changed in the database every `tickMs` while anyone watches, and never two reads at once.
 */
export interface ChangeTicker {
  /** Reads now. A tick asked for while a read runs gets one more read after it (coalesced). */
  tick(): Promise<void>;
  /** Starts the timer when `watched()` says someone watches and it is not running yet. */
  schedule(): void;
  /** Stops the timer (the last watcher left); `schedule` starts it again. */
  pause(): void;
  /** Stops for good. */
  close(): void;
}

export function createChangeTicker(options: {
  readonly tickMs: number;
  readonly read: () => Promise<void>;
  readonly watched: () => boolean;
  readonly onError: (error: unknown) => void;
}): ChangeTicker {
  const { tickMs, read, watched, onError } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  function tick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await read().catch(onError);
      } while (again && !closed);
      running = undefined;
    })();
    return running;
  }

  function schedule(): void {
    if (closed || timer || !watched()) return;
    timer = setTimeout(() => {
      void tick().finally(() => {
        timer = undefined;
        schedule();
      });
    }, tickMs);
    timer.unref();
  }

  function pause(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
  }

  return {
    tick,
    schedule,
    pause,
    close() {
      closed = true;
      pause();
    },
  };
}

/**
 * Parks a feed's watcher until the ticker's read wakes it (calls `watcher.wake`) or `signal`
 * aborts; either way it resolves and `wake` is cleared.
 */
export function waitForWake(watcher: { wake: (() => void) | undefined }, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      watcher.wake = undefined;
      signal.removeEventListener("abort", done);
      resolve();
    };
    watcher.wake = done;
    signal.addEventListener("abort", done, { once: true });
  });
}
