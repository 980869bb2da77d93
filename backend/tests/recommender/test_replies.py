"""Grounding check, fact answers and templates."""

from __future__ import annotations

from recommender.replies import (
    MovieFactSheet,
    ReplyMovie,
    fact_answer,
    grounding_violations,
    recommendation_template,
    reply_messages,
)

SHOWN = [
    ReplyMovie(
        27205, "Inception", 2010, ["Action", "Science Fiction"], "A thief enters dreams.", "dreams"
    ),
    ReplyMovie(77, "Memento", 2000, ["Mystery", "Thriller"], "A man without memory hunts.", ""),
]


def test_a_reply_naming_only_shown_films_passes():
    reply = "Try *Inception* (2010), a heist inside dreams, or **Memento**, told backwards."
    assert grounding_violations(reply, SHOWN) == []


def test_a_film_outside_the_list_is_caught_by_emphasis_or_year():
    assert grounding_violations("You will love *The Matrix* too.", SHOWN) == ["The Matrix"]
    assert any("Tenet" in v for v in grounding_violations("Also see Tenet (2020).", SHOWN))


def test_a_shown_title_with_lower_case_words_before_its_year_is_not_a_stray():
    shown = [
        ReplyMovie(673, "Harry Potter and the Prisoner of Azkaban", 2004, [], "", ""),
        ReplyMovie(545611, "Everything Everywhere All at Once", 2022, [], "", ""),
    ]
    reply = (
        "Try Harry Potter and the Prisoner of Azkaban (2004) or Everything Everywhere All "
        "at Once (2022)."
    )
    assert grounding_violations(reply, shown) == []
    # The same tail with another year is another film.
    assert grounding_violations("See also Once (2007), a busker's love story.", shown) == ["Once"]


def test_catalog_films_named_plainly_are_caught_by_the_linker():
    def linker(text):
        return [(603, "The Matrix")] if "Matrix" in text else []

    assert grounding_violations("Inception pairs well with The Matrix.", SHOWN, link_titles=linker)
    assert not grounding_violations("Inception is a treat.", SHOWN, link_titles=linker)


def test_prompt_lists_only_the_shown_films():
    messages = reply_messages("something mind-bending", [], SHOWN)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    prompt = messages[-1]["content"]
    assert prompt.startswith("Request: something mind-bending")
    assert "- Inception (2010) | " in prompt
    assert "- Memento (2000) | " in prompt
    # The worked example's films are made up: none of them is a catalog title to stray to.
    assert "Starlight Diner" in messages[1]["content"] + messages[2]["content"]


def test_prompt_gives_the_person_a_film_was_picked_for_and_no_other_film():
    picked = [
        ReplyMovie(155, "The Dark Knight", 2008, ["Action"], "Batman.", "directed by "
                   "Christopher Nolan · action · 2000s"),
        ReplyMovie(13, "Forrest Gump", 1994, ["Drama"], "A life.", "with Tom Hanks"),
        ReplyMovie(807, "Se7en", 1995, ["Crime"], "Two detectives.", "liked by fans of Zodiac"),
    ]  # fmt: skip
    prompt = reply_messages("nolan or hanks", [], picked)[-1]["content"]
    assert "- The Dark Knight (2008) | Action | directed by Christopher Nolan | Batman." in prompt
    assert "- Forrest Gump (1994) | Drama | with Tom Hanks | A life." in prompt
    assert "Zodiac" not in prompt  # a film the reply must not name


def test_template_names_the_top_films():
    text = recommendation_template(SHOWN, similar_to="Interstellar")
    assert text.startswith("If you liked Interstellar, try Inception (2010) and Memento (2000).")
    assert "no" in recommendation_template([]).lower() or "couldn't" in recommendation_template([])


def test_fact_answers_use_only_the_sheet():
    sheet = MovieFactSheet(
        title="Heat", year=1995, director="Michael Mann", cast=["Al Pacino", "Robert De Niro"],
        runtime=170, genres=["Crime", "Thriller"], language="en", vote_average=7.9,
        vote_count=6000, overview="A detective hunts a master thief.",
    )  # fmt: skip
    assert fact_answer("who directed heat?", sheet) == "Heat (1995) was directed by Michael Mann."
    assert "170 minutes" in fact_answer("how long is Heat", sheet)
    assert "Al Pacino" in fact_answer("who stars in heat", sheet)
    assert fact_answer("what is Heat about", sheet).endswith("A detective hunts a master thief.")
    empty = MovieFactSheet("X", None, "", [], None, [], "", None, None, "")
    assert "does not say who directed" in fact_answer("who directed X", empty)
