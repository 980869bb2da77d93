import { useId, useState } from "react";
import type { ChatFilters } from "../../api/types";
import { GENRES } from "../movies/genreColors";

export const LANGUAGES: Record<string, string> = {
  en: "English",
  fr: "French",
  es: "Spanish",
  de: "German",
  it: "Italian",
  ja: "Japanese",
  ko: "Korean",
  zh: "Mandarin",
  cn: "Cantonese",
  hi: "Hindi",
  pt: "Portuguese",
  ru: "Russian",
  sv: "Swedish",
  da: "Danish",
  tr: "Turkish",
};

const DECADES = [1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020];
const RATINGS = [5, 6, 7, 8];

interface Chip {
  key: string;
  label: string;
  remove: (filters: ChatFilters) => ChatFilters;
}

export function filterChips(filters: ChatFilters): Chip[] {
  const chips: Chip[] = filters.genres.map((genre) => ({
    key: `genre:${genre}`,
    label: genre,
    remove: (f) => ({ ...f, genres: f.genres.filter((g) => g !== genre) }),
  }));
  const { year_min: low, year_max: high } = filters;
  if (low !== null || high !== null) {
    const decade = low !== null && high === low + 9 && low % 10 === 0;
    const label = decade
      ? `${low}s`
      : low !== null && high !== null
        ? `${low}–${high}`
        : low !== null
          ? `From ${low}`
          : `Until ${high}`;
    chips.push({ key: "years", label, remove: (f) => ({ ...f, year_min: null, year_max: null }) });
  }
  if (filters.min_rating !== null) {
    chips.push({ key: "rating", label: `★ ${filters.min_rating}+`, remove: (f) => ({ ...f, min_rating: null }) });
  }
  if (filters.language) {
    chips.push({
      key: "language",
      label: LANGUAGES[filters.language] ?? filters.language,
      remove: (f) => ({ ...f, language: "" }),
    });
  }
  return chips;
}

function parseYear(value: string): number | null {
  const year = Number.parseInt(value, 10);
  return Number.isFinite(year) && year >= 1870 && year <= 2100 ? year : null;
}

interface Props {
  filters: ChatFilters;
  onChange: (filters: ChatFilters) => void;
}

/** Genres, years, minimum rating and language: sent with every message, shown as chips. */
export function FiltersBar({ filters, onChange }: Props) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const chips = filterChips(filters);
  const decade =
    filters.year_min !== null && filters.year_max === filters.year_min + 9 && filters.year_min % 10 === 0
      ? String(filters.year_min)
      : "";
  const yearsInverted = filters.year_min !== null && filters.year_max !== null && filters.year_min > filters.year_max;

  return (
    <section className="filters" aria-label="Filters">
      <div className="filters-row">
        <button
          type="button"
          className="btn btn-small"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((o) => !o)}
        >
          Filters{chips.length ? ` (${chips.length})` : ""}
        </button>
        <ul className="chips" aria-label="Active filters">
          {chips.map((chip) => (
            <li key={chip.key} className="chip">
              <span>{chip.label}</span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove filter: ${chip.label}`}
                onClick={() => onChange(chip.remove(filters))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        {chips.length > 1 && (
          <button
            type="button"
            className="btn btn-small filters-clear"
            onClick={() => onChange({ genres: [], year_min: null, year_max: null, min_rating: null, language: "" })}
          >
            Clear all
          </button>
        )}
      </div>
      {open && (
        <div id={panelId} className="filters-panel">
          <fieldset className="filters-genres">
            <legend>Genres</legend>
            {GENRES.map((genre) => (
              <label key={genre} className="check">
                <input
                  type="checkbox"
                  checked={filters.genres.includes(genre)}
                  onChange={(event) =>
                    onChange({
                      ...filters,
                      genres: event.target.checked
                        ? [...filters.genres, genre]
                        : filters.genres.filter((g) => g !== genre),
                    })
                  }
                />
                {genre}
              </label>
            ))}
          </fieldset>
          <div className="filters-fields">
            <label>
              Decade
              <select
                value={decade}
                onChange={(event) => {
                  const start = parseYear(event.target.value);
                  onChange({ ...filters, year_min: start, year_max: start === null ? null : start + 9 });
                }}
              >
                <option value="">Any</option>
                {DECADES.map((d) => (
                  <option key={d} value={d}>
                    {d}s
                  </option>
                ))}
              </select>
            </label>
            <label>
              From year
              <input
                type="number"
                inputMode="numeric"
                min={1870}
                max={2100}
                placeholder="1870"
                value={filters.year_min ?? ""}
                onChange={(event) => onChange({ ...filters, year_min: parseYear(event.target.value) })}
              />
            </label>
            <label>
              To year
              <input
                type="number"
                inputMode="numeric"
                min={1870}
                max={2100}
                placeholder="2100"
                value={filters.year_max ?? ""}
                onChange={(event) => onChange({ ...filters, year_max: parseYear(event.target.value) })}
              />
            </label>
            <label>
              Minimum rating
              <select
                value={filters.min_rating ?? ""}
                onChange={(event) =>
                  onChange({ ...filters, min_rating: event.target.value ? Number(event.target.value) : null })
                }
              >
                <option value="">Any</option>
                {RATINGS.map((r) => (
                  <option key={r} value={r}>
                    ★ {r}+
                  </option>
                ))}
              </select>
            </label>
            <label>
              Language
              <select value={filters.language} onChange={(event) => onChange({ ...filters, language: event.target.value })}>
                <option value="">Any</option>
                {Object.entries(LANGUAGES).map(([code, name]) => (
                  <option key={code} value={code}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {yearsInverted && (
            <p className="filters-warning" role="alert">
              “From year” is after “To year”: no film can match.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
