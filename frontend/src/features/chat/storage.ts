// What the chat keeps in the browser: the conversation id (so a reload finds the history)
// and the filters. Storage can be unavailable (private mode, disabled): then nothing persists.

import type { ChatFilters } from "../../api/types";

const CONVERSATION_KEY = "marquee.conversationId";
const FILTERS_KEY = "marquee.filters";

export const NO_FILTERS: ChatFilters = {
  genres: [],
  year_min: null,
  year_max: null,
  min_rating: null,
  language: "",
};

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // storage full or disabled: the chat still works, it just won't survive a reload
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function loadConversationId(): string | null {
  const value = read(CONVERSATION_KEY);
  return value && UUID.test(value) ? value : null;
}

export function saveConversationId(id: string | null): void {
  write(CONVERSATION_KEY, id);
}

function year(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 1870 && value <= 2100 ? value : null;
}

export function loadFilters(): ChatFilters {
  const raw = read(FILTERS_KEY);
  if (!raw) return NO_FILTERS;
  try {
    const value = JSON.parse(raw) as Partial<Record<keyof ChatFilters, unknown>>;
    const rating = value.min_rating;
    return {
      genres: Array.isArray(value.genres) ? value.genres.filter((g): g is string => typeof g === "string") : [],
      year_min: year(value.year_min),
      year_max: year(value.year_max),
      min_rating: typeof rating === "number" && rating >= 0 && rating <= 10 ? rating : null,
      language: typeof value.language === "string" ? value.language : "",
    };
  } catch {
    return NO_FILTERS;
  }
}

export function saveFilters(filters: ChatFilters): void {
  write(FILTERS_KEY, JSON.stringify(filters));
}
