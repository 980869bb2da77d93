"""Title linking: the films a chat message names are found, ordinary requests name none."""

from __future__ import annotations

import csv
import itertools
import json
import time
from pathlib import Path

import pytest

from recommender import catalog_cache, title_linking
from recommender.title_linking import TitleLinker, TitleRecord, catalog_title_linker

REPO = Path(__file__).resolve().parents[3]
DEMO_MOVIES = REPO / "data" / "demo" / "movies.jsonl"

# (title, original title, year, votes): famous films, remakes, sequels, and the common-word
# titles that ordinary requests are full of. Ids are this test's own.
CATALOG = [
    ("Inception", "", 2010, 35000),
    ("The Godfather", "", 1972, 18000),
    ("The Godfather: Part II", "", 1974, 11000),
    ("Amélie", "Le Fabuleux Destin d'Amélie Poulain", 2001, 10000),
    ("Spirited Away", "千と千尋の神隠し", 2001, 15000),
    ("Heat", "", 1995, 6500),
    ("The Heat", "", 2013, 4000),
    ("The Dark Knight", "", 2008, 30000),
    ("The Dark Knight Rises", "", 2012, 21000),
    ("Parasite", "기생충", 2019, 16000),
    ("Oldboy", "올드보이", 2003, 7500),
    ("Oldboy", "", 2013, 2000),
    ("Harry Potter and the Philosopher's Stone", "", 2001, 25000),
    ("Harry Potter and the Chamber of Secrets", "", 2002, 20000),
    ("Harry Potter and the Deathly Hallows: Part 2", "", 2011, 19000),
    ("Star Wars", "", 1977, 19000),
    ("Star Wars: The Force Awakens", "", 2015, 18000),
    ("Star Wars: The Last Jedi", "", 2017, 14000),
    ("Rocky", "", 1976, 6500),
    ("Rocky II", "", 1979, 2800),
    ("The Matrix", "", 1999, 23000),
    ("Schindler's List", "", 1993, 14000),
    ("Dune", "", 1984, 2500),
    ("Dune", "", 2021, 10000),
    ("Halloween", "", 1978, 4500),
    ("Halloween", "", 2007, 2100),
    ("Halloween", "", 2018, 3600),
    ("Fast & Furious", "", 2009, 7000),
    ("Pride & Prejudice", "", 2005, 6500),
    ("Back to the Future", "", 1985, 18000),
    ("Back to the Future Part II", "", 1989, 12000),
    ("Up", "", 2009, 18000),
    ("It", "", 2017, 17000),
    ("Her", "", 2013, 13000),
    ("Us", "", 2019, 8000),
    ("Drive", "", 2011, 11000),
    ("Love", "", 2015, 1800),
    ("Cry", "", 2019, 40),
    ("Tonight", "", 2010, 30),
    ("Good", "", 2008, 80),
    ("Action", "", 1921, 10),
    ("Time", "", 2006, 150),
    ("Movie 43", "", 2013, 2800),
    ("French Kiss", "", 1995, 600),
    ("Comedy", "", 2003, 20),
    ("The Heist", "", 2001, 300),
    ("Heist", "", 2015, 900),
    ("About Time", "", 2013, 7000),
    ("Get Out", "", 2017, 15000),
    ("Scary Movie", "", 2000, 6000),
    ("Aliens", "", 1986, 9000),
    ("Time Travel", "", 2011, 15),
    ("Something Funny", "", 1999, 5),
    ("Horror", "", 2003, 12),
    ("The Family", "", 2013, 3000),
]
RECORDS = [
    TitleRecord(1000 + number, title, original or title, year, votes / 100, votes)
    for number, (title, original, year, votes) in enumerate(CATALOG)
]


@pytest.fixture(scope="module")
def linker() -> TitleLinker:
    return TitleLinker.from_records(RECORDS)


def found(links) -> list[tuple[str, int | None]]:
    return [(link.title, link.year) for link in links]


POSITIVE = [
    ("something like Inception but funnier", [("Inception", 2010)]),
    ("inception", [("Inception", 2010)]),
    ("the godfather part 2", [("The Godfather: Part II", 1974)]),
    ("godfather part ii", [("The Godfather: Part II", 1974)]),
    ("godfather 2", [("The Godfather: Part II", 1974)]),
    ("Amelie", [("Amélie", 2001)]),
    ("Spirited Away (2001)", [("Spirited Away", 2001)]),
    ("who directed heat?", [("Heat", 1995)]),
    ("movies like the dark knight", [("The Dark Knight", 2008)]),
    ("is the dark knight rises any good?", [("The Dark Knight Rises", 2012)]),
    ("I loved Parasite and Oldboy", [("Parasite", 2019), ("Oldboy", 2003)]),
    ("star wars", [("Star Wars", 1977)]),
    ("Inceptoin", [("Inception", 2010)]),
    ("have you seen godfater?", [("The Godfather", 1972)]),
    ("Rocky 2", [("Rocky II", 1979)]),
    ("rocky ii or rocky", [("Rocky II", 1979), ("Rocky", 1976)]),
    ("Matrix", [("The Matrix", 1999)]),
    ("movies like the matrix", [("The Matrix", 1999)]),
    ("Schindlers List", [("Schindler's List", 1993)]),
    ("Dune 1984", [("Dune", 1984)]),
    ("Dune (2021)", [("Dune", 2021)]),
    ("dune", [("Dune", 2021)]),
    ("the 1978 Halloween", [("Halloween", 1978)]),
    ("the Halloween from 2018", [("Halloween", 2018)]),
    ("fast and furious", [("Fast & Furious", 2009)]),
    ("something like Pride and Prejudice", [("Pride & Prejudice", 2005)]),
    ("back to the future 2", [("Back to the Future Part II", 1989)]),
    ("something like Up but funnier", [("Up", 2009)]),
    ("up", [("Up", 2009)]),
    ("who directed It?", [("It", 2017)]),
    ('any movies like "Her"?', [("Her", 2013)]),
    ("I loved Heat and Drive", [("Heat", 1995), ("Drive", 2011)]),
    ("have you seen get out", [("Get Out", 2017)]),
    ("the movie Love", [("Love", 2015)]),
]

NEGATIVE = [
    "I love horror movies",
    "something funny please, it's been a long day",
    "a movie about time travel",
    "scary movies for tonight",
    "a French comedy from the 90s",
    "what can you do",
    "hi there",
    "hi",
    "good movies",
    "an action movie with a heist",
    "movies that make me cry",
    "comedy",
    "I want to see it",
    "I'd like something like a heist",
    "a scary movie for halloween",
    "movies about aliens",
    "I want to get out of the house",
    "time travel movies with a twist",
    "recommend something good for us",
    "a family movie for tonight",
    "I love a good heist movie",
    "what's a good date night movie",
    "something like time travel but funnier",
]


@pytest.mark.parametrize(("message", "expected"), POSITIVE)
def test_finds_the_films_a_message_names(linker, message, expected):
    assert found(linker.link(message)) == expected


@pytest.mark.parametrize("message", NEGATIVE)
def test_ordinary_requests_name_no_film(linker, message):
    assert linker.link(message) == []


def test_a_link_points_at_the_words_as_written(linker):
    message = "Something like Inception but funnier"
    (link,) = linker.link(message)
    assert (link.mention, link.start, link.end) == ("Inception", 15, 24)
    assert message[link.start : link.end] == link.mention
    assert link.tmdb_id == RECORDS[0].tmdb_id and link.confidence == 1.0

    (link,) = linker.link("the dark knight rises was too long")
    assert link.mention == "the dark knight rises"


def test_links_come_best_first_without_overlap_and_within_the_limit(linker):
    message = "I loved Parasite, Oldboy, the Matrix and Inception but not Heat"
    links = linker.link(message)
    assert len(links) == 3
    assert [link.confidence for link in links] == sorted(
        (link.confidence for link in links), reverse=True
    )
    many = linker.link(message, limit=10)
    assert {"Parasite", "Oldboy", "The Matrix", "Inception"} <= {link.title for link in many}
    spans = sorted((link.start, link.end) for link in many)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
    assert len({link.tmdb_id for link in many}) == len(many)


def test_confidence_reflects_how_sure_the_match_is(linker):
    exact = linker.link("Inception")[0].confidence
    typo = linker.link("Inceptoin")[0].confidence
    series = linker.link("more like harry potter")
    assert exact > typo >= 0.5
    # A series name links its best-known film, and less surely than a full title.
    assert found(series) == [("Harry Potter and the Philosopher's Stone", 2001)]
    assert (
        series[0].confidence < linker.link("harry potter and the chamber of secrets")[0].confidence
    )
    # A common word is a weaker mention than a rare one; the threshold can be raised.
    assert linker.link("who directed heat?")[0].confidence < exact
    assert linker.link("who directed heat?", min_confidence=0.9) == []
    # A year that matches no film still links the title, less surely.
    assert found(linker.link("Dune 1999")) == [("Dune", 2021)]
    assert linker.link("Dune 1999")[0].confidence < linker.link("Dune 2021")[0].confidence


def test_the_same_common_word_needs_evidence(linker):
    assert linker.link("something with heat and passion") == []
    assert found(linker.link("something with Heat and passion")) == [("Heat", 1995)]
    assert found(linker.link("heat")) == [("Heat", 1995)]
    assert linker.link("something like time travel") == []
    assert linker.link("I love it") == []
    assert linker.link("I love It") == []  # a capital alone is not enough for "it"
    assert found(linker.link("I loved It")) == [("It", 2017)]
    # A capital at the start of a sentence says nothing.
    assert linker.link("Love stories from the 50s") == []


def test_empty_and_foreign_text(linker):
    for text in ("", "   ", "?!", "千と千尋の神隠し", "기생충"):
        assert isinstance(linker.link(text), list)
    assert found(linker.link("千と千尋の神隠し")) == [("Spirited Away", 2001)]
    assert linker.link("") == [] and linker.link("?!") == []
    assert TitleLinker.from_records([]).link("Inception") == []


def test_records_without_popularity_or_votes():
    bare = [TitleRecord(r.tmdb_id, r.title, r.original_title, r.year, None, None) for r in RECORDS]
    linker = TitleLinker.from_records(bare)
    assert found(linker.link("something like Inception but funnier")) == [("Inception", 2010)]
    assert found(linker.link("Dune 1984")) == [("Dune", 1984)]
    assert linker.link("I love horror movies") == []


# --- The shipped demo catalog --------------------------------------------------------------


def demo_records(*, with_popularity: bool = True) -> list[TitleRecord]:
    records = []
    with DEMO_MOVIES.open(encoding="utf-8") as lines:
        for line in lines:
            movie = json.loads(line)
            records.append(
                TitleRecord(
                    tmdb_id=movie["tmdb_id"],
                    title=movie["title"],
                    original_title=movie.get("original_title") or "",
                    year=movie.get("year"),
                    popularity=movie.get("popularity") if with_popularity else None,
                    vote_count=movie.get("vote_count") if with_popularity else None,
                )
            )
    return records


DEMO_POSITIVE = [
    ("something like Inception but funnier", ["Inception"]),
    ("the godfather part 2", ["The Godfather: Part II"]),
    ("Amelie", ["Amélie"]),
    ("Spirited Away (2001)", ["Spirited Away"]),
    ("who directed heat?", ["Heat"]),
    ("movies like the dark knight", ["The Dark Knight"]),
    ("I loved Parasite and Oldboy", ["Parasite", "Oldboy"]),
    ("star wars", ["Star Wars"]),
    ("godfater", ["The Godfather"]),
    ("Schindlers List", ["Schindler's List"]),
    ("something like Up but funnier", ["Up"]),
    ("lord of the rings", ["The Lord of the Rings: The Fellowship of the Ring"]),
    ("spiderman 2", ["Spider-Man 2"]),
    ("wall-e", ["WALL·E"]),
    ("pride and prejudice", ["Pride & Prejudice"]),
]


@pytest.mark.parametrize("with_popularity", [True, False], ids=["popularity", "no-popularity"])
def test_demo_catalog(with_popularity):
    linker = TitleLinker.from_records(demo_records(with_popularity=with_popularity))
    assert len(linker) >= 300
    for message, expected in DEMO_POSITIVE:
        assert [link.title for link in linker.link(message)] == expected, message
    harry = linker.link("more like harry potter")
    assert len(harry) == 1 and harry[0].title.startswith("Harry Potter")
    # The demo catalog has Up, It, Her, Us, Heat, Love Actually, Home Alone, About Time...
    for message in NEGATIVE:
        assert linker.link(message) == [], message


# --- The real TMDB top 10,000 -----------------------------------------------------------------

CASUAL_MENTIONS = [
    ("have you seen the shawshank redemption?", "The Shawshank Redemption"),
    ("something like pulp fiction", "Pulp Fiction"),
    ("forrest gump", "Forrest Gump"),
    ("is the dark knight good?", "The Dark Knight"),
    ("who directed inception", "Inception"),
    ("movies like fight club but newer", "Fight Club"),
    ("I loved parasite", "Parasite"),
    ("spirited away", "Spirited Away"),
    ("more like the matrix", "The Matrix"),
    ("goodfellas", "GoodFellas"),
    ("se7en", "Se7en"),
    ("something like Gladiator", "Gladiator"),
    ("the lion king", "The Lion King"),
    ("back to the future", "Back to the Future"),
    ("jurassic park", "Jurassic Park"),
    ("avengers endgame", "Avengers: Endgame"),
    ("spider-man no way home", "Spider-Man: No Way Home"),
    ("Amelie", "Amélie"),
    ("whiplash", "Whiplash"),
    ("la la land", "La La Land"),
    ("interstelar", "Interstellar"),
    ("the shawshank redemtion", "The Shawshank Redemption"),
    ("hunger games", "The Hunger Games"),
    ("godfather 2", "The Godfather: Part II"),
    ("star wars", "Star Wars"),
    ("who directed heat?", "Heat"),
]

ORDINARY_REQUESTS = [
    "I love horror movies",
    "something funny",
    "a movie about time travel",
    "scary movies for tonight",
    "a French comedy from the 90s",
    "what can you do",
    "hi there",
    "good movies",
    "an action movie with a heist",
    "movies that make me cry",
    "recommend a thriller with a twist",
    "I want something romantic but not cheesy",
    "any good sci-fi from the 80s?",
    "a movie about an assassin looking for revenge",
    "something set in an airport",
    "show me movies about survival in the arctic",
    "a feel-good film for a rainy sunday",
    "something short, under 90 minutes",
    "films about a boxer who makes a comeback",
    "something my kids can watch",
    "a road trip comedy",
    "a war film that isn't too violent",
    "a dark psychological thriller",
    "movies with strong female leads",
    "a coming of age story set in high school",
    "space movies with aliens",
    "something scary but not gory",
    "a zombie apocalypse movie",
    "movies with Keanu Reeves",
    "films directed by Christopher Nolan",
    "pick a random good film",
    "I want to get out of the house",
    "something dark and twisted",
    "a detective story in london",
]


def tmdb_top10k_records(folder: Path) -> list[TitleRecord]:
    path = folder / "tmdb-top10k" / "top10K-TMDB-movies.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    records = []
    with path.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            date = row["release_date"] or ""
            records.append(
                TitleRecord(
                    tmdb_id=int(row["id"]),
                    title=row["title"],
                    original_title=row["title"],
                    year=int(date[:4]) if date[:4].isdigit() else None,
                    popularity=float(row["popularity"]) if row["popularity"] else None,
                    vote_count=int(float(row["vote_count"])) if row["vote_count"] else None,
                )
            )
    return records


@pytest.mark.realdata
def test_tmdb_top10k_links_casual_mentions_and_ignores_requests(shared_data):
    records = tmdb_top10k_records(shared_data)
    started = time.perf_counter()
    linker = TitleLinker.from_records(records)
    built = time.perf_counter() - started
    assert len(linker) >= 9000

    linked = {
        message: [link.title for link in linker.link(message)] for message, _ in CASUAL_MENTIONS
    }
    missed = {m: linked[m] for m, title in CASUAL_MENTIONS if linked[m][:1] != [title]}
    assert not missed
    false_links = {m: titles for m in ORDINARY_REQUESTS if (titles := found(linker.link(m)))}
    assert not false_links

    messages = [message for message, _ in CASUAL_MENTIONS] + ORDINARY_REQUESTS
    started = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for message in messages:
            linker.link(message)
    mean_ms = (time.perf_counter() - started) / (rounds * len(messages)) * 1000
    print(f"\n{len(linker)} titles: build {built:.2f} s, link() mean {mean_ms:.2f} ms")


# --- The linker over the catalog database ---------------------------------------------------


@pytest.fixture
def fresh_catalog_linker():
    title_linking.clear_catalog_title_linker()
    yield
    title_linking.clear_catalog_title_linker()


@pytest.mark.django_db
def test_from_catalog_reads_the_movie_table():
    from catalog.models import Movie

    Movie.objects.create(tmdb_id=949, title="Heat", year=1995, popularity=40.0, vote_count=6500)
    Movie.objects.create(tmdb_id=670, title="Oldboy", original_title="올드보이", year=2003)
    linker = TitleLinker.from_catalog()
    assert len(linker) == 2
    assert found(linker.link("who directed heat?")) == [("Heat", 1995)]
    assert found(linker.link("올드보이")) == [("Oldboy", 2003)]
    assert linker.link("I love horror movies") == []


@pytest.mark.django_db
def test_catalog_linker_sees_a_new_film_once_the_check_interval_passes(
    fresh_catalog_linker, monkeypatch, django_assert_num_queries
):
    from catalog.models import Movie

    Movie.objects.create(tmdb_id=949, title="Heat", year=1995)
    first = catalog_title_linker()
    assert found(first.link("something like Heat")) == [("Heat", 1995)]

    Movie.objects.create(tmdb_id=496243, title="Parasite", year=2019)
    # Within the interval the cached linker answers, without asking the database.
    monkeypatch.setattr(catalog_cache, "CATALOG_CHECK_SECONDS", 3600.0)
    with django_assert_num_queries(0):
        assert catalog_title_linker() is first
    assert first.link("I loved Parasite") == []

    monkeypatch.setattr(catalog_cache, "CATALOG_CHECK_SECONDS", 0.0)
    rebuilt = catalog_title_linker()
    assert rebuilt is not first
    assert found(rebuilt.link("I loved Parasite")) == [("Parasite", 2019)]
    # Nothing changed since: the check is one cheap query, not a rebuild.
    with django_assert_num_queries(1):
        assert catalog_title_linker() is rebuilt


@pytest.mark.django_db
def test_catalog_linker_sees_a_renamed_film(fresh_catalog_linker, monkeypatch):
    from catalog.models import Movie

    monkeypatch.setattr(catalog_cache, "CATALOG_CHECK_SECONDS", 0.0)
    movie = Movie.objects.create(tmdb_id=11, title="Star Wars", year=1977)
    assert found(catalog_title_linker().link("star wars")) == [("Star Wars", 1977)]
    movie.title = "Star Wars: A New Hope"
    movie.save()
    assert found(catalog_title_linker().link("star wars a new hope")) == [
        ("Star Wars: A New Hope", 1977)
    ]
