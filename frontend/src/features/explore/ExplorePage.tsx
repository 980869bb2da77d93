// Explore: the whole catalog on a 2D map (PCA of the films' embeddings), coloured by genre.
// Hover a dot for its title, click it (or find it by title) to open its card beside the map.

import { type RefObject, useCallback, useDeferredValue, useEffect, useId, useMemo, useRef, useState } from "react";
import { ApiError, getCatalogMap, getMovie } from "../../api/client";
import type { Movie } from "../../api/types";
import { MovieCard } from "../movies/MovieCard";
import "./explore.css";
import { MapCanvas, type MapCanvasHandle } from "./MapCanvas";
import { type PreparedMap, prepareMap, searchTitles, titleWithYear } from "./mapData";

const SEARCH_LIMIT = 8;

type MapState = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; map: PreparedMap };

type MovieState =
  | { status: "loading" }
  | { status: "error"; message: string; missing: boolean }
  | { status: "ready"; movie: Movie };

/** The card's state, for the film it was loaded for. */
type LoadedMovie = MovieState & { id: number };

interface Selection {
  index: number;
  /** Where the selection came from: focus goes to the card after a search, stays on the map after a click. */
  from: "map" | "search";
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

function messageOf(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.message : fallback;
}

function EmptyCatalog() {
  return (
    <div className="explore-empty">
      <h2>The catalog is empty</h2>
      <p>There are no films to place on the map yet. Load a catalog from the project folder, for example:</p>
      <pre>
        <code>make data SOURCE=demo</code>
        {"\n"}
        <code>make data SOURCE=tmdb-csv DATA=path/to/top10K-TMDB-movies.csv</code>
      </pre>
      <p>
        <code>make help</code> lists the other sources. Then reload this page: the map is drawn from whatever
        the catalog holds.
      </p>
    </div>
  );
}

function Legend({
  map,
  hidden,
  onToggle,
  onShowAll,
}: {
  map: PreparedMap;
  hidden: ReadonlySet<number>;
  onToggle: (slot: number) => void;
  onShowAll: () => void;
}) {
  return (
    <div className="explore-legend" role="group" aria-label="Genres shown on the map">
      <ul className="explore-legend-list">
        {map.genres.map((genre, slot) => (
          <li key={genre.genre}>
            <button
              type="button"
              className="explore-legend-item"
              aria-pressed={!hidden.has(slot)}
              title={hidden.has(slot) ? `Show ${genre.label}` : `Hide ${genre.label}`}
              onClick={() => onToggle(slot)}
            >
              <span className="explore-swatch" aria-hidden="true" style={{ ["--swatch" as string]: genre.color }} />
              <span className="explore-legend-label">{genre.label}</span>
              <span className="explore-legend-count">
                <span className="visually-hidden">, </span>
                {genre.count.toLocaleString("en")}
                <span className="visually-hidden">{genre.count === 1 ? " film" : " films"}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      {hidden.size > 0 ? (
        <button type="button" className="btn btn-small explore-show-all" onClick={onShowAll}>
          Show all genres
        </button>
      ) : null}
    </div>
  );
}

function FilmSearch({
  map,
  onPick,
  inputRef,
}: {
  map: PreparedMap;
  onPick: (index: number) => void;
  inputRef: RefObject<HTMLInputElement | null>;
}) {
  const inputId = useId();
  const resultsId = useId();
  const [query, setQuery] = useState("");
  const deferred = useDeferredValue(query);
  const matches = useMemo(() => searchTitles(map, deferred, SEARCH_LIMIT), [map, deferred]);
  const listRef = useRef<HTMLUListElement>(null);
  // The results close when focus leaves the search (a click on the map), and come back with it.
  const [expanded, setExpanded] = useState(true);
  const open = expanded && deferred.trim().length > 0;

  const pick = (index: number) => {
    setQuery("");
    onPick(index);
  };

  const focusResult = (position: number) => {
    const buttons = listRef.current?.querySelectorAll<HTMLButtonElement>("button");
    if (!buttons || buttons.length === 0) return;
    if (position < 0) inputRef.current?.focus();
    else buttons[Math.min(position, buttons.length - 1)]?.focus();
  };

  return (
    <div
      className="explore-search"
      onFocus={() => setExpanded(true)}
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setExpanded(false);
      }}
      onKeyDown={(event) => {
        if (event.key === "Escape" && query) {
          event.preventDefault();
          setQuery("");
          inputRef.current?.focus();
        }
      }}
    >
      <label htmlFor={inputId} className="explore-search-label">
        Find a film on the map
      </label>
      <input
        id={inputId}
        ref={inputRef}
        type="search"
        className="explore-search-input"
        autoComplete="off"
        spellCheck={false}
        placeholder="Title…"
        aria-describedby={resultsId}
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setExpanded(true);
        }}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown") {
            event.preventDefault();
            focusResult(0);
          } else if (event.key === "Enter" && matches[0] !== undefined) {
            event.preventDefault();
            pick(matches[0]);
          }
        }}
      />
      <div id={resultsId} className="visually-hidden" aria-live="polite">
        {open ? (matches.length === 0 ? "No film matches." : `${matches.length} matching films.`) : ""}
      </div>
      {open ? (
        <div className="explore-search-results">
          {matches.length === 0 ? (
            <p className="explore-search-none">No film on the map matches “{deferred.trim()}”.</p>
          ) : (
            <ul ref={listRef} aria-label="Matching films">
              {matches.map((index, position) => {
                const point = map.points[index];
                if (!point) return null;
                return (
                  <li key={point.id}>
                    <button
                      type="button"
                      onClick={() => pick(index)}
                      onKeyDown={(event) => {
                        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
                          event.preventDefault();
                          focusResult(position + (event.key === "ArrowDown" ? 1 : -1));
                        }
                      }}
                    >
                      {titleWithYear(point)}
                      {point.genre ? <span className="explore-search-genre"> · {point.genre}</span> : null}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}

function FilmPanel({
  title,
  state,
  headingRef,
  onClose,
  onRetry,
}: {
  title: string;
  state: MovieState;
  headingRef: RefObject<HTMLHeadingElement | null>;
  onClose: () => void;
  onRetry: () => void;
}) {
  const headingId = useId();
  let body;
  if (state.status === "loading") {
    body = (
      <p role="status" className="explore-panel-status">
        Loading {title}…
      </p>
    );
  } else if (state.status === "error") {
    body = (
      <div className="banner banner-error" role="alert">
        <span>{state.missing ? `${title} is no longer in the catalog.` : state.message}</span>
        {state.missing ? null : (
          <button type="button" className="btn btn-small" onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
    );
  } else {
    body = <MovieCard movie={state.movie} />;
  }
  return (
    <aside className="explore-panel" aria-labelledby={headingId}>
      <div className="explore-panel-head">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          Film on the map
        </h2>
        <button type="button" className="btn btn-small explore-panel-close" aria-label="Close the film's card" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {body}
    </aside>
  );
}

export default function ExplorePage() {
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<MapState>({ status: "loading" });
  const [hidden, setHidden] = useState<ReadonlySet<number>>(() => new Set());
  const [selection, setSelection] = useState<Selection | null>(null);
  const [loaded, setLoaded] = useState<LoadedMovie | null>(null);
  const [movieAttempt, setMovieAttempt] = useState(0);
  const mapRef = useRef<MapCanvasHandle>(null);
  const panelHeadingRef = useRef<HTMLHeadingElement>(null);
  const searchInputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    setState({ status: "loading" });
    getCatalogMap(controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        setHidden(new Set());
        setSelection(null);
        setState({ status: "ready", map: prepareMap(data.points ?? []) });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbort(error)) return;
        setState({ status: "error", message: messageOf(error, "Couldn't load the map.") });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  const map = state.status === "ready" ? state.map : null;
  const selectedPoint = map && selection ? map.points[selection.index] : undefined;
  const selectedId = selectedPoint?.id;

  useEffect(() => {
    if (selectedId === undefined) return;
    const controller = new AbortController();
    setLoaded({ id: selectedId, status: "loading" });
    getMovie(selectedId, controller.signal).then(
      (movie) => {
        if (!controller.signal.aborted) setLoaded({ id: selectedId, status: "ready", movie });
      },
      (error: unknown) => {
        if (controller.signal.aborted || isAbort(error)) return;
        setLoaded({
          id: selectedId,
          status: "error",
          message: messageOf(error, "Couldn't load this film."),
          missing: error instanceof ApiError && error.kind === "not_found",
        });
      },
    );
    return () => controller.abort();
  }, [selectedId, movieAttempt]);

  useEffect(() => {
    if (selection?.from === "search") panelHeadingRef.current?.focus();
  }, [selection]);

  const select = useCallback(
    (index: number, from: Selection["from"]) => {
      setSelection({ index, from });
      // A film picked by title is shown even when its genre was hidden.
      const slot = map?.genreOf[index];
      if (slot !== undefined) {
        setHidden((current) => {
          if (!current.has(slot)) return current;
          const next = new Set(current);
          next.delete(slot);
          return next;
        });
      }
    },
    [map],
  );

  const onMapSelect = useCallback((index: number) => select(index, "map"), [select]);

  const close = useCallback(() => {
    const from = selection?.from;
    setSelection(null);
    if (from === "map") mapRef.current?.focus();
    else searchInputRef.current?.focus();
  }, [selection]);

  const toggle = (slot: number) =>
    setHidden((current) => {
      const next = new Set(current);
      if (!next.delete(slot)) next.add(slot);
      return next;
    });

  let content;
  if (state.status === "loading") {
    content = (
      <p role="status" className="explore-status">
        Loading the map…
      </p>
    );
  } else if (state.status === "error") {
    content = (
      <div className="banner banner-error explore-error" role="alert">
        <span>{state.message}</span>
        <button type="button" className="btn btn-small" onClick={() => setAttempt((n) => n + 1)}>
          Retry
        </button>
      </div>
    );
  } else if (state.map.points.length === 0) {
    content = <EmptyCatalog />;
  } else {
    const shown = state.map.genres.reduce((sum, genre, slot) => sum + (hidden.has(slot) ? 0 : genre.count), 0);
    content = (
      <>
        <div className="explore-tools">
          <FilmSearch
            map={state.map}
            inputRef={searchInputRef}
            onPick={(index) => {
              select(index, "search");
              mapRef.current?.focusPoint(index);
            }}
          />
          <p className="explore-summary">
            {shown === state.map.points.length
              ? `${state.map.points.length.toLocaleString("en")} films`
              : `${shown.toLocaleString("en")} of ${state.map.points.length.toLocaleString("en")} films`}
            , placed by how alike their descriptions are.
          </p>
        </div>
        <Legend map={state.map} hidden={hidden} onToggle={toggle} onShowAll={() => setHidden(new Set())} />
        <div className={selection ? "explore-body has-panel" : "explore-body"}>
          <MapCanvas
            ref={mapRef}
            map={state.map}
            hidden={hidden}
            selected={selection?.index ?? null}
            onSelect={onMapSelect}
            onDismiss={selection ? close : undefined}
          />
          {selection && selectedPoint ? (
            <FilmPanel
              title={titleWithYear(selectedPoint)}
              state={loaded && loaded.id === selectedPoint.id ? loaded : { status: "loading" }}
              headingRef={panelHeadingRef}
              onClose={close}
              onRetry={() => setMovieAttempt((n) => n + 1)}
            />
          ) : null}
        </div>
      </>
    );
  }

  return (
    <div className="explore">
      <h1 className="visually-hidden">Explore the catalog</h1>
      {content}
    </div>
  );
}
