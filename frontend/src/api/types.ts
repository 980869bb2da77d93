// Shapes of the backend's JSON API (see /api/schema/). Only what the client reads.

export interface Movie {
  id: number;
  title: string;
  year: number | null;
  genres: string[];
  overview: string;
  poster_url: string | null;
  vote_average: number | null;
  vote_count: number | null;
  runtime: number | null;
  original_language: string;
  score: number | null;
  reason: string;
  /** The film has left the catalog since this conversation showed it. */
  removed?: boolean;
}

export interface ChatFilters {
  genres: string[];
  year_min: number | null;
  year_max: number | null;
  min_rating: number | null;
  language: string;
}

export interface ChatRequest {
  message: string;
  conversation_id?: string | null;
  filters?: ChatFilters;
  limit?: number;
}

export interface MetaEvent {
  conversation_id: string;
  intent: string;
  movies: Movie[];
  degraded: boolean;
  notices: string[];
}

export interface DoneEvent {
  conversation_id: string;
  message_id: number;
  reply: string;
  reply_source: string;
  replaced: boolean;
  degraded: boolean;
  notices: string[];
}

export interface StreamErrorEvent {
  code: string;
  message: string;
}

export type ChatEvent =
  | { type: "meta"; data: MetaEvent }
  | { type: "token"; data: { text: string } }
  | { type: "done"; data: DoneEvent }
  | { type: "error"; data: StreamErrorEvent };

export interface StoredFeedback {
  movie_id: number | null;
  rating: -1 | 1;
}

export interface StoredMessage {
  id: number;
  role: "user" | "assistant";
  content: string;
  created_at: string;
  intent?: string;
  reply_source?: string;
  degraded?: boolean;
  movies?: Movie[];
  feedback?: StoredFeedback[];
}

export interface Conversation {
  id: string;
  title: string;
  messages: StoredMessage[];
}

export interface MovieList {
  count: number;
  mode: string;
  degraded: boolean;
  notice: string;
  results: Movie[];
}

export interface MapPoint {
  id: number;
  title: string;
  year: number | null;
  genre: string;
  x: number;
  y: number;
}

export interface CatalogMap {
  method: string;
  count: number;
  points: MapPoint[];
}
