import { useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type { Movie } from "../../api/types";
import { formatRating, formatRuntime, formatVotes, isForeignLanguage, languageName, titleWithYear } from "./format";
import { Poster } from "./Poster";
import "./movies.css";

export interface MovieCardProps {
  movie: Movie;
  /** The rating the user gave this pick, if any. */
  feedback?: -1 | 1 | null;
  /** Shows the thumbs up/down buttons. */
  onFeedback?: (rating: -1 | 1) => void;
  /** Shows the "More like this" button. */
  onMoreLikeThis?: (movie: Movie) => void;
  /** When set, the thumbs are shown disabled with this explanation as their tooltip. */
  feedbackDisabledReason?: string;
  /** An error to show under the actions (e.g. the feedback could not be saved). */
  feedbackError?: string | null;
}

/** Overviews longer than this get a "Show more" button when the layout cannot be measured. */
const LONG_OVERVIEW = 150;
const STATUS_MS = 2500;

type CopyOutcome = "Copied" | "Shared" | "Couldn't copy" | null;

/** Copy through a hidden textarea: the last resort where the Clipboard API is missing (plain http). */
function legacyCopy(text: string): boolean {
  if (typeof document.execCommand !== "function") return false;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  try {
    area.select();
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

async function shareOrCopy(movie: Movie): Promise<CopyOutcome> {
  const text = titleWithYear(movie.title, movie.year);
  if (typeof navigator.share === "function") {
    try {
      await navigator.share({ title: movie.title, text });
      return "Shared";
    } catch (error) {
      // The user closed the share sheet: nothing to report. Anything else: try the clipboard.
      if (error instanceof DOMException && error.name === "AbortError") return null;
    }
  }
  if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
    try {
      await navigator.clipboard.writeText(text);
      return "Copied";
    } catch {
      // permission refused: fall through
    }
  }
  return legacyCopy(text) ? "Copied" : "Couldn't copy";
}

// Outline thumbs (after Feather icons, MIT): emoji fonts are missing on some systems.
const THUMB_PATHS = {
  up: "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3",
  down: "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17",
} as const;

function ThumbIcon({ direction }: { direction: "up" | "down" }) {
  return (
    <svg
      className="movie-thumb-icon"
      viewBox="0 0 24 24"
      width="18"
      height="18"
      aria-hidden="true"
      focusable="false"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d={THUMB_PATHS[direction]} />
    </svg>
  );
}

function Overview({ text }: { text: string }) {
  const id = useId();
  const ref = useRef<HTMLParagraphElement>(null);
  const [expanded, setExpanded] = useState(false);
  // null until the browser could measure the clamped paragraph (never, in jsdom).
  const [measured, setMeasured] = useState<boolean | null>(null);
  const overflows = measured ?? text.length > LONG_OVERVIEW;

  useLayoutEffect(() => {
    const element = ref.current;
    if (!element || expanded) return;
    const measure = () => {
      if (element.clientHeight === 0) return; // no layout (hidden, or a test DOM)
      setMeasured(element.scrollHeight > element.clientHeight + 1);
    };
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [text, expanded]);

  return (
    <div className="movie-overview">
      <p id={id} ref={ref} className={expanded ? "movie-overview-text" : "movie-overview-text is-clamped"}>
        {text}
      </p>
      {overflows || expanded ? (
        <button
          type="button"
          className="movie-link-button"
          aria-expanded={expanded}
          aria-controls={id}
          onClick={() => setExpanded((value) => !value)}
        >
          {expanded ? "Show less" : "Show more"}
        </button>
      ) : null}
    </div>
  );
}

/** One recommended film: poster, facts, why it was picked, and what the user can do with it. */
export function MovieCard({
  movie,
  feedback = null,
  onFeedback,
  onMoreLikeThis,
  feedbackDisabledReason,
  feedbackError,
}: MovieCardProps) {
  const headingId = useId();
  const [copyStatus, setCopyStatus] = useState<string>("");
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const copy = async () => {
    const outcome = await shareOrCopy(movie);
    if (timer.current) clearTimeout(timer.current);
    if (!outcome) {
      setCopyStatus("");
      return;
    }
    setCopyStatus(outcome);
    timer.current = setTimeout(() => setCopyStatus(""), STATUS_MS);
  };

  const runtime = formatRuntime(movie.runtime);
  const language = isForeignLanguage(movie.original_language) ? languageName(movie.original_language) : null;
  const hasRating = movie.vote_average != null && (movie.vote_count == null || movie.vote_count > 0);
  const reason = movie.reason.trim();
  const overview = movie.overview.trim();

  return (
    <article className={movie.removed ? "movie-card is-removed" : "movie-card"} aria-labelledby={headingId}>
      <div className="movie-card-top">
        <Poster movie={movie} size="card" />
        <div className="movie-card-head">
          <h3 id={headingId} className="movie-title">
            {movie.title}
          </h3>
          <ul className="movie-facts">
            {movie.year ? (
              <li>
                <span className="visually-hidden">Year: </span>
                {movie.year}
              </li>
            ) : null}
            {runtime ? (
              <li>
                <span className="visually-hidden">Runtime: </span>
                {runtime}
              </li>
            ) : null}
            {language ? (
              <li>
                <span className="visually-hidden">Original language: </span>
                {language}
              </li>
            ) : null}
          </ul>
          {hasRating && movie.vote_average != null ? (
            <p className="movie-rating">
              <span className="visually-hidden">Rating: </span>
              <span className="movie-rating-value">
                <span aria-hidden="true">★ </span>
                {formatRating(movie.vote_average)}
              </span>
              {movie.vote_count != null ? (
                <span className="movie-votes"> ({formatVotes(movie.vote_count)})</span>
              ) : null}
            </p>
          ) : null}
          {movie.genres.length > 0 ? (
            <ul className="movie-genres" aria-label="Genres">
              {movie.genres.map((genre) => (
                <li key={genre} className="movie-genre">
                  {genre}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      </div>

      {reason ? <p className="movie-reason">{reason}</p> : null}
      {overview ? <Overview text={overview} /> : null}

      {movie.removed ? (
        <p className="movie-removed-note">No longer in the catalog</p>
      ) : (
        <>
          <div className="movie-actions">
            {onMoreLikeThis ? (
              <button
                type="button"
                className="btn btn-small"
                aria-describedby={headingId}
                onClick={() => onMoreLikeThis(movie)}
              >
                More like this
              </button>
            ) : null}
            {onFeedback ? (
              <span className="movie-thumbs">
                <button
                  type="button"
                  className="btn btn-small movie-thumb"
                  aria-pressed={feedback === 1}
                  aria-label={`Good pick: ${movie.title}`}
                  title={feedbackDisabledReason ?? "Good pick"}
                  disabled={Boolean(feedbackDisabledReason)}
                  onClick={() => onFeedback(1)}
                >
                  <ThumbIcon direction="up" />
                </button>
                <button
                  type="button"
                  className="btn btn-small movie-thumb"
                  aria-pressed={feedback === -1}
                  aria-label={`Not for me: ${movie.title}`}
                  title={feedbackDisabledReason ?? "Not for me"}
                  disabled={Boolean(feedbackDisabledReason)}
                  onClick={() => onFeedback(-1)}
                >
                  <ThumbIcon direction="down" />
                </button>
              </span>
            ) : null}
            <button type="button" className="btn btn-small" aria-describedby={headingId} onClick={() => void copy()}>
              Copy title
            </button>
            <span className="movie-copy-status" aria-live="polite">
              {copyStatus}
            </span>
          </div>
          {feedbackError ? (
            <p className="movie-card-error" role="alert">
              {feedbackError}
            </p>
          ) : null}
        </>
      )}
    </article>
  );
}
