/**
 * Turns what a terminal was sent into the plain text a person saw, for the recordings' search:
 * escape sequences (CSI such as colours and cursor moves, OSC such as window titles, DCS and the
 * other string commands, two-byte ESC sequences) are removed, carriage returns become line
 * breaks, a backspace takes back the character before it, and other control characters go.
 *
 * It is a state machine fed piece by piece: a sequence cut between two pieces (the terminal
 * stream arrives in arbitrary chunks) is still removed whole.
 */
export interface TerminalTextFilter {
  /** The plain text of `data`, given everything fed before it. */
  push(data: string): string;
}

type State = "text" | "esc" | "escIntermediate" | "csi" | "string" | "stringEsc";

const ESC = 0x1b;
const BEL = 0x07;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** What ends a run of text copied whole: any control character but line feed and tab. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const RUN_END = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function createTerminalTextFilter(): TerminalTextFilter {
  let state: State = "text";
  let pendingCr = false;

  return {
    push(data) {
      if (state === "text" && !pendingCr && !CONTROL.test(data)) return data;
      const out: string[] = [];
      for (let i = 0; i < data.length; i++) {
        const c = data.charCodeAt(i);
        switch (state) {
          case "text":
            if (pendingCr) {
              pendingCr = false;
              if (c === 0x0a) {
                out.push("\n");
                continue;
              }
              out.push("\n");
            }
            if (c === 0x0a || c === 0x09 || (c >= 0x20 && (c < 0x7f || c > 0x9f))) {
              // Printed text (lines of output, mostly) is copied a run at a time, not per character.
              RUN_END.lastIndex = i;
              const end = RUN_END.exec(data)?.index ?? data.length;
              out.push(data.slice(i, end));
              i = end - 1;
            } else if (c === ESC) state = "esc";
            else if (c === 0x9b) state = "csi";
            else if (c === 0x90 || c === 0x9d || c === 0x9e || c === 0x9f || c === 0x98) state = "string";
            else if (c === 0x0d) pendingCr = true;
            else if (c === 0x08) {
              // Takes back the last character, not across a line break.
              const last = out[out.length - 1];
              if (last !== undefined && !last.endsWith("\n")) {
                if (last.length <= 1) out.pop();
                else out[out.length - 1] = last.slice(0, -1);
              }
            }
            break;
          case "esc":
            if (c === 0x5b) state = "csi";
            else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) state = "string";
            else if (c >= 0x20 && c <= 0x2f) state = "escIntermediate";
            else state = c === ESC ? "esc" : "text";
            break;
          case "escIntermediate":
            if (c < 0x20 || c > 0x2f) state = "text";
            break;
          case "csi":
            // Parameters and intermediates are 0x20-0x3f; the final byte ends the sequence.
            if (c >= 0x40 && c <= 0x7e) state = "text";
            else if (c === ESC) state = "esc";
            else if (c < 0x20 && c !== 0x1b) {
              // A control character inside CSI is executed by terminals; a line break still counts.
              if (c === 0x0a) out.push("\n");
            }
            break;
          case "string":
            if (c === BEL || c === 0x9c) state = "text";
            else if (c === ESC) state = "stringEsc";
            break;
          case "stringEsc":
            state = c === 0x5c ? "text" : c === ESC ? "stringEsc" : "string";
            break;
        }
      }
      return out.join("");
    },
  };
}
