/** Who acted, as the audit log records it. */
export interface Actor {
  readonly type: "user" | "token" | "agent" | "system";
  readonly id: string;
  readonly name: string;
}

/** What every state change needs to record itself: who, from where. */
export interface AuditContext {
  readonly actor: Actor;
  readonly sourceIp: string;
  readonly userAgent: string;
}

export const systemActor: Actor = { type: "system", id: "", name: "system" };

export function systemContext(): AuditContext {
  return { actor: systemActor, sourceIp: "", userAgent: "" };
}
