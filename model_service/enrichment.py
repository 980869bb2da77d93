"""Request enrichment: a movie request (and its conversation) → structured search intent.

The language model reads the request with a family-specific prompt and answers JSON under a
schema; everything it says is then checked against the request itself:
- explicit constraints (years, decades, language, genre words, "no horror") are parsed by
  rules (movie_constraints), which are exact where a 1.5B model is merely likely; the rules
  win where both speak, and the model's years/language/exclusions are kept only when the
  request gives them some footing (a number, the language's name, a negation);
- genres are mapped onto the catalog vocabulary, years made integers, reference titles kept
  only if the user actually named them.
When the model is missing, busy, slow, refuses or rambles, the rules' result and a search text
built from the message itself are returned, flagged `fallback`. Enrichment never fails.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from model_service.generation_queue import (
    GenerationQueue,
    GenerationTimeoutError,
    QueueClosedError,
    QueueFullError,
)
from model_service.generators.base import GeneratorError, SamplingParams
from model_service.prompts import for_family
from model_service.prompts.answer_format import ENRICHMENT_SCHEMA
from model_service.registry import ModelSlot
from movie_constraints import (
    normalize_genre,
    normalize_language,
    parse_constraints,
    title_words,
)

logger = logging.getLogger("model_service.enrichment")

Turn = tuple[str, str]

MAX_LIST_ITEMS = 5
MAX_ITEM_CHARS = 60
MAX_SEARCH_TEXT_CHARS = 300
MAX_MODEL_GENRES = 3
YEAR_RANGE = (1870, 2100)

# Keywords the model gives that describe a feeling rather than a subject go to `moods`.
MOOD_WORDS = frozenset(
    """
    atmospheric bittersweet bleak calm charming cheerful chilling cozy cosy creepy cute dark
    depressing disturbing dreamy eerie emotional epic exciting feel-good fun funny gentle gloomy
    gritty grim happy haunting heartbreaking heartwarming hilarious hopeful inspiring intense
    light lighthearted light-hearted melancholic melancholy moving mysterious nostalgic
    optimistic playful quirky relaxing romantic sad scary sentimental serious silly somber
    sweet suspenseful tearjerker tense terrifying thoughtful thrilling touching uplifting
    upbeat warm whimsical witty wholesome
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class EnrichmentResult:
    genres: list[str] = field(default_factory=list)
    exclude_genres: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    moods: list[str] = field(default_factory=list)
    reference_titles: list[str] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    language: str | None = None
    search_text: str = ""
    fallback: bool = False
    fallback_reason: str | None = None
    cached: bool = False
    model: str = "rules"
    latency_ms: float = 0.0
    # What the model call cost (empty without one): tokens, and where the time went.
    usage: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- parsing and repairing model output -------------------------------------------------------

_FENCE = re.compile(r"```(?:json)?\s*(.*?)(?:```|$)", re.DOTALL)


def _close(text: str) -> str | None:
    """`text` with open strings, arrays and objects closed; None if it cannot be balanced."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and (not stack or stack.pop() != char):
            return None
    tail = '"' if in_string else ""
    return text + tail + "".join(reversed(stack))


def parse_model_json(text: str) -> dict[str, Any] | None:
    """The JSON object in a model's answer, repairing truncation; None if there is none.

    Handles code fences, prose around the object, and answers cut off by max_tokens or a
    timeout (drops the unfinished last field and closes what is open).
    """
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start = text.find("{")
    if start < 0:
        return None
    text = text[start:]
    decoder = json.JSONDecoder()
    try:
        value, _ = decoder.raw_decode(text)
        return value if isinstance(value, dict) else None
    except ValueError:
        pass
    # Truncated: try the whole text closed, then cut back to each earlier comma.
    cuts = [len(text)] + [i for i in range(len(text) - 1, 0, -1) if text[i] == ","]
    for cut in cuts[:64]:
        candidate = _close(text[:cut].rstrip().rstrip(",:"))
        if candidate is None:
            continue
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


# -- normalising --------------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    seen: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            continue
        text = " ".join(str(item).strip().strip("\"'").split())[:MAX_ITEM_CHARS]
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return list(seen.values())[:MAX_LIST_ITEMS]


def _genres(value: Any) -> list[str]:
    genres: list[str] = []
    for label in _strings(value):
        genre = normalize_genre(label)
        if genre and genre not in genres:
            genres.append(genre)
    return genres


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*'?(\d{2}|\d{4})s?\s*", value)
        value = int(match.group(1)) if match else None
    if not isinstance(value, int):
        return None
    if 0 <= value < 100:  # "90" from "the 90s"
        value += 1900 if value >= 30 else 2000
    return value if YEAR_RANGE[0] <= value <= YEAR_RANGE[1] else None


def title_named(title: str, user_text: str) -> bool:
    """Whether the user's text names `title` (most of its words appear, in any spelling of
    accents, case and roman/arabic numerals); guards against titles the model made up."""
    words = [w for w in title_words(title) if w not in ("the", "a", "an")]
    if not words:
        return False
    said = set(title_words(user_text))
    found = sum(1 for w in words if w in said)
    return found / len(words) >= (1.0 if len(words) == 1 else 0.6)


_YEARISH = re.compile(
    r"\d|\b(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|noughties)\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:no|not|without|except|but|nothing|none|never|avoid|skip|hate|dont|don't|isn't|aren't)\b|n't\b",
    re.I,
)


# "like Heat", "similar to the matrix", "Inception vibes", "i loved arrival": the words after
# (or before "vibes") are probably a title. Used only when the model names none (or there is no
# model); the backend links candidates to its catalog with a confidence threshold anyway.
_TITLE_BEFORE = re.compile(
    r"\b(?:(?:something|anything|movies?|films?|one|stuff)\s+like|similar\s+to|in\s+the\s+"
    r"(?:vein|style|spirit)\s+of|reminds?\s+me\s+of|along\s+the\s+lines\s+of|such\s+as|"
    r"(?:i|we)\s+(?:really\s+)?(?:liked|loved|enjoyed|adored)|fans?\s+of|"
    r"(?:cross|mix|mashup)\s+(?:between|of)|more\s+like|like)\s+",
    re.IGNORECASE,
)
_TITLE_END = re.compile(
    r"\s+(?:but|and\s+(?:also|something|anything)|with|without|except|that|which|who|only|"
    r"though|because|so|or\s+(?:something|anything)|please|pls|from|in\s+the|set|for)\b|[?,.!;:()]|$",
    re.IGNORECASE,
)
_TITLE_VIBES = re.compile(r"\b((?:[\w'’:-]+\s+){0,2}[\w'’:-]+)\s+(?:vibes?|energy)\b", re.I)
_NOT_TITLE_START = frozenset(
    (
        *("a", "an", "some", "something", "anything", "any", "that", "this", "it", "them"),
        *("those", "these", "movies", "movie", "films", "film", "one", "ones", "stuff"),
        *("kind", "sort", "type", "more", "less", "me", "you", "my", "his", "her", "their"),
        *("our", "other", "genre", "to", "watching", "seeing", "having", "getting", "being"),
    )
)
_VIBES_LEAD = frozenset(
    ("with", "some", "something", "for", "giving", "big", "strong", "the", "of", "those", "that")
)
_NOT_TITLE_WORDS = frozenset(("ones", "kind", "type", "sort", "same", "genre"))
_MAX_TITLE_WORDS = 6


def title_candidates(message: str) -> list[str]:
    """Likely titles the user names, by phrasing alone ("like X", "X vibes"); may be empty."""
    found: list[str] = []

    def add(text: str) -> None:
        words = text.strip(" '\"’").split()
        if not words or len(words) > _MAX_TITLE_WORDS:
            return
        folded = {word.casefold() for word in words}
        if words[0].casefold() in _NOT_TITLE_START or folded & _NOT_TITLE_WORDS:
            return
        if normalize_genre(" ".join(words)):
            return
        for part in re.split(r"\s+(?:and|&|or)\s+", " ".join(words)):
            title = part.strip(" '\"’")
            if title and title.casefold() not in {f.casefold() for f in found}:
                found.append(title if any(c.isupper() for c in title) else title.title())

    for match in _TITLE_BEFORE.finditer(message):
        rest = message[match.end() :]
        end = _TITLE_END.search(rest)
        add(rest[: end.start()] if end else rest)
    for match in _TITLE_VIBES.finditer(message):
        words = match.group(1).split()
        # Keep only the capitalised / trailing run ("with Inception vibes" → "Inception").
        while words and words[0].casefold() in _VIBES_LEAD:
            words = words[1:]
        add(" ".join(words))
    return found[:3]


def fallback_search_text(message: str, history: Sequence[Turn] = ()) -> str:
    """A search text from the user's own words, when the model gives none."""
    text = " ".join(message.split())
    remainder = parse_constraints(text).remainder(text) or text
    if len(remainder.split()) < 3:  # "older ones?" means little alone: add the earlier ask
        earlier = [content for role, content in history if role == "user"]
        if earlier:
            remainder = f"{' '.join(earlier[-1].split())} {remainder}"
    return remainder[:MAX_SEARCH_TEXT_CHARS]


def enrich_from(
    model_output: dict[str, Any] | None, message: str, history: Sequence[Turn] = ()
) -> EnrichmentResult:
    """Combine what the model answered (None if nothing usable) with the rules' reading of the
    conversation into a validated result."""
    user_turns = [content for role, content in history if role == "user"]
    user_text = " ".join([*user_turns, message])
    rules = parse_constraints(message)
    earlier_rules = [parse_constraints(turn) for turn in user_turns]
    out = model_output or {}

    # Years and language: the latest statement in the conversation wins; the model's only
    # when something in the conversation looks like a year / names the language.
    year_min = rules.year_min
    year_max = rules.year_max
    if year_min is None and year_max is None:
        for earlier in reversed(earlier_rules):
            if earlier.year_min is not None or earlier.year_max is not None:
                year_min, year_max = earlier.year_min, earlier.year_max
                break
        else:
            if _YEARISH.search(user_text):
                year_min, year_max = _year(out.get("year_min")), _year(out.get("year_max"))
    if year_min is not None and year_max is not None and year_min > year_max:
        year_min, year_max = year_max, year_min

    language = rules.language or next(
        (earlier.language for earlier in reversed(earlier_rules) if earlier.language), None
    )
    if language is None and isinstance(out.get("language"), str):
        candidate = normalize_language(out["language"])
        if candidate and _language_named(candidate, user_text):
            language = candidate

    exclude = list(rules.exclude_genres)
    for earlier in earlier_rules:
        exclude += [g for g in earlier.exclude_genres if g not in exclude]
    if _NEGATION.search(user_text):
        exclude += [g for g in _genres(out.get("exclude_genres")) if g not in exclude]

    genres = list(rules.genres)
    genres += [g for g in _genres(out.get("genres"))[:MAX_MODEL_GENRES] if g not in genres]
    if not genres:
        for earlier in reversed(earlier_rules):
            if earlier.genres:
                genres = list(earlier.genres)
                break
    genres = [g for g in genres if g not in exclude]

    titles = [t for t in _strings(out.get("reference_titles")) if title_named(t, user_text)]
    if not titles:
        titles = title_candidates(message)
    raw_search = out.get("search_text") or ""
    search_text = " ".join(str(raw_search).split())[:MAX_SEARCH_TEXT_CHARS]
    themes, moods = _strings(out.get("themes")), _strings(out.get("moods"))
    # The prompts ask for one `keywords` list (prompts.answer_format); other models may give
    # themes and moods apart.
    for keyword in _strings(out.get("keywords")):
        is_mood = keyword.casefold() in MOOD_WORDS
        target = moods if is_mood else themes
        if keyword.casefold() not in {item.casefold() for item in target}:
            target.append(keyword)
    return EnrichmentResult(
        genres=genres,
        exclude_genres=exclude,
        themes=themes[:MAX_LIST_ITEMS],
        moods=moods[:MAX_LIST_ITEMS],
        reference_titles=titles,
        year_min=year_min,
        year_max=year_max,
        language=language,
        search_text=search_text or fallback_search_text(message, history),
        fallback=model_output is None,
    )


def _language_named(code: str, text: str) -> bool:
    return any(normalize_language(word) == code for word in re.findall(r"[A-Za-z]+", text))


# -- the service ----------------------------------------------------------------------------------


class EnrichmentCache:
    """A bounded LRU of results by (model, request); fallbacks are not kept (they are
    transient: the next identical request may get the model)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, EnrichmentResult] = OrderedDict()

    @staticmethod
    def key(model: str, message: str, history: Sequence[Turn]) -> tuple:
        norm = lambda text: " ".join(text.casefold().split())  # noqa: E731
        return (model, norm(message), tuple((role, norm(content)) for role, content in history))

    def get(self, key: tuple) -> EnrichmentResult | None:
        result = self._items.get(key)
        if result is not None:
            self._items.move_to_end(key)
        return result

    def put(self, key: tuple, result: EnrichmentResult) -> None:
        if self.size <= 0 or result.fallback:
            return
        self._items[key] = result
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class EnrichmentService:
    """Enriches requests with the model in `slot` once it is ready, with rules alone until then
    (or for good when no generator is configured: `slot` None)."""

    def __init__(
        self,
        slot: ModelSlot[GenerationQueue] | None,
        *,
        timeout_s: float = 20.0,
        cache_size: int = 512,
        json_schema: bool = True,
    ) -> None:
        self.slot = slot
        self.json_schema = json_schema
        self.timeout_s = timeout_s
        self.cache = EnrichmentCache(cache_size)

    def _queue(self) -> tuple[GenerationQueue | None, str | None]:
        slot = self.slot
        if slot is None:
            return None, "no language model is configured (MODEL_GENERATOR=none)"
        if slot.status == "ready" and slot.value is not None:
            return slot.value, None
        if slot.status == "failed":
            return None, f"the language model failed to load: {slot.error}"
        return None, "the language model is still loading"

    async def enrich(self, message: str, history: Sequence[Turn] = ()) -> EnrichmentResult:
        started = time.perf_counter()
        queue, reason = self._queue()
        model = queue.generator.model_id if queue is not None else "rules"
        key = EnrichmentCache.key(model, message, history)
        cached = self.cache.get(key)
        if cached is not None:
            return replace(cached, cached=True, latency_ms=_ms(started))
        output = None
        usage: dict[str, float] = {}
        if queue is not None:
            output, reason, usage = await self._ask_model(queue, message, history)
        result = enrich_from(output, message, history)
        if result.fallback:
            reason = reason or "the model's answer held no usable JSON"
            logger.info("enrichment fell back to rules: %s", reason)
        result = replace(
            result,
            model=model,
            fallback_reason=reason if result.fallback else None,
            latency_ms=_ms(started),
            usage=usage,
        )
        self.cache.put(key, result)
        return result

    async def _ask_model(
        self, queue: GenerationQueue, message: str, history: Sequence[Turn]
    ) -> tuple[dict[str, Any] | None, str | None, dict[str, float]]:
        generator = queue.generator
        prompts = for_family(generator.family)
        messages = prompts.enrichment_messages(message, history)
        params = SamplingParams(
            max_tokens=prompts.MAX_TOKENS,
            temperature=0.0,
            json_schema=(
                ENRICHMENT_SCHEMA if self.json_schema and generator.supports_json_schema else None
            ),
        )
        try:
            text, finish = await queue.complete(messages, params, timeout_s=self.timeout_s)
        except QueueFullError as exc:
            return None, f"the language model is busy ({exc.waiting} waiting)", {}
        except GenerationTimeoutError:
            return None, f"the language model took longer than {self.timeout_s:g} s", {}
        except QueueClosedError:
            return None, "the service is shutting down", {}
        except GeneratorError as exc:
            logger.warning("enrichment generation failed: %s", exc)
            return None, f"the language model failed: {exc}", {}
        usage = {
            "prompt_tokens": finish.prompt_tokens,
            "cached_prompt_tokens": finish.cached_prompt_tokens,
            "completion_tokens": finish.completion_tokens,
            **{name: round(value, 1) for name, value in finish.timings.items()},
        }
        output = parse_model_json(text)
        if output is None:
            return None, f"the model's answer held no JSON object: {text[:120]!r}", usage
        return output, None, usage


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
