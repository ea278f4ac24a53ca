/** The agent link's states, named as the operator reads them in the logs. */
export type LinkState = "idle" | "connecting" | "handshaking" | "connected" | "backing_off" | "stopped";

const allowed: Readonly<Record<LinkState, readonly LinkState[]>> = {
  idle: ["connecting", "stopped"],
  connecting: ["handshaking", "backing_off", "stopped"],
  handshaking: ["connected", "backing_off", "stopped"],
  // connected → connecting: a deliberate reconnect (a renewed certificate), no backoff.
  connected: ["backing_off", "connecting", "stopped"],
  backing_off: ["connecting", "stopped"],
  stopped: [],
};

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: LinkState,
    readonly to: LinkState,
  ) {
    super(`the agent link cannot go from ${from} to ${to}`);
    this.name = "InvalidTransitionError";
  }
}

export interface LinkStateMachine {
  readonly state: LinkState;
  /** When the current state was entered (clock milliseconds). */
  readonly enteredAt: number;
  /** Throws InvalidTransitionError for a transition the table does not allow. */
  transition(to: LinkState): void;
}

export function createLinkStateMachine(options: {
  now: () => number;
  onChange?: (from: LinkState, to: LinkState) => void;
}): LinkStateMachine {
  let state: LinkState = "idle";
  let enteredAt = options.now();
  return {
    get state() {
      return state;
    },
    get enteredAt() {
      return enteredAt;
    },
    transition(to) {
      if (!allowed[state].includes(to)) throw new InvalidTransitionError(state, to);
      const from = state;
      state = to;
      enteredAt = options.now();
      options.onChange?.(from, to);
    },
  };
}
