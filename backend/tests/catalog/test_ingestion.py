"""Ingestion end to end on a small fixture: database rows, vectors, index points, summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from catalog.documents import movie_embedding_text
from catalog.ingestion.sources import open_source
from catalog.models import Movie, Rating
from catalog.services.indexing import index_verify, vector_from_bytes
from catalog.services.ingestion import catalog_ingest

FIXTURE = Path(__file__).parent / "fixtures" / "small.jsonl"

pytestmark = pytest.mark.django_db


def ingest(path, embedder, index, **kwargs):
    return catalog_ingest(
        source=open_source("jsonl", path), embedder=embedder, index=index, progress=False, **kwargs
    )


def test_ingest_stores_movies_vectors_and_index_points(fake_embedder, catalog_index):
    report = ingest(FIXTURE, fake_embedder, catalog_index)

    assert report.read == 9
    assert (report.inserted, report.updated, report.unchanged) == (6, 0, 0)
    assert dict(report.skipped) == {"malformed row": 1, "duplicate id": 1, "missing title": 1}
    assert Movie.objects.count() == 6
    assert catalog_index.count() == 6
    inception = Movie.objects.get(tmdb_id=27205)
    assert inception.title == "Inception"  # the duplicate row did not overwrite it
    assert sorted(g.name for g in inception.genres.all()) == [
        "Action", "Adventure", "Science Fiction",
    ]  # fmt: skip
    assert vector_from_bytes(inception.embedding).shape == (384,)
    assert inception.indexed_hash == inception.content_hash
    assert index_verify(index=catalog_index).ok
    summary = "\n".join(report.lines())
    assert "skipped (malformed row): 1" in summary and "inserted 6" in summary


def test_reingesting_changes_nothing(fake_embedder, catalog_index):
    ingest(FIXTURE, fake_embedder, catalog_index)
    before = {m.tmdb_id: (m.updated_at, m.content_hash) for m in Movie.objects.all()}
    calls = len(fake_embedder.calls)

    report = ingest(FIXTURE, fake_embedder, catalog_index)

    assert (report.inserted, report.updated, report.unchanged, report.embedded) == (0, 0, 6, 0)
    assert len(fake_embedder.calls) == calls  # nothing re-embedded
    assert {m.tmdb_id: (m.updated_at, m.content_hash) for m in Movie.objects.all()} == before
    assert catalog_index.count() == 6


def test_changed_fields_update_rows_and_reembed_only_when_text_changes(
    fake_embedder, catalog_index, tmp_path
):
    ingest(FIXTURE, fake_embedder, catalog_index)
    lines = FIXTURE.read_text().splitlines()
    # Parasite: only the vote count changes (same text); Totoro: a new overview (new text).
    lines[1] = lines[1].replace('"vote_count": 15000', '"vote_count": 16001')
    lines[3] = lines[3].replace("befriend gentle forest spirits", "meet a giant cat bus")
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join(lines) + "\n")
    old_totoro = vector_from_bytes(Movie.objects.get(tmdb_id=8392).embedding)

    report = ingest(changed, fake_embedder, catalog_index)

    assert (report.updated, report.unchanged, report.embedded) == (2, 4, 1)
    assert Movie.objects.get(tmdb_id=496243).vote_count == 16001
    new_totoro = vector_from_bytes(Movie.objects.get(tmdb_id=8392).embedding)
    assert not np.allclose(old_totoro, new_totoro)
    assert index_verify(index=catalog_index).ok
    payload = dict(catalog_index.iter_payloads())[496243]
    assert payload["vote_count"] == 16001


def test_interrupted_run_resumes_without_reembedding(fake_embedder, catalog_index, tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_text(
        "\n".join(
            f'{{"tmdb_id": {i}, "title": "Film {i}", "year": 2000, "genres": ["Drama"], '
            f'"overview": "story number {i} about word{i % 7}"}}'
            for i in range(1, 101)
        )
    )

    class Interrupt(Exception):
        pass

    def stop_after_two_chunks(n, seen=[]):  # noqa: B006 - counts chunks across calls
        seen.append(n)
        if len(seen) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        ingest(big, fake_embedder, catalog_index, request_size=20, on_chunk=stop_after_two_chunks)
    stored = Movie.objects.count()
    assert stored == 40
    embedded_before = sum(fake_embedder.calls)

    report = ingest(big, fake_embedder, catalog_index, request_size=20)

    assert (report.inserted, report.unchanged) == (60, 40)
    assert sum(fake_embedder.calls) - embedded_before == 60  # the first 40 were not re-embedded
    assert Movie.objects.count() == 100 and catalog_index.count() == 100
    assert index_verify(index=catalog_index).ok


def test_without_index_rows_stay_pending_until_synced(fake_embedder, catalog_index):
    from catalog.services.indexing import index_pending_count, index_sync_pending

    report = ingest(FIXTURE, fake_embedder, None)
    assert report.indexed == 0 and index_pending_count() == 6
    assert index_sync_pending(index=catalog_index) == 6
    assert index_pending_count() == 0 and catalog_index.count() == 6


def test_movie_without_overview_is_embedded_from_what_it_has():
    text = movie_embedding_text(
        title="Ferris Bueller's Day Off", year=1986, genres=["Comedy"], overview="",
        original_language="en", keywords=["high school", "truancy"],
    )  # fmt: skip
    assert text == ("Ferris Bueller's Day Off (1986). Comedy film. Themes: high school, truancy.")
    assert "unknown" not in text.lower()


def test_ratings_are_added_for_catalog_movies_and_others_counted(
    fake_embedder, catalog_index, tmp_path
):
    ingest(FIXTURE, fake_embedder, catalog_index)
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "links.csv").write_text(
        "movieId,imdbId,tmdbId\r\n1,1375666,27205\r\n2,6751668,496243\r\n3,0000001,999999\r\n4,0000002,\r\n"
    )
    (folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,5.0,100\n2,1,4.0,101\n1,2,3.5,102\n1,3,4.0,103\n"
    )
    source = open_source("ratings", folder)

    report = catalog_ingest(
        source=source, embedder=fake_embedder, index=catalog_index, progress=False
    )

    assert report.ratings_new == 3
    assert Rating.objects.filter(movie_id=27205).count() == 2
    assert report.ratings_skipped["movie not in catalog"] == 1
    again = catalog_ingest(
        source=source, embedder=fake_embedder, index=catalog_index, progress=False
    )
    assert again.ratings_new == 0 and Rating.objects.count() == 3


def test_verify_finds_and_repairs_every_kind_of_mismatch(fake_embedder, catalog_index):
    from vector_index import IndexPoint

    ingest(FIXTURE, fake_embedder, catalog_index)
    catalog_index.delete([694])  # missing
    catalog_index.upsert([IndexPoint(id=424242, vector=[1.0] + [0.0] * 383, payload={})])  # extra
    Movie.objects.filter(tmdb_id=671).update(content_hash="changed")  # stale

    report = index_verify(index=catalog_index)
    assert (report.missing, report.extra, report.stale) == ([694], [424242], [671])
    assert not report.ok

    repaired = index_verify(index=catalog_index, repair=True)
    assert repaired.deleted == 1 and repaired.repaired == 2
    assert index_verify(index=catalog_index).ok
    assert catalog_index.count() == 6


def test_rebuild_restores_a_lost_index_from_the_database(fake_embedder, index_path, settings):
    from catalog.services.indexing import index_rebuild
    from catalog.vector_store import build_catalog_index, close_catalog_index, get_catalog_index
    from vector_index import IndexCorrupted

    ingest(FIXTURE, fake_embedder, get_catalog_index())
    close_catalog_index()
    shutil.rmtree(index_path)
    # Opened as the backend opens it, the empty index would answer every search with nothing:
    # it is refused, saying how to rebuild it.
    with pytest.raises(IndexCorrupted, match="verify --repair"):
        get_catalog_index()
    close_catalog_index()

    index = build_catalog_index()  # as prepare.py rebuild-index opens it
    assert index_rebuild(index=index) == 6
    assert index.count() == 6 and index_verify(index=index).ok
    index.close()
    assert get_catalog_index().count() == 6


def test_kaggle_folder_summary_counts_malformed_rows_duplicates_and_ratings(
    fake_embedder, catalog_index, kaggle_folder
):
    folder = kaggle_folder

    report = catalog_ingest(
        source=open_source("movies-dataset", folder),
        embedder=fake_embedder,
        index=catalog_index,
        progress=False,
    )

    assert report.skipped == {"malformed row": 2, "invalid id": 1, "missing title": 1,
                              "duplicate id": 1}  # fmt: skip
    assert report.inserted == Movie.objects.count() == catalog_index.count() == 5
    assert Movie.objects.get(tmdb_id=862).title == "Toy Story"  # first row wins
    assert report.ratings_new == Rating.objects.count() > 0
    assert "skipped (duplicate id): 1" in "\n".join(report.lines())


@pytest.mark.realdata
def test_real_partial_kaggle_metadata_ingests_with_every_row_accounted_for(
    fake_embedder, catalog_index, shared_data
):
    path = shared_data / "the-movies-dataset" / "partial" / "movies_metadata.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent (it lives in ../shared/data)")
    report = catalog_ingest(
        source=open_source("movies-dataset", path, include_ratings=False),
        embedder=fake_embedder,
        index=catalog_index,
        progress=False,
    )
    assert report.read == 2996
    assert report.inserted + sum(report.skipped.values()) == report.read
    assert report.skipped["duplicate id"] >= 1
    assert Movie.objects.count() == catalog_index.count() == report.inserted
    assert index_verify(index=catalog_index).ok


def test_rows_stored_but_not_indexed_by_a_killed_run_are_indexed_by_the_rerun(
    fake_embedder, catalog_index
):
    ingest(FIXTURE, fake_embedder, catalog_index)
    # What a kill between the database commit and the index write leaves behind.
    catalog_index.delete([694, 671])
    Movie.objects.filter(tmdb_id__in=[694, 671]).update(indexed_hash="")

    report = ingest(FIXTURE, fake_embedder, catalog_index)

    assert (report.unchanged, report.indexed) == (6, 2)
    assert index_verify(index=catalog_index).ok
