import type { FinalState } from "./command-records.js";

/** One thing an agent (or the delivery) reported about a command, to be stored. */
export type JournalEntry =
  | { readonly kind: "sent"; readonly commandId: string; readonly at: Date }
  | { readonly kind: "started"; readonly commandId: string; readonly at: Date }
  | {
      readonly kind: "output";
      readonly commandId: string;
      readonly sequence: number;
      /** 1 stdout, 2 stderr, 3 progress. */
      readonly stream: number;
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "finished";
      readonly commandId: string;
      readonly state: FinalState;
      readonly exitCode: number;
      readonly errorCode: string | null;
      readonly errorMessage: string | null;
      readonly resultType: string | null;
      readonly result: Uint8Array | null;
      readonly at: Date;
    };

export type OutputEntry = Extract<JournalEntry, { kind: "output" }>;

/** What one commit changed, for the live feed and waiters. */
export interface Committed {
  readonly started: readonly string[];
  readonly output: readonly OutputEntry[];
  /** Commands this commit really ended (a late second "finished" is not listed). */
  readonly finished: ReadonlyArray<{ readonly commandId: string; readonly state: FinalState }>;
}
