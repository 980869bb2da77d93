#!/usr/bin/env python
"""Build Marquee's databases: ingest a catalog, verify or rebuild the vector index, draw the map.

    python prepare-databases/prepare.py ingest --source tmdb-csv --data path/to/top10K.csv
    python prepare-databases/prepare.py verify [--repair]
    python prepare-databases/prepare.py rebuild-index
    python prepare-databases/prepare.py map
    python prepare-databases/prepare.py neighbours

`make data SOURCE=… DATA=…` runs the first. The logic lives in the backend's services; this
file only parses arguments and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for extra in (REPO / "backend", REPO):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def _open_index_or_owner(*, check: bool = True):
    """The index for writing, or (None, pid) when the running backend owns the embedded one.

    With `check`, an index that lost points the database says it holds raises IndexCorrupted
    (see open_catalog_index); verify opens it without, to report and repair that.
    """
    from catalog.vector_store import open_catalog_index
    from vector_index import IndexLocked

    try:
        return open_catalog_index(check=check), None
    except IndexLocked as exc:
        return None, exc.owner_pid


def _wait_for_owner(owner_pid: int | None, timeout: float) -> int:
    """Let the process that owns the index index our pending rows; take over if it goes away."""
    from catalog.services.indexing import index_pending_count, index_sync_pending

    print(
        f"The embedded index is owned by another process (pid {owner_pid}, usually `make run`); "
        "it indexes the new rows now.",
        flush=True,
    )
    deadline = time.monotonic() + timeout
    last = -1
    while (pending := index_pending_count()) > 0:
        if pending != last:
            print(f"  waiting for the backend to index {pending} movies…", flush=True)
            last = pending
        if time.monotonic() > deadline:
            print(
                f"Gave up waiting after {timeout:.0f}s: {pending} movies are in the database "
                "but not yet in the index. They are indexed when the backend next runs; "
                "`prepare.py verify` shows the state.",
                file=sys.stderr,
            )
            return 3
        index, _ = _open_index_or_owner()
        if index is not None:  # the owner stopped: finish the job ourselves
            try:
                index_sync_pending(index=index)
                index.optimize()
            finally:
                index.close()
            break
        time.sleep(1.0)
    print("All movies are indexed.", flush=True)
    return 0


class ModelServiceOnDemand:
    """The model service client, with a local model service started on first use if none runs.

    Commands that may embed nothing (a ratings-only source, a verify without unembedded rows)
    then never wait for a model to load.
    """

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._client = None

    def _ready_client(self):
        if self._client is None:
            from django.conf import settings

            from clients.factories import get_model_service_client
            from scripts.stack import ensure_model_service

            self._stack.enter_context(ensure_model_service(settings.MODEL_SERVICE_URL))
            self._client = get_model_service_client()
        return self._client

    def embed(self, texts, *, timeout=None):
        return self._ready_client().embed(texts, timeout=timeout)

    def embedding_model(self) -> str:
        return self._ready_client().embedding_model()


def cmd_ingest(args: argparse.Namespace) -> int:
    from catalog.ingestion.sources import open_source
    from catalog.ingestion.sources.base import SourceError
    from catalog.models import Movie
    from catalog.services.ingestion import catalog_ingest
    from catalog.vector_store import index_missing_points
    from clients.model_service import ModelServiceError
    from vector_index import IndexError as VectorIndexError

    setup_django()
    if args.if_empty and Movie.objects.exists():
        print(f"Catalog already has {Movie.objects.count()} movies; nothing to ingest.")
        return 0
    options = dict(option.split("=", 1) for option in args.option)
    if args.no_ratings:
        options["include_ratings"] = False
    try:
        source = open_source(args.source, Path(args.data) if args.data else None, **options)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    try:
        index, owner = _open_index_or_owner(check=False)
    except VectorIndexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if index is not None and (problem := index_missing_points(index)):
        # Deleted or lost index files: every stored vector is written again at the end.
        print(f"{problem}\nThis run writes every movie to the index again from the vectors "
              "stored in the database.", flush=True)  # fmt: skip
        Movie.objects.exclude(indexed_hash="").update(indexed_hash="")
    try:
        with contextlib.ExitStack() as stack:
            report = catalog_ingest(
                source=source,
                embedder=ModelServiceOnDemand(stack),
                index=index,
                progress=not args.no_progress,
            )
    except (ModelServiceError, RuntimeError, TimeoutError) as exc:
        print(
            f"error: {exc}\nWhat was stored before the failure is kept; run the same command "
            "again to resume.",
            file=sys.stderr,
        )
        return 1
    finally:
        if index is not None:
            index.close()
    for line in report.lines():
        print(line)
    if index is None:
        return _wait_for_owner(owner, args.wait_seconds)
    return 0


def _unreadable(exc: Exception, repair: bool) -> int:
    """An index that cannot be opened or read: rebuilt from the database with --repair."""
    if not repair:
        print(
            f"error: {exc}\nRun `prepare.py verify --repair` (or `rebuild-index`) to rebuild it "
            "from the database.",
            file=sys.stderr,
        )
        return 2
    print(f"The index cannot be read ({exc}).\nRebuilding it from the database…", flush=True)
    code = cmd_rebuild(argparse.Namespace())
    if code != 0:
        return code
    print("Checking the rebuilt index:", flush=True)
    return cmd_verify(argparse.Namespace(repair=True))


def cmd_verify(args: argparse.Namespace) -> int:
    from catalog.services.indexing import index_verify
    from catalog.vector_store import index_probe
    from vector_index import IndexError as VectorIndexError

    setup_django()
    try:
        index, owner = _open_index_or_owner(check=False)
    except VectorIndexError as exc:  # damaged files: rebuilt from the database with --repair
        return _unreadable(exc, args.repair)
    if index is None:
        print(
            f"error: the index is owned by another process (pid {owner}); stop `make run` first.",
            file=sys.stderr,
        )
        return 2
    try:
        index_probe(index)  # vector files can be damaged while the rest opens fine
    except VectorIndexError as exc:
        index.close()
        return _unreadable(exc, args.repair)
    try:
        report = index_verify(index=index)
        for line in report.lines():
            print(line)
        if report.ok or not args.repair:
            if not report.ok:
                print("Mismatches found; run again with --repair to fix them.")
            return 0 if report.ok else 1
        with contextlib.ExitStack() as stack:
            repaired = index_verify(index=index, repair=True, embedder=ModelServiceOnDemand(stack))
        after = index_verify(index=index)
        print("after repair:")
        for line in repaired.lines()[-1:] + after.lines():
            print(line)
        return 0 if after.ok else 1
    finally:
        index.close()


def cmd_rebuild(args: argparse.Namespace) -> int:
    from catalog.services.indexing import index_rebuild
    from catalog.vector_store import build_catalog_index
    from vector_index import IndexLocked, IndexUnavailable

    setup_django()
    try:
        # Not opened through ensure_collection: a corrupted index must still be droppable.
        index = build_catalog_index()
    except IndexLocked as exc:
        print(
            f"error: the index is owned by pid {exc.owner_pid}; stop `make run` first.",
            file=sys.stderr,
        )
        return 2
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        written = index_rebuild(index=index)
        print(f"Rebuilt the index from the database: {written} movies, {index.count()} points.")
    finally:
        index.close()
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from catalog.services.explore import catalog_map_build

    setup_django()
    path = catalog_map_build(out=Path(args.out) if args.out else None)
    print(f"Wrote the catalog map to {path}")
    return 0


def cmd_neighbours(args: argparse.Namespace) -> int:
    from catalog.models import Rating
    from catalog.services.neighbours import neighbours_compute

    setup_django()
    if not Rating.objects.exists():
        print(
            "The catalog has no ratings, so no collaborative neighbours: ingest some with "
            "`prepare.py ingest --source ratings --data <folder>` (or movies-dataset, movielens)."
        )
        return 0
    report = neighbours_compute(
        k=args.k,
        min_co_likes=args.min_co_likes,
        shrinkage=args.shrinkage,
        like_threshold=args.like_threshold,
    )
    for line in report.lines():
        print(line)
    return 0


def _option(text: str) -> str:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    from catalog.ingestion.sources import SOURCE_NAMES
    from catalog.services import neighbours as nb

    parser = argparse.ArgumentParser(prog="prepare.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="ingest a catalog source into the database and index")
    ingest.add_argument("--source", required=True, choices=SOURCE_NAMES)
    ingest.add_argument("--data", help="file or folder of the source (not needed for demo)")
    ingest.add_argument("--if-empty", action="store_true", help="do nothing if movies exist")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")
    ingest.add_argument(
        "--no-ratings", action="store_true",
        help="do not ingest the source's ratings (movies-dataset, movielens)",
    )  # fmt: skip
    ingest.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", type=_option,
        help="a source option, e.g. max_pages=10 for tmdb-api (repeatable)",
    )  # fmt: skip
    ingest.add_argument(
        "--wait-seconds", type=float, default=600,
        help="when `make run` owns the index: how long to wait for it to index the new rows",
    )  # fmt: skip
    ingest.set_defaults(func=cmd_ingest)
    verify = sub.add_parser("verify", help="compare the index with the database")
    verify.add_argument("--repair", action="store_true", help="make the index match the database")
    verify.set_defaults(func=cmd_verify)
    rebuild = sub.add_parser(
        "rebuild-index", help="drop the index and rebuild it from the database"
    )
    rebuild.set_defaults(func=cmd_rebuild)
    explore = sub.add_parser("map", help="2D map of the catalog's embeddings for the Explore page")
    explore.add_argument("--out", help="output JSON (default var/explore/map.json)")
    explore.set_defaults(func=cmd_map)
    neighbours = sub.add_parser(
        "neighbours",
        help="recompute the collaborative 'people who liked X also liked Y' neighbours",
    )
    neighbours.add_argument(
        "--k", type=int, default=nb.DEFAULT_K, help="neighbours stored per movie"
    )
    neighbours.add_argument(
        "--min-co-likes", type=int, default=nb.DEFAULT_MIN_CO_LIKES,
        help="fewest users who liked both movies for a pair to count",
    )  # fmt: skip
    neighbours.add_argument(
        "--shrinkage", type=float, default=nb.DEFAULT_SHRINKAGE,
        help="score * n / (n + shrinkage), n = users who liked both",
    )  # fmt: skip
    neighbours.add_argument(
        "--like-threshold", type=float, default=nb.DEFAULT_LIKE_THRESHOLD,
        help="a rating at or above this is a like",
    )  # fmt: skip
    neighbours.set_defaults(func=cmd_neighbours)
    return parser


def main(argv: list[str] | None = None) -> int:
    import django

    django.setup()  # the parser lists the sources, which live in the backend
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
