// Small display helpers for film facts, shared by the movie cards. English UI, so English formats.

const LOCALE = "en";

const numberFormat = new Intl.NumberFormat(LOCALE);
const ratingFormat = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** 148 → "2 h 28 min", 60 → "1 h", 45 → "45 min"; null for a missing or non-positive runtime. */
export function formatRuntime(minutes: number | null | undefined): string | null {
  if (minutes == null || !Number.isFinite(minutes) || minutes <= 0) return null;
  const total = Math.round(minutes);
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** 7.812 → "7.8". */
export function formatRating(average: number): string {
  return ratingFormat.format(average);
}

/** 12345 → "12,345 votes", 1 → "1 vote". */
export function formatVotes(count: number): string {
  return `${numberFormat.format(count)} ${count === 1 ? "vote" : "votes"}`;
}

let languageNames: Intl.DisplayNames | null | undefined;

/** "fr" → "French"; unknown codes come back upper-cased; "" → null. */
export function languageName(code: string | null | undefined): string | null {
  const trimmed = (code ?? "").trim();
  if (!trimmed) return null;
  if (languageNames === undefined) {
    try {
      languageNames = new Intl.DisplayNames([LOCALE], { type: "language" });
    } catch {
      languageNames = null;
    }
  }
  try {
    const name = languageNames?.of(trimmed);
    if (name && name.toLowerCase() !== trimmed.toLowerCase()) return name;
  } catch {
    // not a valid BCP 47 code (TMDB uses "xx" for "no language"): show the code itself
  }
  return trimmed.toUpperCase();
}

/** True when the original language is something other than English. */
export function isForeignLanguage(code: string | null | undefined): boolean {
  const trimmed = (code ?? "").trim().toLowerCase();
  return trimmed !== "" && trimmed !== "en" && !trimmed.startsWith("en-");
}

/** "Heat (1995)", or just the title when the year is unknown. */
export function titleWithYear(title: string, year: number | null | undefined): string {
  return year ? `${title} (${year})` : title;
}
