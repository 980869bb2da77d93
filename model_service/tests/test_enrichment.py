"""Enrichment logic without a model: repairing model JSON, grounding it in the request, caching."""

from __future__ import annotations

import pytest

from model_service.enrichment import (
    EnrichmentCache,
    EnrichmentResult,
    enrich_from,
    fallback_search_text,
    parse_model_json,
    title_candidates,
    title_named,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"genres":["Drama"],"search_text":"sad film"}',
            {"genres": ["Drama"], "search_text": "sad film"},
        ),
        ('```json\n{"search_text": "x"}\n```', {"search_text": "x"}),
        ('Sure! Here is the JSON: {"search_text": "x"} Hope it helps.', {"search_text": "x"}),
        # cut off by max_tokens inside a string, a list, after a key
        ('{"genres":["Drama","Rom', {"genres": ["Drama", "Rom"]}),
        (
            '{"genres":["Drama"],"search_text":"a sad fi',
            {"genres": ["Drama"], "search_text": "a sad fi"},
        ),
        ('{"genres":["Drama"],"year_min":', {"genres": ["Drama"]}),
        ('{"themes":["loss"],', {"themes": ["loss"]}),
        ("I cannot help with that request.", None),
        ("", None),
        ("[1, 2, 3]", None),
    ],
)
def test_parse_model_json_repairs_what_can_be_repaired(text, expected):
    assert parse_model_json(text) == expected


def test_model_output_is_normalised_to_the_catalog_vocabulary():
    result = enrich_from(
        {
            "genres": ["sci-fi", "comedy", "Comedy", "not a genre"],
            "themes": ["time travel", "", 42, None],
            "moods": "funny",
            "search_text": "  a   funny time travel film ",
        },
        "a funny time travel movie",
    )
    assert result.genres == ["Comedy", "Science Fiction"] or set(result.genres) == {
        "Comedy",
        "Science Fiction",
    }
    assert result.themes == ["time travel", "42"]
    assert result.moods == ["funny"]
    assert result.search_text == "a funny time travel film"
    assert result.fallback is False


def test_reference_titles_must_be_named_by_the_user():
    result = enrich_from(
        {"reference_titles": ["Inception", "Interstellar"], "search_text": "x"},
        "something like inception but funnier",
    )
    assert result.reference_titles == ["Inception"]


@pytest.mark.parametrize(
    ("title", "text", "named"),
    [
        ("The Godfather Part II", "the godfather part 2 vibes", True),
        ("Amélie", "like Amelie", True),
        ("Spirited Away", "Spirited Away (2001)", True),
        ("Alien", "aliens invading earth", False),
        ("Heat", "in the heat of summer", True),  # named words are all there: the model decides
        ("The Matrix", "matrix multiplication", True),
        ("Ocean's Eleven", "a comedy", False),
    ],
)
def test_title_named(title, text, named):
    assert title_named(title, text) is named


def test_years_and_language_come_from_the_rules_when_the_request_states_them():
    result = enrich_from(
        {"year_min": 1985, "year_max": 2000, "language": "it", "search_text": "x"},
        "a French comedy from the 90s",
    )
    assert (result.year_min, result.year_max) == (1990, 1999)
    assert result.language == "fr"
    assert "Comedy" in result.genres


def test_model_years_and_language_without_footing_in_the_request_are_dropped():
    result = enrich_from(
        {"year_min": 2015, "language": "ja", "search_text": "anime adventure"},
        "a recent anime adventure",
    )
    assert (result.year_min, result.year_max, result.language) == (None, None, None)


def test_exclusions_override_wanted_genres():
    result = enrich_from(
        {"genres": ["Horror", "Comedy"], "exclude_genres": ["Horror"], "search_text": "x"},
        "something light, no horror please",
    )
    assert result.exclude_genres == ["Horror"]
    assert "Horror" not in result.genres


def test_a_follow_up_keeps_constraints_from_earlier_turns():
    history = [("user", "a French heist movie from the 60s"), ("assistant", "Try Rififi.")]
    result = enrich_from(None, "anything funnier?", history)
    assert result.language == "fr"
    assert (result.year_min, result.year_max) == (1960, 1969)
    assert result.fallback is True
    assert "heist" in result.search_text.casefold()


def test_fallback_search_text_keeps_the_users_words():
    text = fallback_search_text("show me some movies about grief and healing from the 2000s please")
    assert "grief" in text and "healing" in text
    assert len(text) <= 300


def test_cache_is_bounded_lru_and_skips_fallbacks():
    cache = EnrichmentCache(2)
    keys = [EnrichmentCache.key("m", f"request {i}", ()) for i in range(3)]
    for key in keys:
        cache.put(key, EnrichmentResult(search_text="x"))
    assert cache.get(keys[0]) is None
    assert cache.get(keys[2]) is not None
    assert EnrichmentCache.key("m", "  Request   0 ", ()) == EnrichmentCache.key(
        "m", "request 0", ()
    )
    cache.put(keys[0], EnrichmentResult(search_text="x", fallback=True))
    assert cache.get(keys[0]) is None


@pytest.mark.parametrize(
    ("message", "titles"),
    [
        ("something like inception but funnier", ["Inception"]),
        ("movies like Heat and Ocean's Eleven", ["Heat", "Ocean's Eleven"]),
        ("a romantic comedy like when harry met sally", ["When Harry Met Sally"]),
        ("looking for something with Inception vibes", ["Inception"]),
        ("scary movies for kids like coraline or paranorman", ["Coraline", "Paranorman"]),
        ("a movie like The Lord of the Rings, please", ["The Lord of the Rings"]),
        ("I'd like a comedy", []),
        ("I would like to watch a thriller", []),
        ("feel like watching something scary", []),
        ("films like the ones from the 90s", []),
        ("something like a horror comedy", []),
    ],
)
def test_title_candidates_from_phrasing(message, titles):
    assert title_candidates(message) == titles


def test_phrasing_supplies_titles_when_the_model_names_none():
    result = enrich_from(
        {"reference_titles": [], "search_text": "x"}, "i loved arrival, more please"
    )
    assert result.reference_titles == ["Arrival"]
    assert enrich_from(None, "something like heat but older").reference_titles == ["Heat"]
