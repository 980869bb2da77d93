"""Enrichment prompts per model family: content, a stable cacheable prefix, held-out examples."""

from __future__ import annotations

import json

import pytest

from model_service.evaluation import load_quality_set
from model_service.prompts import chat, for_family, qwen, smollm, t5
from model_service.prompts.examples import EXAMPLES
from movie_constraints import GENRES

FAMILIES = [qwen, smollm, t5, chat]
HISTORY = [("user", "a heist movie"), ("assistant", "How about Heat?")]


@pytest.mark.parametrize("module", FAMILIES, ids=lambda m: m.FAMILY)
def test_prompt_holds_the_request_the_history_and_the_vocabulary(module):
    messages = module.enrichment_messages("something older, from the 70s", HISTORY)
    text = "\n".join(m.content for m in messages)
    assert "something older, from the 70s" in text
    assert "a heist movie" in text and "How about Heat?" in text
    assert all(genre in text for genre in GENRES)
    assert "search_text" in text
    assert messages[-1].role == "user"
    assert 0 < module.MAX_TOKENS <= 256


@pytest.mark.parametrize("module", [qwen, smollm, chat], ids=lambda m: m.FAMILY)
def test_everything_before_the_request_is_identical_across_requests(module):
    # llama.cpp reuses the KV cache of the longest common prefix: the static part must come
    # first and not depend on the request.
    first = module.enrichment_messages("a sad movie")
    second = module.enrichment_messages("a funny movie", HISTORY)
    assert first[:-1] == second[:-1]


def test_long_histories_are_trimmed_to_the_last_turns():
    history = [("user", f"turn number {i}") for i in range(40)]
    text = qwen.enrichment_messages("and now?", history)[-1].content
    assert "turn number 39" in text
    assert "turn number 0\n" not in text and "turn number 10" not in text


def test_examples_are_valid_answers_in_the_vocabulary():
    for _history, _request, answer in EXAMPLES:
        assert answer["search_text"]
        assert set(answer.get("genres", [])) <= set(GENRES)
        assert set(answer.get("exclude_genres", [])) <= set(GENRES)
        json.dumps(answer)


def test_examples_do_not_leak_the_held_out_quality_set():
    held_out = {" ".join(case.message.casefold().split()) for case in load_quality_set()}
    for _history, request, _answer in EXAMPLES:
        assert " ".join(request.casefold().split()) not in held_out


def test_unknown_families_get_the_generic_chat_prompts():
    assert for_family("mistral") is chat
    assert for_family("qwen") is qwen
    assert for_family("t5") is t5
