// The one client of the backend API. Every call either resolves with data or throws ApiError,
// whose `kind` tells the UI which state to show (network error, rate limit, bad request...).

import { SseParser } from "./sse";
import type {
  CatalogMap,
  ChatEvent,
  ChatRequest,
  Conversation,
  MetaEvent,
  Movie,
  MovieList,
} from "./types";

export type ApiErrorKind = "network" | "rate_limited" | "unavailable" | "not_found" | "invalid" | "server";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly code: string;
  /** Seconds to wait before retrying (from Retry-After), when the server said. */
  readonly retryAfter: number | null;
  /** Field name → messages, for 400 responses. */
  readonly fields: Record<string, string[]>;

  constructor(
    kind: ApiErrorKind,
    message: string,
    options: { status?: number; code?: string; retryAfter?: number | null; fields?: Record<string, string[]> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = options.status ?? 0;
    this.code = options.code ?? kind;
    this.retryAfter = options.retryAfter ?? null;
    this.fields = options.fields ?? {};
  }
}

function csrfToken(): string | null {
  const match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

function kindOf(status: number): ApiErrorKind {
  if (status === 429) return "rate_limited";
  if (status === 404) return "not_found";
  if (status === 503 || status === 502 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "invalid";
  return "server";
}

function retryAfterSeconds(response: Response): number | null {
  const header = response.headers.get("Retry-After");
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Turn a non-2xx response into an ApiError carrying the backend's message. */
async function errorFrom(response: Response): Promise<ApiError> {
  let message = `The server answered ${response.status} ${response.statusText}.`.replace(" .", ".");
  let code: string | undefined;
  let fields: Record<string, string[]> = {};
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: { fields?: Record<string, string[]> } };
    };
    if (body.error?.message) message = body.error.message;
    code = body.error?.code;
    fields = body.error?.details?.fields ?? {};
  } catch {
    // not JSON (a proxy's page): keep the status line
  }
  const retryAfter = retryAfterSeconds(response);
  if (response.status === 429 && retryAfter !== null) {
    message = `Too many requests: please wait ${retryAfter} s and try again.`;
  }
  return new ApiError(kindOf(response.status), message, {
    status: response.status,
    code,
    retryAfter,
    fields,
  });
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  if (init.body !== undefined) {
    headers.set("Content-Type", "application/json");
    const token = csrfToken();
    if (token) headers.set("X-CSRFToken", token);
  }
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...init, headers });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError("network", "Cannot reach Marquee: check your connection and that the server is running.");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await request(path, signal ? { signal } : {});
  return (await response.json()) as T;
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await request(path, { method: "POST", body: JSON.stringify(body) });
  return (await response.json()) as T;
}

/** A card for a film the catalog no longer has, or a partial one: every field present. */
export function normalizeMovie(raw: Partial<Movie> & { id: number; title: string }): Movie {
  return {
    id: raw.id,
    title: raw.title,
    year: raw.year ?? null,
    genres: raw.genres ?? [],
    overview: raw.overview ?? "",
    poster_url: raw.poster_url ?? null,
    vote_average: raw.vote_average ?? null,
    vote_count: raw.vote_count ?? null,
    runtime: raw.runtime ?? null,
    original_language: raw.original_language ?? "",
    score: raw.score ?? null,
    reason: raw.reason ?? "",
    ...(raw.removed ? { removed: true } : {}),
  };
}

export interface StreamOptions {
  signal?: AbortSignal;
  onEvent: (event: ChatEvent) => void;
}

/**
 * One chat turn over server-sent events. Resolves after `done` or `error`; throws ApiError when
 * the request is refused or the connection drops first, and AbortError when `signal` fires.
 */
export async function chatStream(body: ChatRequest, { signal, onEvent }: StreamOptions): Promise<void> {
  const response = await request("/api/chat/stream/", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { Accept: "text/event-stream" },
    ...(signal ? { signal } : {}),
  });
  if (!response.body) throw new ApiError("network", "The server sent no reply stream.");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  const deliver = (text: string, last = false) => {
    for (const message of [...parser.push(text), ...(last ? parser.end() : [])]) {
      const type = message.event;
      if (type !== "meta" && type !== "token" && type !== "done" && type !== "error") continue;
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        continue; // a malformed event is skipped, not fatal
      }
      if (type === "meta") {
        const meta = data as MetaEvent;
        meta.movies = (meta.movies ?? []).map(normalizeMovie);
        onEvent({ type, data: meta });
      } else {
        onEvent({ type, data } as ChatEvent);
      }
      if (type === "done" || type === "error") finished = true;
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      deliver(decoder.decode(value, { stream: true }));
    }
    deliver(decoder.decode(), true);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    throw new ApiError("network", "The connection was lost while the reply was streaming.");
  }
  if (!finished) {
    throw new ApiError("network", "The connection closed before the reply finished.");
  }
}

export async function getConversation(id: string, signal?: AbortSignal): Promise<Conversation> {
  const conversation = await getJson<Conversation>(`/api/conversations/${encodeURIComponent(id)}/`, signal);
  for (const message of conversation.messages) {
    if (message.movies) message.movies = message.movies.map(normalizeMovie);
  }
  return conversation;
}

export async function getSimilar(movieId: number, limit = 8, signal?: AbortSignal): Promise<MovieList> {
  const list = await getJson<MovieList>(`/api/movies/${movieId}/similar/?limit=${limit}`, signal);
  return { ...list, results: list.results.map(normalizeMovie) };
}

export async function getMovie(movieId: number, signal?: AbortSignal): Promise<Movie> {
  return normalizeMovie(await getJson<Movie>(`/api/movies/${movieId}/`, signal));
}

export interface FeedbackInput {
  message_id: number;
  movie_id?: number | null;
  rating: -1 | 1;
  comment?: string;
}

export async function sendFeedback(input: FeedbackInput): Promise<{ id: number; rating: number }> {
  return postJson("/api/feedback/", input);
}

export async function getCatalogMap(signal?: AbortSignal): Promise<CatalogMap> {
  return getJson<CatalogMap>("/api/catalog/map/", signal);
}
