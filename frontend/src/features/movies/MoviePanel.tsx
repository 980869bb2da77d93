import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from "react";
import { ApiError, getSimilar, sendFeedback } from "../../api/client";
import type { Movie, MovieList } from "../../api/types";
import { MovieCard } from "./MovieCard";
import "./movies.css";

export interface MoviePanelProps {
  /** The current chat turn's picks. A different list (by film ids) returns to the top level. */
  movies: Movie[];
  /** The assistant message the picks belong to; null while the reply is still streaming. */
  messageId: number | null;
  /** The chat turn is in progress. */
  loading: boolean;
  /** Ratings already given for this message (movie id → rating), e.g. from a stored conversation. */
  initialFeedback?: Record<number, -1 | 1>;
  heading?: string;
  emptyHint?: string;
}

type Rating = -1 | 1;

const SIMILAR_LIMIT = 8;
const FEEDBACK_PENDING = "You can rate a pick once the reply has finished.";
const DEFAULT_EMPTY_HINT = "Ask for a film and the recommendations will appear here.";

type LevelState =
  | { status: "loading" }
  | { status: "error"; message: string }
  | { status: "ready"; list: MovieList };

interface Level {
  key: number;
  movie: Movie;
  state: LevelState;
}

interface FeedbackState {
  messageId: number | null;
  /** What the thumbs show (optimistic). */
  ratings: Record<number, Rating>;
  /** What the server accepted (or the message came with): where a failed request reverts to. */
  confirmed: Record<number, Rating>;
  errors: Record<number, string>;
}

function initialFeedbackState(messageId: number | null, initial: Record<number, Rating> | undefined): FeedbackState {
  return { messageId, ratings: { ...initial }, confirmed: { ...initial }, errors: {} };
}

function errorMessage(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.message : fallback;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

function SkeletonCards() {
  return (
    <ul className="movie-grid" aria-hidden="true">
      {[0, 1, 2].map((index) => (
        <li key={index} className="movie-card movie-skeleton">
          <div className="movie-card-top">
            <div className="poster poster-card skeleton-block" />
            <div className="movie-card-head">
              <div className="skeleton-line skeleton-line-title" />
              <div className="skeleton-line" />
              <div className="skeleton-line skeleton-line-short" />
            </div>
          </div>
          <div className="skeleton-line" />
          <div className="skeleton-line" />
        </li>
      ))}
    </ul>
  );
}

/**
 * The chat page's right-hand panel: the current picks with feedback buttons, and a drill-down
 * "More like {title}" view (with Back) fed by the similar-films endpoint.
 */
export function MoviePanel({
  movies,
  messageId,
  loading,
  initialFeedback,
  heading = "Recommendations",
  emptyHint = DEFAULT_EMPTY_HINT,
}: MoviePanelProps) {
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const focusHeading = useRef(false);
  const nextKey = useRef(1);

  // ---- drill-down stack: empty = the chat turn's picks -------------------------------------
  const [stack, setStack] = useState<Level[]>([]);
  const moviesSignature = movies.map((movie) => movie.id).join(",");
  const [shownSignature, setShownSignature] = useState(moviesSignature);
  if (shownSignature !== moviesSignature) {
    // A new chat turn: back to its picks (adjusting state while rendering, no extra paint).
    setShownSignature(moviesSignature);
    setStack([]);
  }

  const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
  const topKey = top?.key;
  const topStatus = top?.state.status;
  const topMovieId = top?.movie.id;

  const setLevelState = useCallback((key: number, state: LevelState) => {
    setStack((levels) => levels.map((level) => (level.key === key ? { ...level, state } : level)));
  }, []);

  useEffect(() => {
    if (topKey === undefined || topMovieId === undefined || topStatus !== "loading") return;
    const controller = new AbortController();
    getSimilar(topMovieId, SIMILAR_LIMIT, controller.signal).then(
      (list) => {
        if (!controller.signal.aborted) setLevelState(topKey, { status: "ready", list });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbort(error)) return;
        setLevelState(topKey, {
          status: "error",
          message: errorMessage(error, "Couldn't load similar films."),
        });
      },
    );
    return () => controller.abort();
  }, [topKey, topMovieId, topStatus, setLevelState]);

  useEffect(() => {
    if (!focusHeading.current) return;
    focusHeading.current = false;
    headingRef.current?.focus();
  }, [stack.length, topKey]);

  const moreLikeThis = useCallback((movie: Movie) => {
    focusHeading.current = true;
    const key = nextKey.current++;
    setStack((levels) => [...levels, { key, movie, state: { status: "loading" } }]);
  }, []);

  const back = () => {
    focusHeading.current = true;
    setStack((levels) => levels.slice(0, -1));
  };

  const retry = () => {
    if (topKey !== undefined) setLevelState(topKey, { status: "loading" });
  };

  // ---- feedback on the chat turn's picks ---------------------------------------------------
  const [feedback, setFeedback] = useState<FeedbackState>(() => initialFeedbackState(messageId, initialFeedback));
  if (feedback.messageId !== messageId) {
    // Another message's picks: start from what that message already has.
    setFeedback(initialFeedbackState(messageId, initialFeedback));
  }
  // The latest request per "messageId:movieId": only its failure may revert the thumbs.
  const latestRequest = useRef(new Map<string, number>());

  const rate = (movieId: number, rating: Rating) => {
    if (messageId === null) return;
    if (feedback.ratings[movieId] === rating) return; // same thumb again: keep the rating
    const forMessage = messageId;
    const requestKey = `${forMessage}:${movieId}`;
    const requestId = (latestRequest.current.get(requestKey) ?? 0) + 1;
    latestRequest.current.set(requestKey, requestId);
    setFeedback((state) => {
      if (state.messageId !== forMessage) return state;
      const errors = { ...state.errors };
      delete errors[movieId];
      return { ...state, ratings: { ...state.ratings, [movieId]: rating }, errors };
    });
    sendFeedback({ message_id: forMessage, movie_id: movieId, rating }).then(
      () => {
        setFeedback((state) =>
          state.messageId !== forMessage
            ? state
            : { ...state, confirmed: { ...state.confirmed, [movieId]: rating } },
        );
      },
      (error: unknown) => {
        if (latestRequest.current.get(requestKey) !== requestId) return; // a newer click decides
        const message = errorMessage(error, "Couldn't save your feedback. Please try again.");
        setFeedback((state) => {
          if (state.messageId !== forMessage) return state;
          const ratings = { ...state.ratings };
          const previous = state.confirmed[movieId];
          if (previous === undefined) delete ratings[movieId];
          else ratings[movieId] = previous;
          return { ...state, ratings, errors: { ...state.errors, [movieId]: message } };
        });
      },
    );
  };

  // ---- rendering -----------------------------------------------------------------------------
  let title = heading;
  let status = "";
  let body: ReactNode;

  if (!top) {
    if (movies.length > 0) {
      body = (
        <>
          {messageId === null ? <p className="movie-panel-note">{FEEDBACK_PENDING}</p> : null}
          <ul className="movie-grid">
            {movies.map((movie) => (
              <li key={movie.id}>
                <MovieCard
                  movie={movie}
                  feedback={feedback.ratings[movie.id] ?? null}
                  onFeedback={(rating) => rate(movie.id, rating)}
                  onMoreLikeThis={moreLikeThis}
                  feedbackDisabledReason={messageId === null ? FEEDBACK_PENDING : undefined}
                  feedbackError={feedback.errors[movie.id] ?? null}
                />
              </li>
            ))}
          </ul>
        </>
      );
    } else if (loading) {
      status = "Finding films…";
      body = <SkeletonCards />;
    } else {
      body = <p className="movie-panel-empty">{emptyHint}</p>;
    }
  } else {
    title = `More like ${top.movie.title}`;
    const previousTitle = stack.length > 1 ? `More like ${stack[stack.length - 2]?.movie.title}` : heading;
    const state = top.state;
    let content: ReactNode;
    if (state.status === "loading") {
      status = "Finding films…";
      content = <SkeletonCards />;
    } else if (state.status === "error") {
      content = (
        <div className="banner banner-error" role="alert">
          <span>{state.message}</span>
          <button type="button" className="btn btn-small" onClick={retry}>
            Retry
          </button>
        </div>
      );
    } else {
      const { list } = state;
      content = (
        <>
          {list.degraded ? (
            <div className="banner banner-warning">
              {list.notice || "These suggestions may be less precise than usual right now."}
            </div>
          ) : null}
          {list.results.length === 0 ? (
            <p className="movie-panel-empty">No similar films found.</p>
          ) : (
            <ul className="movie-grid">
              {list.results.map((movie) => (
                <li key={movie.id}>
                  <MovieCard movie={movie} onMoreLikeThis={moreLikeThis} />
                </li>
              ))}
            </ul>
          )}
        </>
      );
    }
    body = (
      <>
        <button type="button" className="btn btn-small movie-panel-back" onClick={back}>
          <span aria-hidden="true">←</span> Back<span className="visually-hidden"> to {previousTitle}</span>
        </button>
        {content}
      </>
    );
  }

  return (
    <section className="movie-panel" aria-labelledby={headingId}>
      <h2 id={headingId} ref={headingRef} tabIndex={-1} className="movie-panel-heading">
        {title}
      </h2>
      <div role="status" className="movie-panel-status">
        {status}
      </div>
      {body}
    </section>
  );
}
