/**
 * The deny list of ad-hoc commands (decision 0231): patterns that destroy a host, lock everyone
 * out or cut the agent off, each with why it is refused and what to do instead. It stops
 * accidents and copy-paste mistakes; it is not a security boundary (a determined user can spell a
 * command so no pattern sees it): that boundary is the `commands.adhoc` permission, the sandbox
 * and the audit log, which keeps every ad-hoc script whole.
 */
export interface DenyRule {
  /** A stable name, shown with the refusal. */
  readonly id: string;
  readonly pattern: RegExp;
  /** Why it is refused, in a sentence. */
  readonly why: string;
  /** What to do instead. */
  readonly instead: string;
}

/** A path that is the root or a top-level system directory (optionally quoted, with a trailing / or *). */
const SYSTEM_PATH = String.raw`["']?/(?:(?:bin|boot|dev|etc|home|lib|lib64|opt|root|sbin|srv|usr|var)/?)?\*?["']?(?=\s|$|;|&|\|)`;

export const DENY_RULES: readonly DenyRule[] = [
  {
    id: "recursive-delete-of-system-path",
    pattern: new RegExp(
      String.raw`\brm\s+(?:-[a-zA-Z]*\s+|--[a-z-]+\s+)*-[a-zA-Z]*[rR][a-zA-Z]*\s+(?:-\S+\s+)*${SYSTEM_PATH}`,
    ),
    why: "deletes the root or a system directory recursively, which destroys the host",
    instead: "delete the exact path you mean (e.g. /var/log/app/old), or write a reviewed template",
  },
  {
    id: "no-preserve-root",
    pattern: /--no-preserve-root\b/,
    why: "turns off rm's last guard against deleting /",
    instead: "name the exact path to delete",
  },
  {
    id: "make-filesystem",
    pattern: /\bmkfs(?:\.[a-z0-9]+)?\b|\bmke2fs\b|\bwipefs\b/,
    why: "formats a device, erasing its data",
    instead: "storage changes belong in a reviewed template run on one host at a time",
  },
  {
    id: "write-to-block-device",
    pattern: /(?:\bdd\b[^\n;|&]*\bof=|>\s*)\/dev\/(?:sd|hd|vd|xvd|nvme|mmcblk|md|dm-|mapper\/)/,
    why: "writes raw data over a disk, destroying its file systems",
    instead: "write to a file, not a device",
  },
  {
    id: "fork-bomb",
    pattern: /:\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;?\s*:/,
    why: "starts processes until the host stops responding",
    instead: "—",
  },
  {
    id: "power-off-or-reboot",
    pattern:
      /(?:^|[;&|(\s])(?:sudo\s+)?(?:shutdown|reboot|halt|poweroff|init\s+[06]|systemctl\s+(?:reboot|poweroff|halt|kexec))(?=\s|$|;|&|\|)/m,
    why: "takes hosts down at once, across the whole selection",
    instead: "reboot through a reviewed template with a canary and waves",
  },
  {
    id: "stop-the-agent",
    pattern:
      /\b(?:systemctl|service)\s+(?:stop|disable|mask|kill)\s+(?:--now\s+)?ocore-agent\b|\bpkill\b[^\n]*ocore-agent|\bkillall\b[^\n]*ocore-agent/,
    why: "cuts the host off from oCore (no command could reach it to undo this)",
    instead: "the agent is managed by oCore's own install and upgrade",
  },
  {
    id: "kill-everything",
    pattern: /\bkill\s+(?:-[A-Z0-9]+\s+|-s\s+[A-Z0-9]+\s+)*-1\b/,
    why: "signals every process the user may signal",
    instead: "name the process (pkill -x name) or the service (systemctl restart name)",
  },
  {
    id: "world-writable-system-tree",
    pattern: new RegExp(
      String.raw`\bchmod\s+(?:-[a-zA-Z]*\s+)*-[a-zA-Z]*R[a-zA-Z]*\s+(?:0?777|a\+w|o\+w)\s+${SYSTEM_PATH}`,
    ),
    why: "makes a system tree writable by everyone (breaks sshd, sudo and the host's security)",
    instead: "change the mode of the exact file you mean",
  },
  {
    id: "pipe-download-to-shell",
    pattern:
      /\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|\b(?:ba)?sh\s+<\s*\(\s*(?:curl|wget)\b/,
    why: "runs code downloaded at run time that nobody reviewed (and may differ per host)",
    instead: "download, check the checksum, then run it; or put the script in a reviewed template",
  },
  {
    id: "flush-firewall",
    pattern: /\biptables\s+(?:-t\s+\S+\s+)?-F\b|\bnft\s+flush\s+ruleset\b|\bufw\s+disable\b/,
    why: "drops every firewall rule at once (or locks everyone out, depending on the default policy)",
    instead: "change one rule, in a reviewed template",
  },
  {
    id: "root-account",
    pattern: /\b(?:passwd|usermod\s+[^\n]*-[pL])\s+root\b|\buserdel\s+(?:-\S+\s+)*root\b/,
    why: "changes or locks the root account",
    instead: "account changes belong in a reviewed template",
  },
  {
    id: "erase-crontab",
    pattern: /\bcrontab\s+(?:-u\s+\S+\s+)?-r\b/,
    why: "erases a user's whole crontab without a copy",
    instead: "edit the one entry (crontab -l, change, crontab file)",
  },
];

export interface Violation {
  readonly rule: DenyRule;
  /** The line that matched (cut to 120 characters). */
  readonly excerpt: string;
}

/** The deny rules a script breaks, each with the line it matched. */
export function deniedBy(script: string): Violation[] {
  const violations: Violation[] = [];
  for (const rule of DENY_RULES) {
    const match = rule.pattern.exec(script);
    if (!match) continue;
    const start = script.lastIndexOf("\n", match.index) + 1;
    const end = script.indexOf("\n", match.index);
    const line = script.slice(start, end === -1 ? undefined : end).trim();
    violations.push({ rule, excerpt: line.length > 120 ? `${line.slice(0, 117)}…` : line });
  }
  return violations;
}
