"""Worked enrichment examples shown to the model (few-shot), shared by the prompt modules.

Written for the prompts only: the quality set in data/enrichment is held out and never used
here, so its scores measure generalisation, not recall of the prompt.
"""

from __future__ import annotations

from typing import Any

# (history, request, the enrichment the model should answer with). Fields left out here are
# written as empty lists (answer_format.complete_answer); years and languages are not part of
# the model's answer (the rules read them).
EXAMPLES: tuple[tuple[tuple[tuple[str, str], ...], str, dict[str, Any]], ...] = (
    (
        (),
        "a film that will leave me in pieces, about losing someone",
        {
            "genres": ["Drama"],
            "keywords": ["grief", "heartbreaking"],
            "search_text": "heartbreaking drama about grief and losing a loved one",
        },
    ),
    (
        (),
        "something like The Matrix but more romantic, not older than 1995",
        {
            "reference_titles": ["The Matrix"],
            "genres": ["Science Fiction", "Romance"],
            "keywords": ["simulated reality", "romantic"],
            "search_text": "romantic science fiction about simulated reality and love",
        },
    ),
    (
        (),
        "any good Italian crime thrillers from the 70s? no westerns",
        {
            "genres": ["Crime", "Thriller"],
            "keywords": ["gangsters", "gritty"],
            "search_text": "gritty Italian crime thriller with gangsters and police",
        },
    ),
    (
        (
            ("user", "we want something for movie night with the kids"),
            ("assistant", "How about Paddington 2 or Coco?"),
        ),
        "they've seen those, maybe something with dinosaurs",
        {
            "genres": ["Family", "Adventure"],
            "keywords": ["dinosaurs"],
            "search_text": "family adventure with dinosaurs for children",
        },
    ),
    (
        (),
        "loved arrival and contact. more of that please, but no horror",
        {
            "reference_titles": ["Arrival", "Contact"],
            "genres": ["Science Fiction", "Drama"],
            "keywords": ["first contact", "thoughtful"],
            "search_text": "thoughtful science fiction about first contact and communication",
        },
    ),
    (
        (),
        "cozy mystery where a clever detective solves a murder in a country house",
        {
            "genres": ["Mystery", "Crime"],
            "keywords": ["detective", "cozy"],
            "search_text": "cozy whodunit, a clever detective solves a murder in a country house",
        },
    ),
)
