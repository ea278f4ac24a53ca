const UNITS: readonly { unit: Intl.RelativeTimeFormatUnit; seconds: number }[] = [
  { unit: "year", seconds: 365 * 86_400 },
  { unit: "month", seconds: 30 * 86_400 },
  { unit: "week", seconds: 7 * 86_400 },
  { unit: "day", seconds: 86_400 },
  { unit: "hour", seconds: 3_600 },
  { unit: "minute", seconds: 60 },
];

/**
 * Says how long ago (or how far ahead) `date` is from `now` in the largest unit that fits, rounded:
 * "just now" within 45 seconds, then "5 minutes ago", "yesterday", "3 weeks ago"…
 */
export function formatRelativeTime(date: Date, now: Date, locale = "en"): string {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  if (Math.abs(seconds) < 45) return "just now";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const match = UNITS.find((candidate) => Math.abs(seconds) >= candidate.seconds) ?? UNITS[UNITS.length - 1];
  if (!match) return "just now";
  return format.format(Math.round(seconds / match.seconds), match.unit);
}
