"""Writing the reply: the language model's text streamed as it comes, checked at every sentence
end against the films shown, replaced by the template when it strays or the model fails."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from clients.model_service import ModelServiceError
from recommender import resources
from recommender.pipeline import ChatClient, TurnPlan
from recommender.replies import ReplyMovie, grounding_violations

logger = logging.getLogger(__name__)

_SENTENCE_END_RE = re.compile(r"[.!?…](?:[\"')\]]*)\s")
_WORD_RE = re.compile(r"\w+")
LOOP_NGRAM, LOOP_REPEATS = 6, 3


def repeats_itself(text: str) -> bool:
    """True when some run of LOOP_NGRAM words comes back LOOP_REPEATS times: a small model
    caught in a loop ("...who's trying to save his family from a grumpy widower who's trying to
    save his family..."). Prose that merely reuses a phrase twice passes."""
    words = _WORD_RE.findall(text.casefold())
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - LOOP_NGRAM + 1):
        gram = tuple(words[i : i + LOOP_NGRAM])
        seen[gram] = seen.get(gram, 0) + 1
        if seen[gram] >= LOOP_REPEATS:
            return True
    return False


@dataclass
class ReplyOutcome:
    text: str = ""
    source: str = "template"  # model | template | faq | facts | none
    degraded: bool = False
    replaced: bool = False  # the model's text was withdrawn for the template
    violations: tuple[str, ...] = ()
    notice: str = ""


class GroundedReply:
    """Iterate for text deltas; afterwards `outcome` holds the final, checked reply.

    `want_model=False` (the API's `reply: false`) produces no text at all.
    """

    def __init__(self, plan: TurnPlan, client: ChatClient, *, want_model: bool = True) -> None:
        self.plan = plan
        self.client = client
        self.want_model = want_model
        self.outcome = ReplyOutcome()

    def __iter__(self) -> Iterator[str]:
        plan = self.plan
        if not self.want_model:
            self.outcome = ReplyOutcome(text="", source="none")
            return
        if plan.fixed_reply is not None or not plan.reply_request:
            text = plan.fixed_reply if plan.fixed_reply is not None else plan.fallback_reply
            self.outcome = ReplyOutcome(text=text, source=plan.fixed_reply_source)
            yield text
            return
        allowed = plan.shown_movies() + mentioned_movies(plan)
        text, checked_upto, loop_checked = "", 0, 0
        stream = self.client.chat_stream(
            plan.reply_request,
            max_tokens=settings.CHAT_REPLY_MAX_TOKENS,
            temperature=settings.CHAT_REPLY_TEMPERATURE,
            timeout=settings.CHAT_REPLY_TIMEOUT,
        )
        try:
            for delta in stream:
                text += delta
                yield delta
                ends = list(_SENTENCE_END_RE.finditer(text, checked_upto))
                if ends:
                    checked_upto = ends[-1].end()
                    if self._strays(text[:checked_upto], allowed):
                        return
                if len(text) - loop_checked >= 80:
                    loop_checked = len(text)
                    if self._loops(text):
                        return
        except ModelServiceError as exc:
            logger.warning("reply generation failed: %s", exc)
            self.outcome = ReplyOutcome(
                text=plan.fallback_reply,
                source="template",
                degraded=True,
                replaced=bool(text),
                notice=f"The language model could not write a reply ({exc}).",
            )
            return
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops the generation when we leave early
        text = text.strip()
        if not text:
            self.outcome = ReplyOutcome(
                text=plan.fallback_reply,
                source="template",
                degraded=True,
                notice="The language model returned an empty reply.",
            )
        elif not self._loops(text) and not self._strays(text + " ", allowed):
            self.outcome = ReplyOutcome(text=text, source="model")

    def _loops(self, text: str) -> bool:
        if not repeats_itself(text):
            return False
        logger.info("the model's reply repeats itself; using the template")
        self.outcome = ReplyOutcome(
            text=self.plan.fallback_reply,
            source="template",
            replaced=True,
            notice="The model's reply went round in circles; a templated reply is shown.",
        )
        return True

    def _strays(self, text: str, allowed: list[ReplyMovie]) -> bool:
        violations = grounding_violations(text, allowed, link_titles=reply_title_links)
        if not violations:
            return False
        logger.info("reply named films outside the list %s; using the template", violations)
        self.outcome = ReplyOutcome(
            text=self.plan.fallback_reply,
            source="template",
            replaced=True,
            violations=tuple(violations),
            notice="The model's reply named films outside the list; a templated reply is shown.",
        )
        return True


def reply_title_links(reply: str) -> list[tuple[int, str]]:
    """Catalog films a reply names, as (id, mention): the title linker's finds that are written
    as a title is (a capital or a digit first). The model writes titles as the list gives them;
    a lower-case word of its prose ("a postman", "whiplash") is not a film it names."""
    return [
        (link.tmdb_id, link.mention)
        for link in resources.title_linker().link(reply, limit=10)
        if link.mention[:1].isupper() or link.mention[:1].isdigit()
    ]


def mentioned_movies(plan: TurnPlan) -> list[ReplyMovie]:
    """Films the user named may be named back ("If you liked Inception, ...")."""
    return [
        ReplyMovie(
            id=t["id"], title=t["title"], year=t.get("year"), genres=(), overview="", reason=""
        )
        for t in plan.understanding.get("linked_titles", [])
    ]
