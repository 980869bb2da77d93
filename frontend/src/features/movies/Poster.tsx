import { useState } from "react";
import type { Movie } from "../../api/types";
import { genreColor } from "./genreColors";
import "./movies.css";

// Intrinsic sizes (2:3, like TMDB posters) so the layout does not jump while images load.
const SIZES = {
  card: { width: 112, height: 168 },
  small: { width: 64, height: 96 },
} as const;

/** Only http(s) or same-origin URLs are used as image sources. */
function safeUrl(url: string | null): string | null {
  if (!url) return null;
  const trimmed = url.trim();
  return /^(https?:)?\/\//i.test(trimmed) || trimmed.startsWith("/") ? trimmed : null;
}

/**
 * A film's poster, or — when there is none or it fails to load (offline, TMDB down) — a
 * placeholder in the colour of the film's first genre showing its title and year.
 */
export function Poster({ movie, size = "card" }: { movie: Movie; size?: "card" | "small" }) {
  const src = safeUrl(movie.poster_url);
  // Remember which URL failed, so a new poster_url gets its own chance to load.
  const [failedSrc, setFailedSrc] = useState<string | null>(null);
  const { width, height } = SIZES[size];
  const className = `poster poster-${size}`;

  if (!src || failedSrc === src) {
    return (
      <div
        className={`${className} poster-placeholder`}
        role="img"
        aria-label={`No poster: ${movie.title}`}
        style={{ backgroundColor: genreColor(movie.genres[0]) }}
      >
        <span className="poster-placeholder-title">{movie.title}</span>
        {movie.year ? <span className="poster-placeholder-year">{movie.year}</span> : null}
      </div>
    );
  }

  return (
    <img
      className={className}
      src={src}
      alt={`Poster of ${movie.title}`}
      width={width}
      height={height}
      loading="lazy"
      decoding="async"
      onError={() => setFailedSrc(src)}
    />
  );
}
