"""Fusion, quality prior and diversity of the final ranking."""

from __future__ import annotations

from recommender.ranking import (
    CandidateList,
    MovieFacts,
    bayesian_rating,
    franchise_key,
    fuse,
    rank,
)


def facts(movie_id, title, *, genres=("Drama",), average=7.0, votes=1000):
    return MovieFacts(movie_id, title, tuple(genres), average, votes)


def test_agreement_between_routes_beats_one_route():
    lists = [CandidateList("a", [1, 2, 3]), CandidateList("b", [3, 4, 5])]
    contributions = fuse(lists)
    assert sum(contributions[3].values()) > sum(contributions[1].values())


def test_bayesian_rating_distrusts_few_votes():
    assert bayesian_rating(9.5, 10) < bayesian_rating(8.0, 20_000)
    assert bayesian_rating(None, None) == bayesian_rating(7.0, 0)


def test_quality_breaks_near_ties():
    catalog = {
        1: facts(1, "Obscure", average=5.0, votes=30),
        2: facts(2, "Classic", average=8.5, votes=15_000),
    }
    ranked = rank([CandidateList("search", [1, 2])], catalog, limit=2)
    assert [r.id for r in ranked] == [2, 1]
    assert ranked[0].score == 1.0


def test_relevance_still_dominates_quality():
    catalog = {i: facts(i, f"Film {i}", average=6.0 + (i % 3)) for i in range(1, 30)}
    ranked = rank([CandidateList("search", list(range(1, 30)))], catalog, limit=5)
    assert ranked[0].id in (1, 2, 3)


def test_excluded_and_unknown_films_never_appear():
    catalog = {1: facts(1, "A"), 2: facts(2, "B")}
    ranked = rank([CandidateList("s", [1, 2, 99])], catalog, limit=10, exclude=[1])
    assert [r.id for r in ranked] == [2]


def test_one_film_per_franchise_at_the_top_unless_asked():
    titles = {
        1: "Harry Potter and the Philosopher's Stone",
        2: "Harry Potter and the Chamber of Secrets",
        3: "Harry Potter and the Prisoner of Azkaban",
        4: "The Chronicles of Narnia: The Lion, the Witch and the Wardrobe",
        5: "The Lord of the Rings: The Fellowship of the Ring",
    }
    catalog = {i: facts(i, t) for i, t in titles.items()}
    lists = [CandidateList("s", [1, 2, 3, 4, 5])]
    ranked = [r.id for r in rank(lists, catalog, limit=5)]
    assert ranked[:3] == [1, 4, 5]
    assert set(ranked[3:]) == {2, 3}
    asked = [r.id for r in rank(lists, catalog, limit=5, franchises_wanted={"harry potter"})]
    assert asked[:3] == [1, 2, 3]


def test_franchise_keys():
    assert franchise_key("Toy Story 3") == franchise_key("Toy Story") == "toy story"
    assert franchise_key("The Godfather Part II") == franchise_key("The Godfather")
    assert franchise_key("Star Wars: The Empire Strikes Back") == franchise_key("Star Wars")
    assert franchise_key("Heat") != franchise_key("Heathers")


def test_soft_genres_lift_matching_films():
    catalog = {1: facts(1, "A", genres=("Drama",)), 2: facts(2, "B", genres=("Comedy",))}
    ranked = rank([CandidateList("s", [1, 2])], catalog, limit=2, soft_genres=["Comedy"])
    assert ranked[0].id == 2


def test_a_route_score_gap_outweighs_the_quality_prior():
    catalog = {
        1: facts(1, "New film", average=None, votes=0),
        2: facts(2, "Classic", average=8.5, votes=20000),
    }
    lists = [CandidateList("search", [1, 2], scores={1: 0.8, 2: 0.3})]
    assert [r.id for r in rank(lists, catalog, limit=2)] == [1, 2]
    close = [CandidateList("search", [1, 2], scores={1: 0.61, 2: 0.60})]
    assert [r.id for r in rank(close, catalog, limit=2)] == [2, 1]
