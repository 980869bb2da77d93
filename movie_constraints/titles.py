"""Title words in one spelling, so titles compare across accents, apostrophes and numerals."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"['’`]")
_WORDS = re.compile(r"[^\W_]+")
# Small numbers and Roman numerals as titles write them: "Ocean's Eleven" / "Oceans 11",
# "Part II" / "part 2". No parser: a title rarely spells a larger number.
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve")  # fmt: skip
_NUMERALS = {
    **{word: str(number) for number, word in enumerate(_NUMBER_WORDS)},
    **{"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"},
}


def title_words(text: str) -> list[str]:
    """Casefolded words without accents; apostrophes dropped ("Ocean's" → "oceans"), "&" read
    as "and", number words and Roman numerals as digits."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return [_NUMERALS.get(word, word) for word in _WORDS.findall(_APOSTROPHES.sub("", plain))]
