"""The chat API end to end over the demo catalog and the real index, with a fake model service:
contracts, persistence, streaming, degraded modes, feedback and conversations."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from clients.model_service import ModelServiceError
from recommender.models import Conversation, Feedback, Message, Recommendation

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(demo_catalog, chat_client, stub_router) -> APIClient:
    return APIClient()


def chat(api: APIClient, **body):
    return api.post("/api/chat/", body, format="json")


def sse_events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_a_recommendation_turn_returns_catalog_movies_and_is_stored(api, chat_client):
    response = chat(api, message="a French comedy from the 90s")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["intent"] == "recommend"
    assert 1 <= len(body["movies"]) <= 8
    for movie in body["movies"]:
        assert "Comedy" in movie["genres"]
        assert 1990 <= movie["year"] <= 1999
        assert movie["reason"]
        assert set(movie) >= {"id", "title", "overview", "poster_url", "vote_average", "score"}
    assert body["reply"] == chat_client.reply
    assert body["reply_source"] == "model"
    assert body["degraded"] is False
    assert chat_client.enrich_calls == []  # explicit: no enrichment needed

    conversation = Conversation.objects.get(id=body["conversation_id"])
    messages = list(conversation.messages.all())
    assert [m.role for m in messages] == ["user", "assistant"]
    assistant = messages[1]
    assert assistant.id == body["message_id"]
    assert assistant.intent == "recommend"
    assert assistant.understanding["constraints"]["language"] == "fr"
    assert list(assistant.recommendations.values_list("tmdb_id", flat=True)) == [
        m["id"] for m in body["movies"]
    ]


def test_limit_and_reply_false(api, chat_client):
    body = chat(api, message="science fiction movies", limit=3, reply=False).json()
    assert len(body["movies"]) == 3
    assert body["reply"] == ""
    assert body["reply_source"] == "none"
    assert chat_client.chat_calls == []


def test_a_vague_request_is_enriched(api, chat_client):
    chat_client.enrichment = {"genres": ["Drama"], "search_text": "moving drama about loss"}
    body = chat(api, message="movies that feel like a warm hug", reply=False).json()
    assert chat_client.enrich_calls == ["movies that feel like a warm hug"]
    assert body["enrichment"]["search_text"] == "moving drama about loss"
    assert body["degraded"] is False


def test_a_failing_enrichment_degrades_but_answers(api, chat_client):
    chat_client.enrichment = ModelServiceError("boom")
    body = chat(api, message="movies that feel like a warm hug", reply=False).json()
    assert body["movies"]
    assert body["degraded"] is True
    assert body["enrichment"] is None
    assert any("language model" in notice for notice in body["notices"])


def test_similar_to_a_named_film_excludes_it(api):
    body = chat(api, message="something like The Matrix", reply=False).json()
    assert body["intent"] == "similar"
    assert body["movies"]
    assert 603 not in [m["id"] for m in body["movies"]]
    assert all(m["reason"] for m in body["movies"])


def test_movie_info_answers_from_the_database(api, chat_client):
    body = chat(api, message="who directed Heat?").json()
    assert body["intent"] == "movie_info"
    assert body["reply_source"] == "facts"
    assert "Michael Mann" in body["reply"]
    assert [m["title"] for m in body["movies"]] == ["Heat"]
    assert chat_client.chat_calls == []


def test_faq_and_out_of_scope(api):
    faq = chat(api, message="how do I use this?").json()
    assert faq["intent"] == "faq" and faq["reply_source"] == "faq" and faq["movies"] == []
    other = chat(api, message="what's the weather in Paris").json()
    assert other["intent"] == "out_of_scope" and other["movies"] == []


def test_a_reply_naming_other_films_is_replaced_by_the_template(api, chat_client):
    chat_client.reply = "You should watch *Some Film Nobody Showed* tonight."
    body = chat(api, message="science fiction movies").json()
    assert body["reply_source"] == "template"
    assert "Some Film" not in body["reply"]
    assert body["movies"][0]["title"] in body["reply"]


def test_the_reply_describes_the_top_films_and_may_name_any_film_on_screen(
    api, chat_client, settings
):
    settings.CHAT_REPLY_MOVIES = 3
    films = chat(api, message="science fiction movies", reply=False).json()["movies"]
    fifth = films[4]["title"]
    chat_client.reply = f"Start with *{films[0]['title']}*, then try *{fifth}*."
    body = chat(api, message="science fiction movies").json()
    assert [m["id"] for m in body["movies"]] == [m["id"] for m in films]
    prompt = chat_client.chat_calls[-1][-1]["content"]
    assert films[2]["title"] in prompt and fifth not in prompt
    assert body["reply_source"] == "model"
    assert fifth in body["reply"]


def test_model_service_down_degrades_to_keywords_and_template(api, chat_client):
    chat_client.down = True
    response = chat(api, message="a comedy from the 90s")
    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] is True
    assert body["movies"]
    assert all("Comedy" in m["genres"] for m in body["movies"])
    assert body["reply_source"] == "template"
    assert Message.objects.filter(role="assistant", degraded=True).count() == 1


def test_a_follow_up_refines_the_stored_conversation(api):
    first = chat(api, message="a comedy", reply=False).json()
    second = chat(
        api, message="from the 90s", conversation_id=first["conversation_id"], reply=False
    ).json()
    assert second["conversation_id"] == first["conversation_id"]
    assert all("Comedy" in m["genres"] for m in second["movies"])
    assert all(1990 <= m["year"] <= 1999 for m in second["movies"])
    shown_before = {m["id"] for m in first["movies"]}
    assert not shown_before & {m["id"] for m in second["movies"]}
    assert Message.objects.filter(conversation_id=first["conversation_id"]).count() == 4


def test_stateless_history_is_used_instead_of_stored_turns(api):
    body = chat(
        api,
        message="from the 90s",
        history=[
            {"role": "user", "content": "a horror movie"},
            {"role": "assistant", "content": "Try The Shining."},
        ],
        reply=False,
    ).json()
    assert all("Horror" in m["genres"] for m in body["movies"])
    assert all(1990 <= m["year"] <= 1999 for m in body["movies"])


def test_thumbs_down_films_are_not_shown_again(api):
    first = chat(api, message="science fiction movies", reply=False).json()
    disliked = first["movies"][0]["id"]
    response = api.post(
        "/api/feedback/",
        {"message_id": first["message_id"], "movie_id": disliked, "rating": -1},
        format="json",
    )
    assert response.status_code == 201
    again = chat(api, message="more", conversation_id=first["conversation_id"], reply=False).json()
    assert disliked not in [m["id"] for m in again["movies"]]


def test_feedback_is_stored_and_can_change(api):
    body = chat(api, message="science fiction movies").json()
    url = "/api/feedback/"
    first = api.post(url, {"message_id": body["message_id"], "rating": 1}, format="json")
    assert first.status_code == 201
    again = api.post(
        url, {"message_id": body["message_id"], "rating": -1, "comment": "meh"}, format="json"
    )
    assert again.status_code == 200
    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.comment, feedback.tmdb_id) == (-1, "meh", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message_id": 999999, "rating": 1}, None),
        ({"rating": 1}, "message_id"),
        ({"message_id": 1, "rating": 5}, "rating"),
    ],
)
def test_bad_feedback_is_rejected_clearly(api, body, field):
    response = api.post("/api/feedback/", body, format="json")
    assert response.status_code in (400, 404)
    error = response.json()["error"]
    if field:
        assert field in error["details"]["fields"]
    assert not Feedback.objects.exists()


def test_feedback_on_a_film_not_shown_is_rejected(api):
    body = chat(api, message="science fiction movies", reply=False).json()
    response = api.post(
        "/api/feedback/",
        {"message_id": body["message_id"], "movie_id": 1, "rating": 1},
        format="json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 2001}, "message"),
        ({"message": "hi", "limit": 0}, "limit"),
        ({"message": "hi", "limit": 51}, "limit"),
        ({"message": "hi", "conversation_id": "nope"}, "conversation_id"),
        ({"message": "hi", "filters": {"genres": ["Cartoonz"]}}, "filters.genres"),
        ({"message": "hi", "filters": {"year_min": 2000, "year_max": 1990}}, "filters.year_min"),
        ({"message": "hi", "history": [{"role": "system", "content": "x"}]}, "history[0].role"),
        ({"message": "hi", "history": "not a list"}, "history"),
        ({"message": "hi", "reply": "maybe"}, "reply"),
    ],
)
def test_bad_chat_input_is_a_clear_400_and_stores_nothing(api, body, field):
    response = chat(api, **body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["details"]["fields"], error
    assert not Conversation.objects.exists()


def test_filters_bind(api):
    body = chat(
        api,
        message="something good",
        filters={"genres": ["animation"], "language": "Japanese", "min_rating": 7},
        reply=False,
    ).json()
    assert body["movies"]
    for movie in body["movies"]:
        assert "Animation" in movie["genres"]
        assert movie["original_language"] == "ja"
        assert movie["vote_average"] >= 7


def test_conversation_history_endpoint(api):
    first = chat(api, message="science fiction movies").json()
    url = f"/api/conversations/{first['conversation_id']}/"
    body = api.get(url).json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][0]["content"] == "science fiction movies"
    assert [m["id"] for m in body["messages"][1]["movies"]] == [m["id"] for m in first["movies"]]
    missing = api.get("/api/conversations/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert "omit conversation_id" in missing.json()["error"]["message"]


def test_stream_sends_meta_tokens_done_and_stores_the_turn(api, chat_client):
    response = api.post("/api/chat/stream/", {"message": "science fiction movies"}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done"
    assert set(names[1:-1]) == {"token"}
    meta, done = events[0][1], events[-1][1]
    assert meta["movies"] and meta["intent"] == "recommend"
    assert "".join(data["text"] for name, data in events if name == "token") == chat_client.reply
    assert done["reply"] == chat_client.reply and done["replaced"] is False
    message = Message.objects.get(id=done["message_id"])
    assert str(message.conversation_id) == meta["conversation_id"]
    assert Recommendation.objects.filter(message=message).count() == len(meta["movies"])


def test_stream_replaces_a_straying_reply_in_done(api, chat_client):
    chat_client.reply = "Watch *Nothing We Showed* now. It is great."
    events = sse_events(
        api.post("/api/chat/stream/", {"message": "science fiction movies"}, format="json")
    )
    done = events[-1][1]
    assert done["replaced"] is True
    assert done["reply_source"] == "template"
    assert Message.objects.get(id=done["message_id"]).content == done["reply"]


def test_stream_replaces_a_reply_caught_in_a_loop(api, chat_client):
    loop = "a grumpy widower who is trying to save his family from "
    chat_client.reply = "This one is just the thing: " + loop * 4
    events = sse_events(
        api.post("/api/chat/stream/", {"message": "science fiction movies"}, format="json")
    )
    done = events[-1][1]
    assert done["replaced"] is True and done["reply_source"] == "template"
    assert "widower" not in done["reply"]
    assert "circles" in " ".join(done["notices"])


def test_a_phrase_used_twice_is_not_a_loop():
    from recommender.reply_stream import repeats_itself

    assert not repeats_itself(
        "Alien is a tense film set in space. Aliens is a louder film set in space, and both "
        "are a tense film set in space."
    )
    assert repeats_itself("so good " * 9)


def test_stream_bad_input_is_json_not_sse(api):
    response = api.post("/api/chat/stream/", {"message": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_follow_up_stays_about_the_film_its_topic_named(api):
    first = chat(api, message="something like The Matrix", reply=False).json()
    chat(api, message="from the 2000s", conversation_id=first["conversation_id"], reply=False)
    stored = Message.objects.filter(role="assistant").order_by("-id").first()
    assert stored.understanding["references"] == [{"id": 603, "title": "The Matrix"}]
    assert stored.understanding["constraints"]["year_min"] == 2000


def test_when_nothing_fits_every_constraint_some_are_let_go_and_it_says_so(api):
    body = chat(api, message="a comedy from 1890", reply=False).json()
    assert body["movies"]
    assert all("Comedy" in m["genres"] for m in body["movies"])
    assert any("without its year" in notice for notice in body["notices"])


def test_vector_index_down_degrades_to_the_database(api, monkeypatch):
    import recommender.apis
    from vector_index import IndexUnavailable

    def broken():
        raise IndexUnavailable("index files are missing")

    monkeypatch.setattr(recommender.apis, "get_catalog_index", broken)
    body = chat(api, message="something like The Matrix, a science fiction film", reply=False)
    assert body.status_code == 200
    data = body.json()
    assert data["degraded"] is True
    assert data["movies"] and 603 not in [m["id"] for m in data["movies"]]
    assert any("verify --repair" in notice for notice in data["notices"])


def test_a_question_about_the_film_on_screen_is_answered_from_the_database(api):
    facts = chat(api, message="who directed Heat?").json()
    follow = chat(api, message="how long is it?", conversation_id=facts["conversation_id"]).json()
    assert follow["intent"] == "movie_info"
    assert "170 minutes" in follow["reply"]
    fresh = chat(api, message="how long is it?", reply=False).json()
    assert fresh["intent"] != "movie_info" or fresh["movies"] == []


TOM_HANKS = {13, 497, 857, 858, 862, 863, 10193, 614934}
NOLAN = {77, 155, 272, 1124, 27205, 157336, 374720}


def test_a_named_person_gives_their_films_with_the_constraints(api, chat_client):
    body = chat(api, message="tom hanks comedies", reply=False).json()
    ids = [m["id"] for m in body["movies"]]
    assert ids and set(ids) <= TOM_HANKS
    assert all("Comedy" in m["genres"] for m in body["movies"])
    assert all(m["reason"].startswith("with Tom Hanks") for m in body["movies"])
    stored = Message.objects.filter(role="assistant").latest("id")
    assert stored.understanding["people"][0]["name"] == "Tom Hanks"
    assert chat_client.enrich_calls == []  # the name explains itself


def test_a_directors_surname_and_a_follow_up_keep_to_their_films(api):
    first = chat(api, message="a Nolan film", limit=3, reply=False).json()
    assert {m["id"] for m in first["movies"]} <= NOLAN
    assert first["movies"][0]["reason"].startswith("directed by Christopher Nolan")
    more = chat(api, message="older ones?", conversation_id=first["conversation_id"], reply=False)
    ids = {m["id"] for m in more.json()["movies"]}
    assert ids and ids <= NOLAN and not ids & {m["id"] for m in first["movies"]}


def test_he_is_the_person_the_last_reply_named(api):
    facts = chat(api, message="who directed Inception?").json()
    assert "Christopher Nolan" in facts["reply"]
    more = chat(
        api, message="what else did he direct?", conversation_id=facts["conversation_id"],
        reply=False,
    ).json()  # fmt: skip
    assert more["intent"] == "recommend"
    ids = {m["id"] for m in more["movies"]}
    assert ids and ids <= NOLAN - {27205}


def test_a_person_can_be_excluded(api):
    body = chat(api, message="family animation, nothing with Tom Hanks", limit=20, reply=False)
    ids = {m["id"] for m in body.json()["movies"]}
    assert ids and not ids & TOM_HANKS


def test_a_person_with_no_fitting_film_gives_close_matches_and_says_so(api):
    body = chat(api, message="tom hanks horror films", reply=False).json()
    assert body["movies"]
    assert any("No other film with Tom Hanks" in notice for notice in body["notices"])


def test_a_language_can_be_excluded_and_the_exclusion_is_kept(api):
    first = chat(api, message="a thriller, but not in English", limit=20, reply=False).json()
    assert first["movies"] and all(m["original_language"] != "en" for m in first["movies"])
    more = chat(
        api, message="and no Korean either", conversation_id=first["conversation_id"], limit=20,
        reply=False,
    ).json()  # fmt: skip
    assert more["movies"]
    assert all(m["original_language"] not in ("en", "ko") for m in more["movies"])


def test_like_a_directors_film_is_a_likeness_not_a_filter(api):
    body = chat(api, message="something like a Christopher Nolan film", reply=False).json()
    ids = {m["id"] for m in body["movies"]}
    assert ids - NOLAN  # not only his films
    stored = Message.objects.filter(role="assistant").latest("id")
    assert stored.understanding["references"][:2] == [
        {"id": 27205, "title": "Inception"},
        {"id": 157336, "title": "Interstellar"},
    ]  # his two best-known films, as "more like" anchors


def test_newer_and_older_are_relative_to_the_films_shown(api):
    first = chat(api, message="science fiction from the 80s", limit=4, reply=False).json()
    shown = sorted(m["year"] for m in first["movies"])
    middle = shown[len(shown) // 2]
    newer = chat(
        api, message="something newer", conversation_id=first["conversation_id"], reply=False
    ).json()
    assert newer["movies"] and all(m["year"] > middle for m in newer["movies"])
    assert all("Science Fiction" in m["genres"] for m in newer["movies"])
    # Relative to the films shown last.
    shown = sorted(m["year"] for m in newer["movies"])
    middle = shown[len(shown) // 2]
    older = chat(
        api, message="older ones?", conversation_id=first["conversation_id"], reply=False
    ).json()
    assert older["movies"] and all(m["year"] < middle for m in older["movies"])


def test_an_excluded_person_refines_the_running_request(api):
    first = chat(api, message="animated fantasy films", limit=3, reply=False).json()
    more = chat(
        api, message="not miyazaki", conversation_id=first["conversation_id"], limit=20,
        reply=False,
    ).json()  # fmt: skip
    assert more["intent"] == "recommend"
    ids = {m["id"] for m in more["movies"]}
    assert ids and not ids & {81, 128, 129, 4935, 8392, 10515, 11621, 12429, 16859, 149870}
    assert all({"Animation", "Fantasy"} & set(m["genres"]) for m in more["movies"])


def test_a_plain_word_that_is_also_a_title_is_not_a_stray(api, chat_client):
    # "Heat" is a catalog film; "heat" in prose is a word.
    films = chat(api, message="science fiction movies", reply=False).json()["movies"]
    chat_client.reply = f"{films[0]['title']} turns up the heat from its first scene."
    body = chat(api, message="science fiction movies").json()
    assert body["reply_source"] == "model"
    chat_client.reply = f"{films[0]['title']} is great, and so is Heat."
    assert chat(api, message="science fiction movies").json()["reply_source"] == "template"
