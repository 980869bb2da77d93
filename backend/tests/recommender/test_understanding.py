"""Reading a request in its conversation: follow-ups, merged constraints, pointers to films."""

from __future__ import annotations

from datetime import date

from movie_constraints import parse_constraints
from recommender.understanding import (
    Turn,
    content_words,
    is_follow_up,
    merge_constraints,
    read_request,
    referenced_movie,
)

TODAY = date(2026, 11, 21)


def test_a_first_message_is_never_a_follow_up():
    assert not is_follow_up("from the 90s", has_title=False, previous_user_turns=0)


def test_refinements_continue_the_previous_request():
    for text in ["from the 90s instead", "funnier", "and in French?", "no horror please", "more"]:
        assert is_follow_up(text, has_title=False, previous_user_turns=1), text


def test_a_new_subject_starts_a_new_topic():
    assert not is_follow_up(
        "I want a slow burning psychological thriller set in Scandinavia",
        has_title=False,
        previous_user_turns=2,
    )
    assert not is_follow_up("something like Inception", has_title=True, previous_user_turns=1)


def test_later_constraints_override_and_accumulate():
    earlier = parse_constraints("a comedy from the 80s with no horror", today_year=2026)
    later = parse_constraints("from the 90s instead, and romantic", today_year=2026)
    merged = merge_constraints(earlier, later)
    assert (merged.year_min, merged.year_max) == (1990, 1999)
    assert "Comedy" in merged.genres and "Romance" in merged.genres
    assert merged.exclude_genres == ("Horror",)


def test_wanting_an_excluded_genre_lifts_the_exclusion():
    earlier = parse_constraints("a thriller, no horror", today_year=2026)
    later = parse_constraints("actually some horror is fine, a horror movie", today_year=2026)
    merged = merge_constraints(earlier, later)
    assert "Horror" in merged.genres
    assert "Horror" not in merged.exclude_genres


def test_excluded_languages_accumulate_and_a_wish_lifts_them():
    earlier = parse_constraints("a Spanish thriller", today_year=2026)
    not_spanish = merge_constraints(earlier, parse_constraints("not in spanish", today_year=2026))
    assert not_spanish.language is None
    assert not_spanish.exclude_languages == ("es",)
    no_french = merge_constraints(not_spanish, parse_constraints("no French either"))
    assert no_french.exclude_languages == ("es", "fr")
    spanish_again = merge_constraints(no_french, parse_constraints("ok, in Spanish after all"))
    assert spanish_again.language == "es"
    assert spanish_again.exclude_languages == ("fr",)


def test_a_follow_up_reads_the_whole_topic():
    turns = [
        Turn("user", "a French comedy"),
        Turn("assistant", "Try Amélie.", movie_ids=(194,)),
    ]
    reading = read_request("from the 90s", turns, today=TODAY)
    assert reading.is_follow_up
    assert reading.topic_texts == ["a French comedy", "from the 90s"]
    assert reading.constraints.language == "fr"
    assert "Comedy" in reading.constraints.genres
    assert (reading.constraints.year_min, reading.constraints.year_max) == (1990, 1999)


def test_a_new_topic_forgets_the_old_constraints():
    turns = [Turn("user", "a French comedy"), Turn("assistant", "Try Amélie.")]
    reading = read_request("a gritty crime drama about the mafia in New York", turns, today=TODAY)
    assert not reading.is_follow_up
    assert reading.constraints.language is None
    assert "Comedy" not in reading.constraints.genres


def test_ordinals_point_at_the_last_recommendations():
    turns = [Turn("user", "space movies"), Turn("assistant", "...", movie_ids=(11, 12, 13))]
    assert referenced_movie("more like the second one", turns) == 12
    assert referenced_movie("the last one looks good, more like that", turns) == 13
    assert referenced_movie("more like that", turns) == 11
    assert referenced_movie("something funny", turns) is None


def test_residual_is_what_rules_and_titles_do_not_explain():
    reading = read_request("a French comedy from the 90s", [], today=TODAY)
    assert reading.residual == ""
    reading = read_request("movies that feel like a warm hug", [], today=TODAY)
    assert "warm" in reading.residual and "hug" in reading.residual
    text = "something like Inception but with more heart"
    start = text.index("Inception")
    reading = read_request(text, [], title_spans=[(start, start + 9)], today=TODAY)
    assert reading.residual == "heart"
    text = "something like Inception but funnier"  # "funnier" is read as a genre
    reading = read_request(text, [], title_spans=[(start, start + 9)], today=TODAY)
    assert reading.residual == ""
    assert reading.constraints.genres == ("Comedy",)


def test_content_words_drop_request_filler():
    assert content_words("Can you show me some good movies please") == []
    assert content_words("films about grief and healing") == ["grief", "healing"]
