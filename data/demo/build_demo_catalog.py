"""Build the Marquee demo movie catalog (data/demo/movies.jsonl).

Joins the hand-written per-film fields in data/demo/authored.jsonl
(tmdb_id, title, original_title, runtime, director, cast, keywords, overview)
with facts taken verbatim from the shared TMDB top-10k CSV (title, year,
release_date, genres, original_language, popularity, vote_average, vote_count)
and poster paths from the Movies Dataset metadata, then validates the result.

Run from the repository root:

    python data/demo/build_demo_catalog.py

The shared CSVs are only read at build time; the written movies.jsonl is
self-contained. Any problem (unknown tmdb_id, title mismatch, bad field, an
overview that reuses a 6-word run of the CSV overview) aborts the build.
"""

import csv
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from movie_constraints import GENRES  # noqa: E402 - the catalog's one vocabulary

SHARED = HERE.parents[2] / "shared" / "data"
TOP10K_CSV = SHARED / "tmdb-top10k" / "top10K-TMDB-movies.csv"
METADATA_CSV = SHARED / "the-movies-dataset" / "partial" / "movies_metadata.csv"
AUTHORED = HERE / "authored.jsonl"
OUTPUT = HERE / "movies.jsonl"

ALLOWED_GENRES = set(GENRES)
KEY_TYPES = {
    "tmdb_id": int,
    "title": str,
    "original_title": str,
    "year": int,
    "release_date": (str, type(None)),
    "genres": list,
    "original_language": str,
    "runtime": int,
    "director": str,
    "cast": list,
    "keywords": list,
    "overview": str,
    "popularity": float,
    "vote_average": float,
    "vote_count": int,
    "poster_path": (str, type(None)),
}
MIN_ROWS = 320


ERRORS = []


def fail(msg):
    """Record a problem; main() aborts after checking every film."""
    ERRORS.append(msg)
    raise ValueError(msg)


def words(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def shingles(text, n=6):
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def load_csv_by_id(path):
    with open(path, encoding="utf-8", newline="") as f:
        return {row["id"].strip(): row for row in csv.DictReader(f)}


def build_row(a, src, meta):
    tid = a["tmdb_id"]
    if src["title"] != a["title"]:
        fail(f"{tid}: CSV title {src['title']!r} != authored {a['title']!r}")
    date = src["release_date"].strip() or None
    if not date or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        fail(f"{tid}: unusable release_date {date!r}")
    poster = (meta.get(str(tid)) or {}).get("poster_path", "").strip() or None
    return {
        "tmdb_id": tid,
        "title": src["title"],
        "original_title": a["original_title"],
        "year": int(date[:4]),
        "release_date": date,
        "genres": [g.strip() for g in src["genre"].split(",") if g.strip()],
        "original_language": src["original_language"],
        "runtime": a["runtime"],
        "director": a["director"],
        "cast": a["cast"],
        "keywords": a["keywords"],
        "overview": a["overview"],
        "popularity": float(src["popularity"]),
        "vote_average": float(src["vote_average"]),
        "vote_count": int(src["vote_count"]),
        "poster_path": poster,
    }


def validate(row, csv_overview):
    tid = row["tmdb_id"]
    if set(row) != set(KEY_TYPES):
        fail(f"{tid}: wrong keys {sorted(set(row) ^ set(KEY_TYPES))}")
    for key, typ in KEY_TYPES.items():
        if not isinstance(row[key], typ) or isinstance(row[key], bool):
            fail(f"{tid}: {key} has type {type(row[key]).__name__}")
    bad = set(row["genres"]) - ALLOWED_GENRES
    if bad or not row["genres"]:
        fail(f"{tid}: bad genres {row['genres']}")
    if not 3 <= len(row["cast"]) <= 5 or not all(isinstance(c, str) and c for c in row["cast"]):
        fail(f"{tid}: cast must be 3-5 names")
    kws = row["keywords"]
    if not 4 <= len(kws) <= 8 or any(not isinstance(k, str) or k != k.lower() for k in kws):
        fail(f"{tid}: keywords must be 4-8 lowercase strings")
    if not 15 <= len(row["overview"].split()) <= 60:
        fail(f"{tid}: overview has {len(row['overview'].split())} words")
    if not 40 <= row["runtime"] <= 300 or not row["director"] or not row["original_title"]:
        fail(f"{tid}: implausible runtime/director/original_title")
    shared = shingles(row["overview"]) & shingles(csv_overview)
    if shared:
        fail(f"{tid}: overview copies CSV text: {' '.join(next(iter(shared)))!r}")


def main():
    top = load_csv_by_id(TOP10K_CSV)
    meta = load_csv_by_id(METADATA_CSV)
    rows, seen = [], set()
    with open(AUTHORED, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            a = json.loads(line)
            tid = a["tmdb_id"]
            if tid in seen:
                ERRORS.append(f"line {lineno}: duplicate tmdb_id {tid}")
            seen.add(tid)
            src = top.get(str(tid))
            try:
                if src is None:
                    title = a.get("title")
                    fail(f"line {lineno}: tmdb_id {tid} ({title!r}) not in {TOP10K_CSV.name}")
                row = build_row(a, src, meta)
                validate(row, src["overview"])
                rows.append(row)
            except ValueError:
                continue
    if len(rows) < MIN_ROWS and "--partial" not in sys.argv:
        ERRORS.append(f"only {len(rows)} films, need >= {MIN_ROWS} (use --partial while authoring)")
    if ERRORS:
        sys.exit("build_demo_catalog: ERROR:\n  " + "\n  ".join(ERRORS))
    rows.sort(key=lambda r: r["tmdb_id"])
    with open(OUTPUT, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} films to {OUTPUT}")


if __name__ == "__main__":
    main()
