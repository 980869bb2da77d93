"""Intent routing: label a chat message by its similarity to key-query exemplars, plus cues.

How it works
------------
1. **Exemplars.** data/intents/exemplars.jsonl holds example utterances per intent. They are
   embedded once (the same model that embeds chat messages) and cached: in-process, and on disk
   under VAR_DIR/cache/, keyed by the embedding model id and the sha256 of the file, so a
   restart does not re-embed and a new model or an edited file does.
2. **Similarity vote.** All vectors are centred on the exemplars' mean and re-normalised
   (MiniLM vectors share a large common component; removing it sharpens the differences that
   carry intent). An intent's score is half the cosine to its centroid plus half the mean of
   its top-k exemplar cosines; a softmax with temperature T turns scores into probabilities.
   On its own this vote is weak (MiniLM places "who directed Heat?" near "more like Heat":
   topic outweighs intent), which is why the cues below decide whenever they can.
3. **Calibration without the evaluation set.** At build time, leave-one-out over the exemplars
   (each exemplar classified by all the others) picks T (the value that minimises the
   leave-one-out log loss, so "confidence" means what it says) and the low-confidence threshold
   (the value that maximises the leave-one-out macro-F1 of the whole decision below, titles
   unknown). Both are cached with the vectors. data/intents/labelled.jsonl is never read here.
4. **Cues that override the vote**, tried in this order (`decide`):
   - a very short follow-up ("more", "another one", "next") → recommend;
   - a bare request for help ("help", "how does this work") → faq;
   - a fact question ("who directed", "when was … released", "how long is", "what is X about",
     "is X scary?") about a linked catalog title → movie_info. The caller passes the title
     spans from the title linker (or just `has_title`); a Capitalised word no link explains
     ("is Up sad?") stands in for a title when the vote is about films or unsure;
   - TV series, books, music, podcasts or games with no film word, or cinema logistics
     (showtimes, tickets, the nearest cinema) → out_of_scope;
   - a likeness cue pointing at a title ("like X", "similar to X", "X but darker", "X-ish")
     → similar; then a fact word about a linked title ("Heat cast") → movie_info;
   - words about Marquee itself (its name, thumbs, filters, privacy, "degraded") → faq,
     unless the vote is chitchat ("hey Marquee");
   - explicit constraints read by movie_constraints.parse_constraints (genres, years, language,
     runtime, rating) → recommend, when the vote is a film intent, the message asks for
     something, or the vote is unsure (so "you're funny" stays chitchat);
   - a chitchat vote on a message that asks for something ("rough week, want something
     uplifting", "recommend me a film") → recommend.
5. **What the vote may not say alone.** similar and movie_info need a film: without a title,
   the vote is taken again among the other intents (a fact question may be about the film on
   screen: "who directed it?" stays). A faq vote with no word tying it to Marquee ("how do I
   fix my wifi") becomes out_of_scope.
6. **Low confidence** (top probability under the threshold): a film vote about a linked title
   stands; a message about films, watching or a genre, or asking for "something …", becomes
   recommend; a film vote with no film in sight becomes out_of_scope; a chitchat, faq or
   out_of_scope vote stands.

`IntentRouter.classify` takes the message vector the caller already computed (a chat turn
embeds its message once) and costs a few small numpy operations, a handful of regexes and one
parse_constraints call: well under a millisecond.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings

from clients.model_service import EmbeddingBatch
from movie_constraints import GENRE_TERMS, normalize_genre, normalize_language, parse_constraints

logger = logging.getLogger(__name__)

INTENTS = ("recommend", "similar", "movie_info", "faq", "chitchat", "out_of_scope")
FILM_INTENTS = ("recommend", "similar", "movie_info")

# Scoring: an intent's score mixes the cosine to its centroid with the mean of its TOP_K
# nearest exemplars (leave-one-out over the exemplars preferred this mix to either alone).
TOP_K = 5
CENTROID_WEIGHT = 0.5
# Confidence given to a decision a decisive signal made (the similarity vote may have been
# unsure); the other signals only redirect an unsure vote and keep its probability.
SIGNAL_CONFIDENCE = 0.9
_DECISIVE_SIGNALS = frozenset(
    {
        "followup", "help_request", "fact_question", "other_medium", "cinema", "likeness",
        "fact_word", "faq_cue", "constraints",
    }
)  # fmt: skip
# Used when the exemplars are too few to calibrate (fewer than two per intent).
DEFAULT_TEMPERATURE = 0.05
DEFAULT_THRESHOLD = 0.4
# "recent" in a request is read as the last RECENT_YEARS years when looking for constraints.
RECENT_YEARS = 5
# Bump when what is cached changes shape, so old cache files are ignored.
CACHE_FORMAT = 1
# The calibration cached beside the vectors is redone (without re-embedding) when this module,
# which decides how it is computed, changes.
_CALIBRATION_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


class Embedder(Protocol):
    """What the router needs of an embedder (the model-service client, or a fake in tests).
    An `embedding_model()` method or a `model` attribute, when present, names the model for
    the cache without embedding anything."""

    def embed(self, texts: Sequence[str], *, timeout: float | None = None) -> EmbeddingBatch: ...


@dataclass(frozen=True)
class IntentPrediction:
    intent: str
    confidence: float
    scores: dict[str, float]  # softmax probability per intent from the similarity vote
    nearest: str  # the most similar exemplar's text
    signals: tuple[str, ...] = ()  # which cues fired, e.g. ("title", "fact_question")


# --------------------------------------------------------------------------------------------
# Embedding cache shared by the intent router and the FAQ index.
# --------------------------------------------------------------------------------------------

# (cache file, model, source digest) → cached result
_memory_cache: dict[tuple[str, str, str], dict[str, Any]] = {}
_memory_lock = threading.Lock()


def embedder_model_id(embedder: Any) -> str | None:
    """The embedding model's id without embedding anything, when the embedder can tell."""
    ask = getattr(embedder, "embedding_model", None)
    if callable(ask):
        return str(ask())
    model = getattr(embedder, "model", None)
    return model if isinstance(model, str) and model else None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "model"


def cached_embeddings(
    *,
    kind: str,
    texts: Sequence[str],
    digest: str,
    embedder: Embedder,
    compute_extra: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None,
    extra_version: str = "",
) -> dict[str, Any]:
    """Vectors for `texts` (embedded once per model and source digest), plus derived arrays.

    Looked up in memory, then in VAR_DIR/cache/<kind>-<model>-<digest[:16]>.npz, else
    embedded with one `embedder.embed(texts)` call. `compute_extra(vectors)` adds values derived
    from the vectors that are worth caching too (the router's calibration); they are recomputed
    from the cached vectors, without embedding, when `extra_version` (the code that derives
    them) changed. Returns {"vectors", "model", **extra}.
    """
    texts = list(texts)
    model = embedder_model_id(embedder)
    if model:
        path = _cache_path(kind, model, digest)
        with _memory_lock:
            found = _memory_cache.get((str(path), model, digest))
        if found is None:
            found = _read_cache(path, texts=texts, model=model, digest=digest)
        if found is not None:
            if compute_extra is not None and str(found.get("extra_version")) != extra_version:
                found = {**found, **compute_extra(found["vectors"])}
                found["extra_version"] = np.array(extra_version)
                _write_cache(path, texts=texts, model=model, digest=digest, result=found)
            with _memory_lock:
                _memory_cache[(str(path), model, digest)] = found
            return found
    batch = embedder.embed(texts)
    vectors = np.asarray(batch.vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(f"the embedder returned {vectors.shape} vectors for {len(texts)} texts")
    result: dict[str, Any] = {"vectors": vectors, "model": model or batch.model or ""}
    if compute_extra is not None:
        result.update(compute_extra(vectors))
        result["extra_version"] = np.array(extra_version)
    if result["model"]:
        path = _cache_path(kind, result["model"], digest)
        _write_cache(path, texts=texts, model=result["model"], digest=digest, result=result)
        with _memory_lock:
            _memory_cache[(str(path), result["model"], digest)] = result
    return result


def _cache_path(kind: str, model: str, digest: str) -> Path:
    # VAR_DIR is read on each call: tests (and a moved var/) point it elsewhere.
    return Path(settings.VAR_DIR) / "cache" / f"{kind}-{_slug(model)}-{digest[:16]}.npz"


def _read_cache(path: Path, *, texts: list[str], model: str, digest: str) -> dict[str, Any] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta != {"format": CACHE_FORMAT, "model": model, "sha256": digest, "texts": texts}:
                return None
            result = {name: data[name] for name in data.files if name != "meta"}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        logger.warning("Ignoring unreadable embedding cache %s (%s)", path, exc)
        return None
    vectors = result.get("vectors")
    if vectors is None or vectors.ndim != 2 or vectors.shape[0] != len(texts):
        return None
    result["model"] = model
    return result


def _write_cache(
    path: Path, *, texts: list[str], model: str, digest: str, result: dict[str, Any]
) -> None:
    meta = json.dumps({"format": CACHE_FORMAT, "model": model, "sha256": digest, "texts": texts})
    arrays = {k: np.asarray(v) for k, v in result.items() if k != "model"}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, meta=np.array(meta), **arrays)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only var/ costs a re-embed per process, nothing more
        logger.warning("Could not write embedding cache %s (%s)", path, exc)


def clear_memory_cache() -> None:
    """Forget in-process cached vectors (tests; the disk cache stays)."""
    with _memory_lock:
        _memory_cache.clear()


# --------------------------------------------------------------------------------------------
# Text cues. Patterns run on lower-cased text in which linked titles are replaced by TITLE.
# --------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "`": "'", "\u00b4": "'"})

_FOLLOWUP_RE = re.compile(
    r"(?:(?:ok(?:ay)?|and|so|hmm+|alright|cool|nah|no)[,.!]?\s+)?"
    r"(?:(?:please|pls|plz)\s+)?"
    r"(?:"
    r"(?:some\s+|any\s+|a\s+few\s+|one\s+|even\s+)?more(?:\s+(?:suggestions|options|ideas|picks|"
    r"recommendations|movies|films|of\s+(?:those|these|them)|like\s+(?:that|this|these|those)))?"
    r"|(?:show|give|send|find|get)\s+(?:me\s+|us\s+)?(?:some\s+|a\s+few\s+|a\s+couple\s+)?"
    r"(?:more|others?|other\s+ones|different\s+ones|new\s+ones)"
    r"|(?:got\s+|have\s+you\s+got\s+|do\s+you\s+have\s+)?(?:any\s+|some\s+)?"
    r"(?:others?|other\s+(?:ones|options|suggestions|picks|ideas))"
    r"|another(?:\s+(?:one|suggestion|pick|option))?|next(?:\s+(?:one|please))?|again"
    r"|something\s+else|anything\s+else|else|different\s+(?:ones|suggestions|picks|options)"
    r"|keep\s+(?:going|them\s+coming)|go\s+on|try\s+again|not\s+(?:those|these)"
    r")"
    r"(?:\s+(?:please|pls|plz|thanks|then))?"
)
# Asking for help with Marquee itself, as the whole message.
_HELP_RE = re.compile(
    r"(?:help|help\s+(?:me|please|pls)|i\s+need\s+help|instructions|how\s+to\s+use"
    r"|how\s+do\s+i\s+use\s+(?:this|it|marquee)|how\s+does\s+(?:this|it|marquee)\s+work"
    r"|what\s+(?:is|'s)\s+(?:this|marquee)|menu|commands|options)"
)
_FILM_WORD = r"movies?|films?|flicks?|motion\s+pictures?"
_FILM_WORD_RE = re.compile(rf"\b(?:{_FILM_WORD})\b")
# Wording that makes a message about films even without the word "film".
_FILM_TOPIC_RE = re.compile(
    rf"\b(?:{_FILM_WORD}|cinematic|documentar(?:y|ies)|watch(?:ing|ed)?|genre|director"
    r"|actor|actress|starring|oscars?|blockbusters?|classics?|plot|sequels?"
    r"|(?:plot\s+)?twists?|twist\s+endings?|endings?|scenes?|characters?|villains?"
    r"|protagonists?|storylines?|soundtracks?|cinematography|screenplay"
    # Moods a film is asked for by.
    r"|feel[\s-]?good|uplifting|heart[\s-]?warming|tear[\s-]?jerkers?|spooky|creepy"
    r"|mind[\s-]?(?:bending|blowing)|thought[\s-]?provoking|cosy|cozy|comfort\s+watch)\b"
    r"|\b(?:" + "|".join(GENRE_TERMS) + r")\b"
)
# Wording of a request for something to watch, when no film word is said ("something cozy").
_REQUEST_RE = re.compile(
    r"^(?:i\s+(?:want|need)|i'd\s+like|give\s+me|show\s+me|find\s+me|(?:i'm\s+)?looking\s+for"
    r"|(?:i'm\s+)?in\s+the\s+mood\s+for|something|anything)\b"
    r"|\b(?:recommend|suggest|in\s+the\s+mood\s+for|what\s+(?:should|can|could)\s+(?:i|we)\s+watch)"
    r"|\b(?:wants?|need|needs|fancy|craving)\s+(?:something|anything)\b"
)
# Media Marquee does not cover. "show" only as a noun ("a show", "shows"), never "show me".
_OTHER_MEDIUM_RE = re.compile(
    r"\b(?:(?:tv|television|netflix|hbo|streaming)\s+(?:shows?|series|programmes?|programs?)"
    r"|series|sitcoms?|miniseries|docuseries|(?:a|the|this|that|good|new|tv)\s+show|shows"
    r"|seasons?\s+\d|episodes?|books?|novels?|audiobooks?|comics?|manga|albums?|playlists?"
    r"|podcasts?|video\s*games?|board\s+games?|games?)\b"
)
# Music words are weaker: "a musical with great songs" is a film request.
_MUSIC_RE = re.compile(r"\b(?:songs?|music|bands?|singers?|artists?)\b")
# Cinema logistics: showtimes, tickets, the nearest cinema. Marquee knows films, not venues.
_CINEMA_RE = re.compile(
    r"\b(?:showtimes?|show\s+times|tickets?|box\s+office\s+hours"
    r"|(?:cinemas?|theat(?:er|re)s?|multiplex)\s+(?:near|nearby|close|around|in\s+town)"
    r"|(?:nearest|closest|local|nearby)\s+(?:movie\s+)?(?:cinemas?|theat(?:er|re)s?)"
    r"|(?:what's|what\s+is)\s+(?:playing|on)\s+(?:at|in)\s+(?:the\s+)?(?:cinema|theat(?:er|re)s?)"
    r"|now\s+playing|playing\s+(?:near|nearby)|in\s+theat(?:er|re)s\s+(?:near|nearby))"
)
# A yes/no question that opens the message ("is Alien scary?", "does the dog die in X?"),
# but not one that asks for films ("is there anything like X?", "can you find me ...").
_YES_NO_RE = re.compile(
    r"^(?:is|was|are|were|does|did|do|has|have|had|should|will|would|could|can|isn't|wasn't"
    r"|doesn't|didn't)\s+(?!there\b|you\b|u\b|marquee\b|i\s+(?:get|have|see|find)\b"
    r"|we\s+(?:get|have|see|find)\b|anything\b|something\b|any\b|some\b|movies?\b|films?\b)"
)
# Questions about a fact of a film: who made it, when, how long, what it is about...
_FACT_QUESTION_RE = re.compile(
    r"\bwho(?:'s|\s+is|\s+was)?\s+(?:directed|direct|made|wrote|write|composed|scored|produced"
    r"|plays?|played|stars?|starred|acts?|acted|voices?|voiced|in\b|the\s+(?:director|villain"
    r"|lead|star|main|composer|writer|actor|actress))"
    r"|\b(?:when|what\s+year)\s+(?:was|did|is|does|were|will|came)\b"
    r"|\bhow\s+(?:long|old|many|much|scary|violent|sad|gory|good|bad|graphic|accurate|faithful"
    r"|does|did|is|was|were)\b"
    r"|\bwhat(?:'s|\s+is|\s+was|s)\s+(?!a\b|an\b|some\b|any\b|good\b|the\s+best\b)\S.{0,60}"
    r"\babout\b"
    r"|\bwhat(?:'s|\s+is|\s+was|s)?\s+(?:the\s+)?(?:genre|language|rating|age\s+rating|year"
    r"|runtime|run\s*time|running\s+time|length|budget|plot|story|premise|ending|cast|score"
    r"|soundtrack|message|meaning|twist|rated|mpaa)\b"
    r"|\btell\s+me\s+(?:more\s+)?about\b|\bexplain\b|\bwhere\s+(?:was|is|were)\b"
    r"|\b(?:which|what)\s+(?:came|comes|one|is)\s+(?:first|better|older|longer)\b"
    r"|\b(?:better|worse|scarier|longer|older)\s+than\b|\bvs\.?\b|\bversus\b"
)
# Film facts named without a question ("Heat cast", "Memento ending explained").
_FACT_WORD_RE = re.compile(
    r"\b(?:plot|synopsis|summary|storyline|premise|ending|cast|director|runtime|run\s*time"
    r"|budget|box\s+office|trailer|rating|rated|reviews?|awards?|oscars?|release\s+date"
    r"|spoilers?|sequel|prequel|remake|based\s+on|filmed|soundtrack)\b"
)
_LIKENESS = (
    r"like|similar(?:\s+(?:vibes?|feel|energy|tone|mood))?(?:\s+(?:to|as))?|comparable\s+to"
    r"|close\s+to|akin\s+to|reminiscent\s+of"
    r"|in\s+the\s+(?:vein|spirit|style|mould|mold|tradition|same\s+vein)\s+of"
    r"|along\s+(?:the\s+)?(?:same\s+)?lines\s+of|same\s+(?:vibes?|feel|energy|spirit|tone|mood)"
    r"\s+as|(?:fans?|lovers?)\s+of|if\s+(?:i|you|we)\s+(?:liked|loved|enjoyed|like|love|enjoy)"
    r"|i\s+(?:really\s+)?(?:liked|loved|enjoyed|love|adore|adored)|after\s+(?:watching|seeing"
    r"|finishing)|reminds?\s+(?:me\s+)?of|the\s+likes\s+of"
)
_SUFFIX = r"(?:-\s*)?(?:ish|esque|style|type|like|vibes?|energy|feel|but|meets)\b"
# Without title spans: any likeness wording counts.
_LIKENESS_RE = re.compile(rf"\b(?:{_LIKENESS})\b|\b\w+-(?:ish|esque|style|type)\b|\bvibes?\b")
# With title spans: the wording must point at the title.
_LIKENESS_TITLE_RE = re.compile(
    rf"\b(?:{_LIKENESS})\s+(?:[\w'-]+\s+){{0,2}}?TITLE|TITLE(?:'s)?\s*{_SUFFIX}"
)
_SUFFIXED_RE = re.compile(r".+-(?:ish|esque|style|type|like|vibes?)", re.IGNORECASE)
# A Capitalised word that no title link explains: a film the catalog lacks, or a name.
_NAME_RE = re.compile(r"(?<![\w'])([A-Z][\w'·:-]*|\d\w*[A-Za-z]\w*)")
_NOT_NAME_WORDS = """
i i'm i've i'd i'll marquee ok okay tv ai hi hey hello thanks please what who when where why how
is are was were do does did can could should would will the a an any some anything something
recommend suggest give show find tell netflix hbo oscar oscars monday tuesday wednesday thursday
friday saturday sunday christmas halloween
"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
_FAQ_CUE_RE = re.compile(
    r"\b(?:marquee|this\s+(?:app|site|bot|chatbot|tool|website|service|assistant|page|thing)"
    r"|thumbs?(?:\s+(?:up|down))?|feedback|filters?|chips?|new\s+chat|chat\s+history"
    r"|conversation\s+history|my\s+history|privacy|private|my\s+data|degraded"
    r"|search\s+results\s+only|stop\s+button|rate\s+limit(?:s|ed)?)\b"
    # Questions about how the assistant itself works or what it keeps.
    r"|\b(?:why|how)\s+(?:did|do|does|would)\s+you\b"
    r"|\bwhere\s+do\s+(?:you|your|the\s+(?:movies|films|data|recommendations))\b"
    r"|\bdo\s+you\s+(?:remember|store|keep|save|track|log|learn|collect|sell|share)\b"
)
# Words that tie a question to Marquee (or to its films): a faq vote without any is a question
# about something else ("how do I fix my wifi").
_FAQ_TOPIC_RE = re.compile(
    rf"\b(?:you|your|yours|yourself|u|ur|marquee|this|it|here|{_FILM_WORD}|recommend\w*"
    r"|suggest\w*|picks?|chats?|conversations?|history|data|questions?|languages?|catalog(?:ue)?"
    r"|list|results?|answers?|repl(?:y|ies)|ratings?|genres?|site|app|bot|ai|model|search"
    r"|feedback|filters?|thumbs?|privacy|private|stored?|saved?|keep|delete|reset|clear|ask"
    r"|start\s+over|use|works?|features?|type|typed|sent|send|internet|online|cloud|server)\b"
)


@dataclass(frozen=True)
class _Cues:
    followup: bool  # "more", "another one", "next"
    help_request: bool  # "help", "how does this work"
    other_medium: bool  # TV series, books, music, games... and no film word
    cinema: bool  # showtimes, tickets, the nearest cinema
    film_topic: bool  # films, watching, a genre, or a constraint
    film_request: bool  # a film word, or request wording ("something cozy")
    fact_question: bool  # "who directed", "is X scary?"
    fact_word: bool  # "plot", "cast", "ending"
    likeness: bool  # "like TITLE", "TITLE but darker"
    name: bool  # a Capitalised word that no linked title explains
    name_likeness: bool  # a likeness cue pointing at such a name ("in the style of Trainspotting")
    faq_cue: bool  # Marquee, its buttons, filters, privacy
    faq_topic: bool  # any word tying a question to Marquee
    constraints: bool  # movie_constraints found an explicit constraint


def _masked_text(text: str, title_spans: Sequence[tuple[int, int]]) -> str:
    """Lower-cased text with each linked title replaced by TITLE (so titles trip no cue)."""
    pieces, pos = [], 0
    for start, end in sorted(title_spans):
        if start < pos:
            continue
        pieces.append(text[pos:start].lower())
        pieces.append(" TITLE ")
        pos = end
    pieces.append(text[pos:].lower())
    return " ".join("".join(pieces).translate(_APOSTROPHES).split())


def _bare(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s'-]+", " ", text).split())


def _unlinked_names(text: str, title_spans: Sequence[tuple[int, int]]) -> list[tuple[int, str]]:
    """Capitalised words outside linked titles, not opening a sentence, not common words."""
    names = []
    for match in _NAME_RE.finditer(text):
        start, word = match.start(), match.group(1).rstrip(":-")
        if any(s <= start < e for s, e in title_spans):
            continue
        before = text[:start].rstrip()
        opens_sentence = not before or before[-1] in ".!?\"'("
        if opens_sentence and not _SUFFIXED_RE.fullmatch(word):
            continue  # a sentence's first word is capitalised anyway ("Fargo-ish" still counts)
        key = word.lower().translate(_APOSTROPHES)
        if key in _NOT_NAMES or normalize_language(word) or normalize_genre(word):
            continue
        names.append((start, word))
    return names


def _read_cues(
    text: str, *, has_title: bool, title_spans: Sequence[tuple[int, int]], today_year: int
) -> _Cues:
    text = text.translate(_APOSTROPHES)
    masked = _masked_text(text, title_spans)
    plain = _bare(text.lower())
    followup = len(plain.split()) <= 6 and bool(_FOLLOWUP_RE.fullmatch(plain))
    constraints = not parse_constraints(
        text, today_year=today_year, recent_years=RECENT_YEARS
    ).is_empty
    film_word = bool(_FILM_WORD_RE.search(masked))
    film_topic = film_word or constraints or bool(_FILM_TOPIC_RE.search(masked))
    other_medium = not film_word and (
        bool(_OTHER_MEDIUM_RE.search(masked)) or (bool(_MUSIC_RE.search(masked)) and not film_topic)
    )
    if title_spans:
        likeness = bool(_LIKENESS_TITLE_RE.search(masked))
    else:
        likeness = has_title and bool(_LIKENESS_RE.search(masked))
    names = [] if has_title else _unlinked_names(text, title_spans)
    name_likeness = False
    for start, word in names:
        before = text[:start].lower()
        if re.search(rf"\b(?:{_LIKENESS})\s+(?:\S+\s+){{0,2}}?$", before) or re.match(
            rf"{re.escape(word)}\s*{_SUFFIX}", text[start:], re.IGNORECASE
        ):
            name_likeness = True
            break
        if _SUFFIXED_RE.fullmatch(word):
            name_likeness = True
            break
    return _Cues(
        followup=followup,
        help_request=bool(_HELP_RE.fullmatch(plain)),
        other_medium=other_medium,
        cinema=bool(_CINEMA_RE.search(masked)),
        film_topic=film_topic,
        film_request=film_word or bool(_REQUEST_RE.search(masked)),
        fact_question=bool(_FACT_QUESTION_RE.search(masked) or _YES_NO_RE.match(masked)),
        fact_word=bool(_FACT_WORD_RE.search(masked)),
        likeness=likeness,
        name=bool(names),
        name_likeness=name_likeness,
        faq_cue=bool(_FAQ_CUE_RE.search(masked)),
        faq_topic=bool(_FAQ_TOPIC_RE.search(masked)),
        constraints=constraints,
    )


def _low_confidence_intent(vote: str, cues: _Cues, has_title: bool) -> str:
    """Where an unsure vote goes: a film vote about a linked title stands; a message about
    films becomes recommend; a film vote with no films in sight becomes out_of_scope."""
    if vote == "faq" and cues.faq_topic:
        return "faq"
    if has_title and vote in FILM_INTENTS:
        return vote
    if has_title or cues.film_topic or cues.film_request:
        return "recommend"
    return "out_of_scope" if vote in FILM_INTENTS else vote


def decide(
    probabilities: np.ndarray, cues: _Cues, *, has_title: bool, threshold: float
) -> tuple[str, tuple[str, ...]]:
    """The intent for a message from the similarity vote and its cues, and the cues that acted."""
    vote = INTENTS[int(np.argmax(probabilities))]
    confident = float(probabilities.max()) >= threshold
    # A film the catalog lacks still anchors a question or a likeness when the vote is about
    # films (or unsure): "is Up sad?" with "Up" unlinked.
    anchored = has_title or (cues.name and (vote in FILM_INTENTS or not confident))
    if cues.followup:
        return "recommend", ("followup",)
    if cues.help_request:
        return "faq", ("help_request",)
    # A question about a film's relation to another ("is Alien like Aliens?") is a question of
    # fact, so facts come before likeness; other media before likeness ("shows like X").
    if anchored and cues.fact_question:
        return "movie_info", ("fact_question",)
    if cues.other_medium:
        return "out_of_scope", ("other_medium",)
    if cues.cinema:
        return "out_of_scope", ("cinema",)
    if has_title and cues.likeness:
        return "similar", ("likeness",)
    if cues.name_likeness and (vote in FILM_INTENTS or not confident):
        return "similar", ("likeness",)
    if has_title and cues.fact_word:
        return "movie_info", ("fact_word",)
    if cues.faq_cue and vote != "chitchat" and not (has_title and vote in FILM_INTENTS):
        return "faq", ("faq_cue",)
    if cues.constraints and (vote in FILM_INTENTS or cues.film_request or not confident):
        return "recommend", ("constraints",)
    if vote == "chitchat" and cues.film_request:
        # "rough week. want something warm and uplifting": the small talk carries a request.
        return "recommend", ("request",)
    signals: tuple[str, ...] = ()
    # Both need a film to be about (a fact question may be about the film just shown: "who
    # directed it?"); without one, vote again among the other intents.
    if not has_title and (
        (vote == "similar" and not cues.name_likeness)
        or (vote == "movie_info" and not cues.fact_question)
    ):
        others = probabilities.copy()
        others[[INTENTS.index("similar"), INTENTS.index("movie_info")]] = 0.0
        others /= max(float(others.sum()), 1e-12)  # the vote among what is left
        vote = INTENTS[int(np.argmax(others))]
        confident = float(others.max()) >= threshold
        signals = ("no_title",)
    if vote == "faq" and not cues.faq_topic:
        return "out_of_scope", (*signals, "not_about_marquee")
    if not confident:
        return _low_confidence_intent(vote, cues, has_title), (*signals, "low_confidence")
    return vote, signals


# --------------------------------------------------------------------------------------------
# Similarity scoring and leave-one-out calibration.
# --------------------------------------------------------------------------------------------


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _intent_scores(
    sims: np.ndarray, labels: np.ndarray, centroid_sims: np.ndarray, top_k: int
) -> np.ndarray:
    """(n_queries, n_intents): CENTROID_WEIGHT·cos(centroid) + rest·mean(top-k cosines)."""
    out = np.empty((sims.shape[0], len(INTENTS)), dtype=np.float64)
    for j in range(len(INTENTS)):
        columns = sims[:, labels == j]
        k = min(top_k, columns.shape[1])
        if k == 0:
            out[:, j] = -1.0
            continue
        top = -np.partition(-columns, k - 1, axis=1)[:, :k]
        out[:, j] = CENTROID_WEIGHT * centroid_sims[:, j] + (1 - CENTROID_WEIGHT) * top.mean(1)
    return out


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for j in np.unique(truth):
        tp = np.sum((predicted == j) & (truth == j))
        precision = tp / max(1, np.sum(predicted == j))
        recall = tp / max(1, np.sum(truth == j))
        scores.append(0.0 if tp == 0 else 2 * precision * recall / (precision + recall))
    return float(np.mean(scores))


def leave_one_out_scores(centred: np.ndarray, labels: np.ndarray, top_k: int = TOP_K) -> np.ndarray:
    """Each exemplar's intent scores computed from all the other exemplars."""
    sims = centred @ centred.T
    np.fill_diagonal(sims, -np.inf)
    sums = np.zeros((len(INTENTS), centred.shape[1]), dtype=np.float64)
    counts = np.zeros(len(INTENTS))
    for j in range(len(INTENTS)):
        sums[j] = centred[labels == j].sum(0)
        counts[j] = np.sum(labels == j)
    centroid_sims = np.empty((centred.shape[0], len(INTENTS)))
    for i, vector in enumerate(centred):
        own = sums.copy()
        own[labels[i]] -= vector  # the exemplar may not vote for itself through its centroid
        centroid_sims[i] = _normalise_rows(own) @ vector
    return _intent_scores(sims, labels, centroid_sims, top_k)


def calibrate(
    centred: np.ndarray, labels: np.ndarray, texts: Sequence[str], today_year: int
) -> tuple[float, float]:
    """(temperature, threshold) from leave-one-out over the exemplars."""
    counts = np.bincount(labels, minlength=len(INTENTS))
    if counts.min() < 2:
        return DEFAULT_TEMPERATURE, DEFAULT_THRESHOLD
    scores = leave_one_out_scores(centred, labels)
    temperatures = np.geomspace(0.005, 0.3, 60)
    losses = [
        -np.mean(np.log(_softmax(scores, t)[np.arange(len(labels)), labels] + 1e-12))
        for t in temperatures
    ]
    temperature = float(temperatures[int(np.argmin(losses))])
    probabilities = _softmax(scores, temperature)
    cues = [_read_cues(t, has_title=False, title_spans=(), today_year=today_year) for t in texts]
    # The threshold is a floor under the winning probability: 1/len(INTENTS) never fires.
    thresholds = np.round(np.arange(1 / len(INTENTS), 0.81, 0.01), 2)
    f1s = []
    for threshold in thresholds:
        predicted = [
            INTENTS.index(decide(p, c, has_title=False, threshold=threshold)[0])
            for p, c in zip(probabilities, cues, strict=True)
        ]
        f1s.append(_macro_f1(labels, np.array(predicted)))
    # Of the equally good thresholds, the lowest: fall back no more often than the data asks.
    threshold = float(thresholds[f1s.index(max(f1s))])
    return temperature, threshold


# --------------------------------------------------------------------------------------------
# The router.
# --------------------------------------------------------------------------------------------


def load_exemplars(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs from an exemplars JSONL file; unknown intents are an error."""
    pairs = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("intent") not in INTENTS or not str(row.get("text", "")).strip():
            raise ValueError(f"{path}:{lineno}: need an intent in {INTENTS} and a text")
        pairs.append((row["intent"], row["text"].strip()))
    return pairs


@dataclass
class IntentRouter:
    """Classifies messages by similarity to embedded exemplars, corrected by text cues."""

    texts: list[str]
    labels: np.ndarray  # (n,) index into INTENTS
    vectors: np.ndarray  # (n, dim) the exemplars' raw normalised vectors
    model: str = ""
    temperature: float = DEFAULT_TEMPERATURE
    threshold: float = DEFAULT_THRESHOLD
    top_k: int = TOP_K
    today_year: int = field(default_factory=lambda: date.today().year)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        self._mean = self.vectors.mean(0)
        self._centred = _normalise_rows(self.vectors - self._mean).astype(np.float32)
        self._centroids = np.zeros((len(INTENTS), self.vectors.shape[1]), dtype=np.float32)
        for j in range(len(INTENTS)):
            if np.any(self.labels == j):
                self._centroids[j] = self._centred[self.labels == j].sum(0)
        self._centroids = _normalise_rows(self._centroids)

    @classmethod
    def from_exemplars(
        cls,
        pairs: Sequence[tuple[str, str]],
        vectors: np.ndarray,
        *,
        model: str = "",
        temperature: float | None = None,
        threshold: float | None = None,
        today_year: int | None = None,
    ) -> IntentRouter:
        """Build from (intent, text) pairs and their vectors; calibrate what is not given."""
        texts = [text for _, text in pairs]
        labels = np.array([INTENTS.index(intent) for intent, _ in pairs], dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        year = today_year or date.today().year
        if temperature is None or threshold is None:
            centred = _normalise_rows(vectors - vectors.mean(0))
            t, th = calibrate(centred, labels, texts, year)
            temperature = t if temperature is None else temperature
            threshold = th if threshold is None else threshold
        return cls(
            texts=texts,
            labels=labels,
            vectors=vectors,
            model=model,
            temperature=float(temperature),
            threshold=float(threshold),
            today_year=year,
        )

    @classmethod
    def load(cls, *, embedder: Embedder, path: Path | None = None) -> IntentRouter:
        """The router for an exemplars file, embedded once per model and file content.

        Cached in-process and under VAR_DIR/cache/ (vectors and calibration), keyed by the
        embedding model id and the file's sha256: an edited file or a new model re-embeds.
        """
        path = Path(path or Path(settings.DATA_DIR) / "intents" / "exemplars.jsonl")
        raw = path.read_bytes()
        pairs = load_exemplars(path)
        texts = [text for _, text in pairs]
        labels = np.array([INTENTS.index(intent) for intent, _ in pairs], dtype=np.int64)
        year = date.today().year

        def calibration(vectors: np.ndarray) -> dict[str, np.ndarray]:
            centred = _normalise_rows(vectors - vectors.mean(0))
            temperature, threshold = calibrate(centred, labels, texts, year)
            return {"calibration": np.array([temperature, threshold], dtype=np.float64)}

        cached = cached_embeddings(
            kind="intent-exemplars",
            texts=texts,
            digest=hashlib.sha256(raw).hexdigest(),
            embedder=embedder,
            compute_extra=calibration,
            extra_version=_CALIBRATION_VERSION,
        )
        temperature, threshold = (float(x) for x in cached["calibration"])
        return cls(
            texts=texts,
            labels=labels,
            vectors=cached["vectors"],
            model=cached["model"],
            temperature=temperature,
            threshold=threshold,
            today_year=year,
        )

    def vote(self, vector: np.ndarray) -> tuple[np.ndarray, int]:
        """Softmax probabilities per intent and the index of the nearest exemplar."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        centred = vector - self._mean
        centred = centred / max(float(np.linalg.norm(centred)), 1e-12)
        sims = (self._centred @ centred)[None, :]
        scores = _intent_scores(sims, self.labels, (self._centroids @ centred)[None, :], self.top_k)
        nearest = int(np.argmax(self.vectors @ vector))
        return _softmax(scores, self.temperature)[0], nearest

    def classify(
        self,
        text: str,
        *,
        vector: np.ndarray,
        has_title: bool = False,
        title_at_start: bool = False,
        title_spans: Sequence[tuple[int, int]] = (),
    ) -> IntentPrediction:
        """Label one message. `vector` is the message's embedding (same model as exemplars).

        has_title: a catalog title was linked in the message. title_spans ([start, end) offsets
        of the linked titles in `text`), when given, imply has_title and title_at_start and let
        the cues check that "like …" points at the title itself.
        """
        if title_spans:
            has_title = True
            title_at_start = title_at_start or min(s for s, _ in title_spans) <= 1
        probabilities, nearest = self.vote(vector)
        scores = {intent: float(p) for intent, p in zip(INTENTS, probabilities, strict=True)}
        cues = _read_cues(
            text, has_title=has_title, title_spans=title_spans, today_year=self.today_year
        )
        if has_title and not title_spans and title_at_start:
            # "Fargo-ish movies?", "Zodiac but with a happier ending": the cue follows the title.
            cues = replace(cues, likeness=cues.likeness or _starts_like(text))
        intent, signals = decide(probabilities, cues, has_title=has_title, threshold=self.threshold)
        if has_title:
            signals = ("title", *signals)
        confidence = scores[intent]
        if _DECISIVE_SIGNALS.intersection(signals):
            confidence = max(confidence, SIGNAL_CONFIDENCE)
        return IntentPrediction(
            intent=intent,
            confidence=float(confidence),
            scores=scores,
            nearest=self.texts[nearest],
            signals=signals,
        )


_STARTS_LIKE_RE = re.compile(
    r"^\s*\S.*?(?:-ish|-esque|-style|-type|\s+but\s|\s+vibes?\b|\s+energy\b|\s+meets\s)",
    re.IGNORECASE,
)


def _starts_like(text: str) -> bool:
    return bool(_STARTS_LIKE_RE.match(text[:80]))
