/** A per-second rate; a counter that went backwards (wrap, device re-added) reads as 0. */
export function ratePerSecond(now: number, before: number, seconds: number): number {
  return seconds > 0 && now >= before ? (now - before) / seconds : 0;
}
