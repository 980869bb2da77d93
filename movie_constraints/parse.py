"""Model-free, high-precision parsing of the explicit constraints stated in a movie request.

Languages: a film's original language is asked for by a language, nationality or industry word
("French", "Korean", "Bollywood") and excluded by a negated language *name* ("not in Spanish",
"no French films", "nothing in English", "non-English", "anything but German"). A negated
nationality that is no language name ("no American films", "nothing Mexican", "no Hollywood")
excludes nothing, since a country is not a language. "foreign", "foreign-language" and
"international" (when about films: "foreign films", "something foreign", "international
cinema") exclude English, unless only allowed ("foreign films are fine", "open to foreign
films"); "no foreign films" asks for English. Wording about subtitles or dubbing ("with English
subtitles", "no English dub", "dubbed in English") never sets or excludes the original
language, and "no subtitles" sets nothing either: a dub satisfies it. A language both asked
for and excluded is asked for ("a foreign film, but in English"), so the code in `language` is
never also in `exclude_languages`.

Runtime: explicit bounds ("under 2 hours", "90 mins or less", "over 150 min", "90-120
minutes", "2+ hours") and the time the user has, which is a maximum ("I only have about 2
hours", "we've got 90 minutes", "only 2 hours to spare", "need it done in 2 hours"). There,
"about"/"around" N is read as N: the time available is the cap whatever the hedge. A film
described vaguely ("about 2 hours", "around 2 hours long", "a 2 hour movie") sets nothing, nor
does the plot's time ("takes place over 24 hours") or time spent otherwise ("I have been
waiting 2 hours", "2 hours of homework").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .languages import COUNTRY_LANGUAGES, LANGUAGE_NAMES, TEXT_LANGUAGE_TERMS

# "highly rated", "critically acclaimed", "best", ... become this minimum vote average on TMDB's
# 0-10 scale: 7.0 is the usual "good movie" line there, strict enough to mean something and
# loose enough to leave most well-liked films in.
ACCLAIMED_MIN_RATING = 7.0
# Release years outside [EARLIEST_YEAR, today + LATEST_YEAR_SLACK] are not years a user means.
EARLIEST_YEAR = 1880
LATEST_YEAR_SLACK = 2
# Runtimes (minutes) outside this range are misreadings ("under 2000 minutes").
RUNTIME_RANGE = (1, 600)

SPAN_KINDS = (
    "genre",
    "exclude_genre",
    "year",
    "language",
    "exclude_language",
    "runtime",
    "rating",
    "ignored",
)


# --------------------------------------------------------------------------------------------
# Genre vocabulary for free text. Every mapping lives in GENRE_TERMS; the two small tables
# after it only say how a term behaves when negated or contradicted.
# --------------------------------------------------------------------------------------------

# Patterns are matched case-insensitively on whole words (hyphens separate words, so
# "horror-comedy" holds two terms). They are tried in table order at each position, so longer
# phrases come first. Subgenre words get their own entries: see _INDIRECT.
_ROMCOM = r"rom[\s-]?coms?|romantic[\s-]comed(?:y|ies)"
_DRAMEDY = r"dramed(?:y|ies)"
_PERIOD_DRAMA = r"(?:period|costume)\s+dramas?"
_PERIOD_PIECE = r"period\s+pieces?"
_SAD = (
    r"tear[\s-]?jerkers?|(?:make|makes|made|making)\s+(?:me|us|you)\s+cry"
    r"|(?:something|anything)\s+(?:really\s+|very\s+|properly\s+)?sad"
    r"|sad(?=\s+(?:movies?|films?|flicks?|stor(?:y|ies)|ones?|endings?|dramas?|romances?))"
)
_SUPERHERO = r"super[\s-]?hero(?:es|s)?"
_MARTIAL_ARTS = r"martial\s+arts|kung[\s-]?fu"
_WHODUNIT = r"murder\s+myster(?:y|ies)|whodunn?its?|detectives?"
_SF_SUBGENRE = r"cyberpunk|space\s+operas?"
_ANIMATION_STYLE = r"cartoons?|anime|pixar[\s-](?:style|like|esque)|stop[\s-]motion|claymation"
_SLASHER = r"slashers?"
_COMEDY_STYLE = r"slapstick|spoofs?|parod(?:y|ies)|mockumentar(?:y|ies)"
_CRIME_SUBGENRE = (
    r"heists?|gangsters?|mafia|mobsters?|mob(?=\s+(?:movies?|films?|boss|stor(?:y|ies)|dramas?))"
    r"|(?<=the\s)mob|(?:neo[\s-]?)?noir"
)
_COWBOY = r"cowboys?"
_MELODRAMA = r"melodramas?"
_KDRAMA = r"kdramas?"

GENRE_TERMS: dict[str, tuple[str, ...]] = {
    # Two genres at once.
    _ROMCOM: ("Romance", "Comedy"),
    _DRAMEDY: ("Comedy", "Drama"),
    _PERIOD_DRAMA: ("History", "Drama"),
    _PERIOD_PIECE: ("History",),
    # Subgenres, before any genre word they contain.
    _WHODUNIT: ("Mystery",),
    _SF_SUBGENRE: ("Science Fiction",),
    _ANIMATION_STYLE: ("Animation",),
    _SLASHER: ("Horror",),
    _COMEDY_STYLE: ("Comedy",),
    _CRIME_SUBGENRE: ("Crime",),
    _COWBOY: ("Western",),
    _MELODRAMA: ("Drama",),
    _SUPERHERO: ("Action",),
    _MARTIAL_ARTS: ("Action",),
    _SAD: ("Drama",),
    _KDRAMA: ("Drama",),
    # The genres themselves and their unambiguous synonyms.
    r"myster(?:y|ies)": ("Mystery",),
    r"science[\s-]fiction|sci[\s-]?fi": ("Science Fiction",),
    r"(?:tv|television)[\s-](?:movies?|films?)|made[\s-]for[\s-](?:tv|television)": ("TV Movie",),
    # "doc(s)" only where it cannot be a person ("Doc Brown") or paperwork.
    r"documentar(?:y|ies)|docu(?:s|series)?"
    r"|(?:(?<=a\s)|(?<=any\s)|(?<=good\s)|(?<=great\s)|(?<=some\s)|(?<=nature\s)|(?<=music\s)"
    r"|(?<=sports\s)|(?<=food\s)|(?<=crime\s)|(?<=history\s)|(?<=science\s))docs?"
    r"|docs?(?=\s+(?:about|on|that|which|where|series|movies?|films?))": ("Documentary",),
    r"animated|animation": ("Animation",),
    r"horror|scary|scarier|scariest|frightening|terrifying": ("Horror",),
    r"comed(?:y|ies)|comedic|funny|funnier|funniest|hilarious|humou?r(?:ous)?"
    r"|laugh(?:s|[\s-]out[\s-]loud)|(?:make|makes|made|making)\s+(?:me|us|you)\s+laugh"
    r"|(?:a|good|big)\s+laugh": ("Comedy",),
    r"romances?|romantic|love\s+stor(?:y|ies)": ("Romance",),
    r"thrillers?|suspense(?:ful)?": ("Thriller",),
    # Not "western Europe", "non-western", "All Quiet on the Western Front".
    r"(?<!non-)(?<!non\s)westerns?(?!\s+(?:europe|european|world|countries|country|nations?"
    r"|civili[sz]ations?|cultures?|audiences?|media|society|values|front|hemisphere|powers|allies"
    r"|canada|australia))": ("Western",),
    # "war" alone is too loose ("Star Wars", "war on drugs"); only war as the subject.
    r"(?<!star\s)war[\s-](?:movies?|films?|flicks?|dramas?|epics?|stor(?:y|ies)|pictures?"
    r"|thrillers?)|ww\s?(?:ii|2|i|1)|world\s+war(?:\s+(?:ii|i|one|two|1|2))?(?!\s+z\b)"
    r"|anti[\s-]?war|wartime|(?:vietnam|korean|civil|gulf|iraq)\s+war"
    r"|(?:about|during)\s+(?:the\s+)?war(?=\s*(?:$|[.,!?;]|and\b|or\b|movies?|films?))": ("War",),
    # "music" alone is usually the soundtrack ("with great music"), not the genre.
    r"musicals?|music(?=\s+(?:movies?|films?|documentar|docs?|biopics?))|(?<=about\s)music"
    r"|musicians?|concert\s+(?:movies?|films?)": ("Music",),
    r"crime": ("Crime",),
    # "family"/"kids" only as the audience; "a family drama" is a drama.
    r"(?:family|kid|kids|child)[\s-]friendly|family(?=\s+(?:movies?|films?|flicks?|night|fun"
    r"|comed|adventure|animat|classic|favou?rite|oriented|feature|entertainment|viewing))"
    r"|(?:for|with)\s+(?:the\s+|my\s+|our\s+|your\s+)?(?:whole\s+)?family|whole\s+family"
    r"|(?:kids'?|children'?s|childrens)(?=\s+(?:movies?|films?|flicks?|shows?|animation|classics?))"
    r"|(?:for|with)\s+(?:the\s+|my\s+|our\s+|your\s+|young\s+|little\s+|small\s+)?"
    r"(?:kids|children|little\s+ones|toddlers)": ("Family",),
    r"fantasy": ("Fantasy",),
    r"historical|history": ("History",),
    r"dramas?": ("Drama",),
    r"adventures?": ("Adventure",),
    r"action(?:[\s-]packed)?": ("Action",),
}

# What a negated term excludes when that differs from what it asks for: "no romcoms" rejects the
# romance (a plain comedy is still welcome); "no tearjerkers" or "nothing sad" rejects a mood,
# not all of Drama, so it excludes nothing.
_EXCLUDE_AS: dict[str, tuple[str, ...]] = {
    _ROMCOM: ("Romance",),
    _DRAMEDY: (),
    _PERIOD_DRAMA: ("History",),
    _SAD: (),
}
# Indirect terms name part of a genre. Negated alone they exclude the genre ("no superhero
# stuff" -> Action), but that exclusion is dropped when the request asks for the genre itself
# ("horror but not slasher", "action, but no superhero stuff", "romance, no romcoms").
_INDIRECT: frozenset[str] = frozenset(
    {
        _ROMCOM,
        _PERIOD_DRAMA,
        _PERIOD_PIECE,
        _WHODUNIT,
        _SF_SUBGENRE,
        _ANIMATION_STYLE,
        _SLASHER,
        _COMEDY_STYLE,
        _CRIME_SUBGENRE,
        _COWBOY,
        _MELODRAMA,
        _SUPERHERO,
        _MARTIAL_ARTS,
        _SAD,
        _KDRAMA,
    }
)

_TERM_KEYS: tuple[str, ...] = tuple(GENRE_TERMS)
_GENRE_RE = re.compile(
    r"(?<![\w])(?:" + "|".join(f"(?P<g{i}>{p})" for i, p in enumerate(_TERM_KEYS)) + r")(?![\w])"
)


def _language_alternation(terms: dict[str, str | None]) -> str:
    """A regex alternation of phrases, longest first, tolerant of spacing and hyphenation."""
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        words = [re.escape(w) for w in re.split(r"[\s-]+", term)]
        parts.append(r"[\s-]?".join(words) if "-" in term else r"\s+".join(words))
    return "|".join(parts)


_LANG_LOOKUP: dict[str, str | None] = {
    re.sub(r"[\s-]+", " ", k): v for k, v in TEXT_LANGUAGE_TERMS.items()
}
# "non-French": the language after "non-" is a term of its own (a negated one).
_LANG_RE = re.compile(
    r"(?:(?<![\w-])|(?<=non-))(?P<term>" + _language_alternation(TEXT_LANGUAGE_TERMS) + r")"
    r"(?P<suffix>[\s-](?:language|speaking))?(?![\w])"
)
_COUNTRY_LOOKUP: dict[str, str | None] = {
    re.sub(r"\s+", " ", k): v for k, v in COUNTRY_LANGUAGES.items()
}
_COUNTRY_RE = re.compile(
    r"(?<![\w])(?:from|made\s+in|produced\s+in|out\s+of)\s+(?P<term>"
    + _language_alternation(COUNTRY_LANGUAGES)
    + r")(?![\w])"
)
# Film-industry nicknames and places: "in Hollywood" / "set in Hong Kong" is a setting.
_PLACE_TERMS = frozenset({"hollywood", "bollywood", "tollywood", "kollywood", "mollywood"})

# Words that, about films, mean "not in English" ("foreign films", "non-English"); as a term
# their key is _NOT_ENGLISH. "international" counts only right before a film noun.
_NOT_ENGLISH_TERMS = frozenset({"foreign", "international", "non english", "nonenglish"})
_NOT_ENGLISH = "not:en"
# Negated, only a language's own name excludes it ("no French films"): a nationality or an
# industry is no language ("no American films" leaves British ones; "no Mexican films" Spanish
# ones), so "no Mexican films" excludes nothing.
_LANGUAGE_NAME_WORDS: frozenset[str] = frozenset(
    {name.casefold() for code, name in LANGUAGE_NAMES.items() if code != "xx"}
    | {"chinese", "farsi", "bangla", "castilian", "filipino", "slovene", "sinhalese"}
)
# What a negated language name excludes when that is more than its one code.
_EXCLUDE_LANGUAGE_AS: dict[str, tuple[str, ...]] = {"chinese": ("zh", "cn")}
_FILM_NOUNS = (
    r"films?|movies?|flicks?|cinema|pictures?|features?|releases?|titles?|ones?|stuff|fare"
    r"|classics?|gems?|picks?|content"
)
# What makes "foreign" / "international" about films: a film noun after it ("foreign indie
# films", "international cinema"), but not a festival ("international film festival").
_FOREIGN_NOUN_AFTER_RE = re.compile(
    rf"[\s-]+(?:[a-z'-]+[\s-]+)?(?:{_FILM_NOUNS})(?![\w])(?![\s-]+festivals?)"
)
_INTERNATIONAL_NOUN_AFTER_RE = re.compile(rf"[\s-]+(?:{_FILM_NOUNS})(?![\w])(?![\s-]+festivals?)")
# ... or the end of a clause ("something foreign", "anything foreign, with subtitles").
_CLAUSE_END_RE = re.compile(
    r"\s*(?:$|[.,!?;:()]|(?:but|please|pls|plz|and|or|with|from|that|which|where|set|about"
    r"|for|like|to|in|preferably|ideally|maybe|only)(?![\w]))"
)
# "a foreign language" at a clause's end is a language someone learns, unless it is "in" one.
_ARTICLE_BEFORE_RE = re.compile(r"(?<![\w'])(?:a|an|the|another|one)\s+$")
_IN_BEFORE_RE = re.compile(r"(?<![\w'])in\s+(?:an?\s+)?$")
_LANGUAGES_WORD_RE = re.compile(r"[\s-]+languages?(?![\w])")
# Openness, not a wish: "open to foreign films", "foreign is fine", "English or foreign".
_OPEN_BEFORE_RE = re.compile(
    r"(?<![\w'])(?:open\s+to|includ(?:e|es|ing)|even|also|or|(?:can|could|may|might)\s+be"
    r"|(?:ok|okay|fine|happy|good|cool)\s+with|(?:don'?t|do\s+not)\s+mind)"
    r"\s+(?:(?:a|an|some|the|any)\s+)?$"
)
_OPEN_AFTER_RE = re.compile(
    r"(?:[\s-]*(?:language|films?|movies?|ones?|stuff|cinema))?(?:\s+(?:is|are|'s|would\s+be))?"
    r"\s*(?:fine|ok|okay|welcome|allowed|cool|acceptable|too|as\s+well"
    r"|or\s+(?:not|domestic|english|american|british|hollywood))(?![\w])"
)


# --------------------------------------------------------------------------------------------
# Public types.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A stretch of the request [start, end) and what it was read as.

    kind is one of SPAN_KINDS; "ignored" marks wording that was recognised but on purpose sets
    nothing ("not too scary", "with English subtitles", "no Mexican films"). value is the genre,
    the language code (asked for or excluded), or a short description of a bound ("1980-1989",
    ">=2011", "<=120").
    """

    start: int
    end: int
    kind: str
    value: str
    text: str


@dataclass(frozen=True)
class Constraints:
    """The explicit constraints of a request; None / () where the request states none."""

    genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    language: str | None = None
    exclude_languages: tuple[str, ...] = ()  # original languages not wanted; never `language`
    runtime_max: int | None = None
    runtime_min: int | None = None
    min_rating: float | None = None
    spans: tuple[Span, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when no constraint was found (spans of ignored wording do not count)."""
        return not (
            self.genres
            or self.exclude_genres
            or self.language
            or self.exclude_languages
            or any(
                v is not None
                for v in (
                    self.year_min,
                    self.year_max,
                    self.runtime_max,
                    self.runtime_min,
                    self.min_rating,
                )
            )
        )

    def as_dict(self) -> dict[str, object]:
        """The constraint fields (not the spans) as JSON-ready values."""
        return {
            "genres": list(self.genres),
            "exclude_genres": list(self.exclude_genres),
            "year_min": self.year_min,
            "year_max": self.year_max,
            "language": self.language,
            "exclude_languages": list(self.exclude_languages),
            "runtime_max": self.runtime_max,
            "runtime_min": self.runtime_min,
            "min_rating": self.min_rating,
        }

    def remainder(self, text: str) -> str:
        """The request without the constraint wording and request filler, for a search text.

        `text` must be the text these constraints were parsed from (span offsets refer to it).
        """
        chars = list(_normalize(text))
        for span in self.spans:
            for i in range(max(0, span.start), min(len(chars), span.end)):
                chars[i] = " "
        out = _FILLER_RE.sub(" ", "".join(chars))
        for _ in range(3):  # each pass can expose another orphan ("a ... the")
            out = _ORPHAN_ARTICLE_RE.sub(" ", out)
            out = re.sub(r"\s+([,.!?;:])", r"\1", out)
            out = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", out)
            out = " ".join(out.split())
            out = _EDGE_RE.sub("", out)
        return out


# --------------------------------------------------------------------------------------------
# Text helpers.
# --------------------------------------------------------------------------------------------

# One character to one character, so offsets into the normalised text are offsets into the
# original: dashes, quotes and odd spaces become their ASCII forms.
_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
        **dict.fromkeys("\u00a0\u2007\u2009\u200a\u202f\u2002\u2003\u3000", " "),
    }
)


def _normalize(text: str) -> str:
    """Unify dashes, quotes and spaces without changing the text's length."""
    return text.translate(_TRANSLATE)


def _lower(text: str) -> str:
    """Lower-case without changing the length (a few characters lower-case to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


_FILLER_RE = re.compile(
    r"(?<![\w'])(?:show\s+me|give\s+me|find\s+me|get\s+me|i\s+want(?:\s+to\s+(?:watch|see))?"
    r"|i'?d\s+like(?:\s+to\s+(?:watch|see))?|i\s+would\s+like|(?:i'?m|i\s+am)\s+looking\s+for"
    r"|looking\s+for|i\s+need|can\s+you|could\s+you|would\s+you"
    r"|(?:recommend|suggest)(?:ations?|ions?|ed)?(?:\s+(?:me|us))?"
    r"|movies?|films?|flicks?|please|pls|plz|something|anything|any|some)(?![\w'])",
    re.IGNORECASE,
)
_ORPHAN_ARTICLE_RE = re.compile(
    r"(?<![\w'])(?:a|an|the)(?=\s*(?:[,.!?;:]|$|(?:a|an|the|with|about|where|that|which|who"
    r"|from|in|for|like|set|of|to|and|or|but|by|starring)(?![\w'])))",
    re.IGNORECASE,
)
_EDGE_RE = re.compile(
    r"^(?:(?:and|or|but|with|from|in|of|to|for|that|are|is)(?![\w'])|[\s,.;:!?/&-])+"
    r"|(?:(?<![\w'])(?:and|or|but|with|from|in|of|to|for|a|an|the|that|about|i)|[\s,.;:!?/&-])+$",
    re.IGNORECASE,
)


def _word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a text block."""
    return frozenset(text.split())


def _overlaps(start: int, end: int, regions: list[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps any region."""
    return any(start < e and s < end for s, e in regions)


# --------------------------------------------------------------------------------------------
# Titles and other wording that must not be read as a constraint.
# --------------------------------------------------------------------------------------------

# Words that are no evidence of a title when capitalised: the constraint vocabulary itself plus
# request filler, so "Korean Horror Movies" stays readable while "Star Wars", "The Italian Job"
# and "Blade Runner 2049" are protected.
_VOCAB: frozenset[str] = _word_set(
    """
    i i'm im i'd i've me my we us our you your a an the some any something anything nothing
    movie movies film films flick flicks cinema picture pictures show shows series genre genres
    please pls plz recommend recommendations recommendation suggest suggestions give find want
    need like love loved looking look watch watching see seen good great best better top new
    newer newest old older classic classics recent latest rated rating highly high well reviewed
    acclaimed critically award winning oscar oscars academy awards netflix hulu disney pixar
    dreamworks ghibli marvel dc hbo prime amazon apple imdb tmdb letterboxd rotten tomatoes
    metacritic christmas halloween thanksgiving easter valentine summer winter spring autumn
    weekend tonight today date night friday saturday sunday monday tuesday wednesday thursday
    hey hi hello thanks thank ok okay yes no not none nor neither either just only also maybe
    really very so too more less most short long hour hours hr hrs minute minutes min mins half
    have got early mid late
    era decade decades year years century from in of on at by for with without about than and or
    but after before since until between during released made set is are was were be it its
    it's that this these those there here what which who how why when where both all every each
    few many much lot lots bit little fun light dark heavy feel-good feelgood cozy wholesome epic
    action adventure adventures animation animated anime cartoon cartoons comedy comedies comedic
    funny funnier funniest hilarious crime heist heists gangster gangsters mafia mob mobster noir
    documentary documentaries docu doc docs drama dramas family kids kid children fantasy
    history historical horror scary scarier scariest slasher slashers music musical musicals
    mystery mysteries detective detectives whodunit romance romances romantic romcom romcoms
    rom-com rom-coms love story stories sci-fi scifi science fiction thriller thrillers suspense
    tv war western westerns cowboy cowboys superhero superheroes tearjerker sad wwii ww2 wwi ww1
    new wave world english american british hollywood bollywood tollywood kollywood french
    german italian spanish korean japanese chinese mandarin cantonese hong kong hindi tamil
    telugu malayalam russian swedish danish norwegian finnish dutch polish turkish persian
    iranian arabic hebrew thai indonesian greek czech hungarian romanian ukrainian portuguese
    brazilian mexican argentinian indian european asian african scandinavian nordic foreign
    foreign-language international non-english nonenglish
    pg pg-13 r nc-17 lgbt lgbtq us usa uk america europe asia africa k-drama kdrama
    """
)
_CONNECTORS = frozenset(
    {"of", "the", "a", "an", "de", "la", "le", "du", "des", "del", "von", "van"}
)
# Words that end a title run even when capitalised ("Horror Movies Like Hereditary").
_RUN_BREAKS = frozenset(
    {"like", "with", "from", "by", "about", "starring", "featuring", "similar", "than", "or",
     "but", "please", "and", "for", "in"}
)  # fmt: skip
_TOKEN_RE = re.compile(r"[^\W_](?:[\w'-]*[^\W_])?|&")
_QUOTED_RE = re.compile(r'"[^"\n]{1,100}"')
_TITLE_YEAR_RE = re.compile(r"(?<=[\w\"')])\s*\(\s*(?:1[89]|20)\d\d\s*\)")
_BLOCKERS_RE = re.compile(
    r"(?<![\w])(?:live[\s-]?action|call\s+to\s+action|action\s+figures?|star\s+wars?"
    r"|world\s+war\s+z|war\s+on\s+(?:drugs|terror)|best\s+friends?|at\s+best|best\s+man"
    r"|best\s+way|best\s+bet|best\s+of\s+both|(?:film|movie|cinema)\s+history"
    r"|history\s+of\s+(?:film|cinema|movies)|partners?\s+in\s+crime"
    r"|musical\s+(?:score|taste|tastes|talent|instruments?)|documentary[\s-]style"
    r"|top[\s-]\d+|rated\s+(?:r|g|pg(?:-13)?|nc-17|x|m|ma)|(?:r|pg(?:-13)?|nc-17)[\s-]rated"
    r"|pg-13|non[\s-]?western)(?![\w])"
)


def _title_regions(text: str) -> list[tuple[int, int]]:
    """Stretches that look like titles: quotes, "(1995)" after a title, capitalised runs."""
    # A quoted single lower-case word is emphasis ('something "funny"'), not a title.
    regions = [
        m.span()
        for m in _QUOTED_RE.finditer(text)
        if any(c.isupper() or c.isdigit() for c in m.group()) or " " in m.group().strip('" ')
    ]
    regions += [m.span() for m in _TITLE_YEAR_RE.finditer(text)]
    # Capitalisation carries no signal in all-caps (or all-lower) text.
    if not any(c.islower() for c in text) or not any(c.isupper() for c in text):
        return regions
    tokens = list(_TOKEN_RE.finditer(text))
    run: list[tuple[int, int, str, bool]] = []  # (start, end, kind, sentence_initial)
    previous_end = 0

    def close() -> None:
        content = [t for t in run if t[2] in ("cap", "num")]
        if len(content) >= 2 and any(t[2] == "cap" for t in content):
            evidence = any(
                t[2] == "cap"
                and not t[3]
                and re.sub(r"'s$", "", text[t[0] : t[1]].lower()) not in _VOCAB
                for t in content
            )
            if evidence:
                start = content[0][0]
                end = content[-1][1]
                regions.append((start, end))
        run.clear()

    for token in tokens:
        word = token.group()
        gap = text[previous_end : token.start()]
        initial = previous_end == 0 or bool(re.search(r"[.!?\n]", gap))
        if word[0].isdigit():
            kind = "num"
        elif word[0].isupper():
            kind = "cap"
        elif word in _CONNECTORS or word == "&":
            kind = "conn"
        else:
            kind = "low"
        joinable = gap.strip() in ("", ":") and kind != "low"
        if word.lower() in _RUN_BREAKS:
            kind, joinable = "low", False
        if run and not joinable:
            # Connectors only belong to a run when a capitalised word follows them.
            while run and run[-1][2] == "conn":
                run.pop()
            close()
        if kind in ("cap", "num") or (kind == "conn" and run):
            run.append((token.start(), token.end(), kind, initial))
        previous_end = token.end()
    while run and run[-1][2] == "conn":
        run.pop()
    close()
    return regions


# --------------------------------------------------------------------------------------------
# Negation.
# --------------------------------------------------------------------------------------------

# Wording that removes a term from the request without excluding it: softenings ("not too
# scary", "less romance") and "does not have to be a comedy".
_SOFT_NEGATORS = (
    r"(?:doesn'?t|does\s+not|don'?t|do\s+not)\s+(?:have|need)\s+to\s+be",
    r"(?:needn'?t|need\s+not)\s+be",
    r"not\s+(?:necessarily|just|only|strictly|exactly|purely|entirely|all)",
    r"(?:don'?t|do\s+not)\s+(?:mind|care\s+(?:if|whether|about))(?:\s+(?:it'?s|it\s+is|they'?re))?",
    r"(?:a\s+)?(?:bit|little)\s+less",
    r"less",
    r"fewer",
    r"not\s+as",
    r"little\s+(?:to|or)\s+no",
    r"light\s+on",
    r"low\s+on",
    r"minimal",
    r"without\s+(?:too\s+)?(?:much|many)",
    r"not\s+(?:too\s+)?(?:much|many)",
)
_STRONG_NEGATORS = (
    r"anything\s+(?:but|except|other\s+than|besides)",
    r"everything\s+(?:but|except)",
    r"(?:(?:i|we)\s+)?(?:don'?t|do\s+not|doesn'?t|does\s+not|didn'?t|did\s+not|won'?t|will\s+not"
    r"|wouldn'?t|would\s+not|can'?t|cannot|never)\s+(?:really\s+|even\s+)?(?:want|wanna|like|need"
    r"|enjoy|love|care\s+for|feel\s+like|dig|watch|see|show|give|recommend|suggest|include"
    r"|handle|stomach)(?:\s+(?:to\s+)?(?:watch|see))?",
    r"not\s+(?:really\s+|too\s+|very\s+|that\s+|so\s+|particularly\s+|super\s+|overly\s+)?"
    r"(?:into|keen\s+on|fond\s+of|big\s+on|interested\s+in|a\s+(?:big\s+|huge\s+|massive\s+"
    r"|great\s+)?fan\s+of|in\s+the\s+mood\s+for|feeling|up\s+for|looking\s+for)",
    r"(?:can'?t|cannot|couldn'?t)\s+stand",
    r"(?:sick|tired)\s+of",
    r"had\s+enough\s+of",
    r"(?:stay|steer|keep)\s+(?:away\s+from|clear\s+of)",
    r"spare\s+me",
    r"hates?|dislikes?|detest|loathe|despise|avoid|avoiding|skip|skipping|exclude|excluding"
    r"|except|minus|without|sans|rather\s+than|instead\s+of|other\s+than",
    r"none\s+of",
    r"neither",
    r"nor",
    r"no\s+more",
    r"nothing",
    r"isn'?t|aren'?t|(?:shouldn'?t|should\s+not|mustn'?t|must\s+not|can'?t)\s+be",
    r"not",
    r"no",
)
_NEGATOR_RE = re.compile(
    r"(?<![\w'-])(?:(?P<soft>"
    + "|".join(_SOFT_NEGATORS)
    + r")(?![\w'])|(?P<strong>"
    + "|".join(_STRONG_NEGATORS)
    + r")(?![\w'])|(?P<non>non[\s-]?)(?=[a-z]))"
)
# Verbs of dislike whose negation is not a dislike ("I don't hate horror").
_DISLIKE_VERB = re.compile(
    r"hates?|dislikes?|detest|loathe|despise|avoid|avoiding|skip|skipping|exclude|excluding"
)
_DOUBLE_NEGATIVE_BEFORE = re.compile(r"(?:n't|\bnot|\bnever)\s+(?:really\s+)?$")
_DET_FIRST = re.compile(
    r"(?:the|a|an|any|anything|something|stuff|those|that|these|this|more|another|such|of|kind\s+of"
    r"|sort\s+of|types?\s+of|kinds\s+of|me|us|with|involving|featuring|containing|in|movies?"
    r"|films?|flicks?|ones?|that'?s|which\s+(?:is|are)|that\s+(?:is|are|has|have))\s+"
)
_DET_NEXT = re.compile(r"(?:the|a|an|any|those|these|more|in|of)\s+")
_INTENSIFIER = re.compile(
    r"(?:too(?:\s+(?:much|many))?|overly|very|super|so|really|particularly|extremely|terribly"
    r"|excessively|crazy|insanely|that|much|many|a\s+lot\s+of|lots\s+of|heavy\s+on|heavily"
    r"|all\s+that)\s+"
)
_CONNECTOR_RE = re.compile(
    r"(?:\s*,\s*(?:(?:or|and|nor)\s+)?|\s+(?:or|and|nor|and/or)\s+|\s*[/&]\s*|-)"
    r"(?:(?:no|not|nor|nothing|or\s+any|any)\s+)?"
)
_LIST_CONNECTOR_RE = re.compile(r"\s*(?:,\s*(?:or\s+|nor\s+)?|\s+(?:or|nor)\s+|\s*/\s*)")
_HEAD_RE = re.compile(
    r"[\s-]*(?:movies?|films?|flicks?|stuff|things?|ones?|content|genres?|shows?|crap|nonsense"
    r"|garbage|junk|fare|elements?|vibes?|themes?|scenes?|plots?|subplots?|storylines?|type"
    r"|kind|bits?|parts?|nights?)(?![\w])"
)
_GAP_RE = re.compile(r"[\s-]+")
_NEGATED_TAIL_RE = re.compile(
    r"(?:\s*,\s*(?:or\s+|nor\s+)?|\s+(?:or|nor)\s+|\s*/\s*)(?:any\s+)?"
    r"(?P<words>[a-z][a-z'-]*(?:\s+[a-z][a-z'-]*)??)"
    r"(?=\s*(?:$|[.,!?;:)]|(?:but|please|pls|plz|thanks)\b))"
)
_OK_AFTER_RE = re.compile(
    r"\s+(?:is|are|'s|would\s+be)\s+(?:fine|ok|okay|good|great|welcome|allowed|cool|acceptable)"
)
_WORD_RE = re.compile(r"([a-z][a-z'-]*)(?=\s)")
# Words that end a negation's reach instead of being skipped as a modifier.
_STOP_WORDS = _word_set(
    """
    but just though only instead rather please i i'm im you we it is are was were be that's
    which who something anything maybe also really sure certain today tonight now way more
    like love want need prefer preferably ideally and or so because since if than then
    please thanks thank what whatever know idea mood
    """
)


@dataclass(frozen=True)
class _Term:
    """A genre or language term found at a position."""

    start: int
    end: int
    category: str  # "genre" or "language"
    # GENRE_TERMS key, or the language code ("" when it names none, _NOT_ENGLISH for "foreign")
    key: str
    word: str = ""  # a language term's words, lower-case and single-spaced ("non english")


@dataclass(frozen=True)
class _Item:
    """A negated list item: its term(s) and whether the negation is only a softening."""

    start: int
    end: int
    terms: tuple[_Term, ...]
    neutral: bool


# --------------------------------------------------------------------------------------------
# Years.
# --------------------------------------------------------------------------------------------

_YEAR = r"(?:1[89]\d\d|20\d\d)"
_Y_END = _YEAR + r"(?![\w%]|[.,:/]\d|\s*(?:hours?|hrs?|minutes?|mins?)\b)"
_Y = r"(?<![\w$#£€.,/])" + _Y_END
_MOD = r"(?:early|mid|middle|late)"
_DEC_CORE = (
    r"(?:(?:1[89]|20)\d0'?s|'?\d0'?s|(?:nineteen[\s-]?)?(?:thirties|forties|fifties|sixties"
    r"|seventies|eighties|nineties)|noughties|naughties|aughts|two[\s-]thousands)"
)
_DEC = (
    rf"(?:{_MOD}(?:[\s-]*(?:to|-|/)[\s-]*{_MOD})?[\s-]*)?(?:the\s+)?(?<![\w$#]){_DEC_CORE}"
    r"(?![\w])"
)
_DEC_ONE_RE = re.compile(
    rf"(?:(?P<mod1>{_MOD})(?:[\s-]*(?:to|-|/)[\s-]*(?P<mod2>{_MOD}))?[\s-]*)?(?:the\s+)?"
    r"(?<![\w$#])(?:(?P<c>1[89]|20)(?P<d>\d)0'?s|(?P<ap>')?(?P<dd>\d)0'?s"
    r"|(?:nineteen[\s-]?)?(?P<word>thirties|forties|fifties|sixties|seventies|eighties|nineties)"
    r"|(?P<n00>noughties|naughties|aughts|two[\s-]thousands))(?![\w])"
)
_DEC_LIST = (
    rf"{_DEC}(?:\s*(?:,|/|&|-|\bor\b|\band\b|\bto\b|\bthrough\b|\bthru\b|\btill\b|\buntil\b"
    rf"|\binto\b)\s*(?:(?:or|and)\s+)?(?:the\s+)?{_DEC}){{0,4}}"
)
_TARGET = rf"(?:the\s+)?(?:year\s+)?(?P<target>{_DEC}|{_Y})"
_NUM_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
_SMALL_NUM = r"(?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty)"
_FOLLOW = (
    r"movies?|films?|flicks?|releases?|blockbusters?|hits?|classics?|cinema|horror|comed(?:y|ies)"
    r"|thrillers?|dramas?|romances?|rom[\s-]?coms?|action|adventures?|animated|animation|anime"
    r"|documentar(?:y|ies)|sci[\s-]?fi|science\s+fiction|westerns?|war|crime|fantasy"
    r"|myster(?:y|ies)|musicals?|family|superhero(?:es)?|picks?"
)
_YEAR_RE = re.compile(
    r"(?<![\w'-])(?:"
    # "in the last 5 years", "past decade", "less than 10 years old", "this year's".
    rf"(?P<rel>(?:(?:from|in|within|over|during)\s+)?(?:the\s+)?(?:last|past)\s+"
    rf"(?:(?P<reln>{_SMALL_NUM})\s+(?P<relunit>years|decades)|(?P<reldec>decade))"
    rf"|(?:less\s+than|under|not\s+older\s+than|no\s+older\s+than|at\s+most)\s+"
    rf"(?P<oldn>{_SMALL_NUM})\s+years?(?:\s+old)?)"
    r"|(?P<this>(?:(?:from|released|came\s+out|made|of)\s+(?:in\s+)?)this\s+year|this\s+year's)"
    r"|(?P<last>(?:(?:from|released|came\s+out|made|of)\s+(?:in\s+)?)last\s+year|last\s+year's)"
    # "between 1995 and 2005", "from 1995 to 2005", "1995-2005", "1995-99", "2010 to now".
    rf"|(?P<range>(?P<rpre>(?:between|from)\s+(?:the\s+years?\s+)?)?(?P<ra>{_Y})\s*"
    rf"(?P<rconn>-|to|through|thru|till|until|and)\s*(?:the\s+year\s+)?"
    rf"(?:(?P<rb>{_Y_END})|(?P<rb2>\d\d)(?![\w])|(?P<rnow>now|today|the\s+present|present)))"
    # "after 2010", "pre-2000", "since the 90s", "until 2000", "not older than 2010".
    r"|(?P<prefix>(?:(?:released|made|came\s+out|premiered)\s+)?"
    r"(?:(?P<xmin>after|post[\s-]?|newer\s+than|later\s+than|more\s+recent\s+than"
    r"|younger\s+than)|(?P<imin>since|not\s+before|no\s+earlier\s+than|not\s+earlier\s+than"
    r"|not\s+older\s+than|no\s+older\s+than|starting\s+(?:from|in|with|at)|starting"
    r"|beginning\s+(?:in|from|with))|(?P<xmax>before|pre[\s-]?|prior\s+to|older\s+than"
    r"|earlier\s+than)|(?P<imax>until|till|til|up\s+to|up\s+until|through|thru"
    r"|no\s+later\s+than|not\s+after|not\s+later\s+than|not\s+newer\s+than|no\s+newer\s+than"
    rf"|as\s+late\s+as))\s*{_TARGET}"
    r"(?:\s+(?:on(?:wards?)?|onward|forward|and\s+(?:later|after|up|on)|or\s+(?:later|after)))?)"
    # "2010 or later", "from 2010 onwards", "2010+", "the 90s or earlier".
    rf"|(?P<suffix>(?:(?:from|in|released\s+in|of)\s+)?{_TARGET.replace('target', 'starget')}"
    r"(?:(?P<smin>\s*\+|\s+(?:on(?:wards?)?|onward|forward|and\s+(?:later|after|newer|up|beyond"
    r"|on(?:wards?)?|above)|or\s+(?:later|after|newer|more\s+recent|above)|to\s+(?:now|today"
    r"|the\s+present|present(?:\s+day)?)|till\s+now|until\s+now|up\s+to\s+now"
    r"|through\s+(?:now|today))|\s*-\s*(?:now|today|present))"
    r"|(?P<smax>\s+(?:or|and)\s+(?:earlier|before|older|prior))))"
    # "the 80s", "early 2000s", "the 80s or 90s", "from the 70s to the 90s".
    rf"|(?P<decades>(?:(?:between|from|in|of)\s+)?{_DEC_LIST})"
    # "in 2019", "released in 2019", "2019 movies", "2019's best", "from 2019 or 2020".
    rf"|(?P<single>(?:(?:released|came\s+out|made|premiered|from|in|of|year)\s+(?:in\s+)?"
    rf"(?:the\s+year\s+)?)(?P<ys>{_Y}(?:\s*(?:,|/|or|&|and)\s*{_Y_END}){{0,4}})"
    rf"|(?P<ys2>{_Y}(?:\s*(?:,|/|or|&)\s*{_Y_END}){{0,4}})(?='s(?![\w])|[\s-]+(?:[a-z-]+\s+){{0,2}}"
    rf"(?:{_FOLLOW})(?![\w]))))"
    r"(?![\w])"
)
_FOUR_DIGITS_RE = re.compile(_Y_END)
# "set in the 80s", "I watched it in 2019", "grew up in the 90s": not the release date.
_SETTING_BEFORE_RE = re.compile(
    r"(?:(?:\bset|take[sn]?\s+place|taking\s+place|happen\w*|located|born|grew\s+up"
    r"|growing\s+up|visited|lived|living|childhood|vibes?|feel\s+of|style\s+of)\s+"
    r"(?:(?:it|them|this|that|back|up)\s+)?"
    # "I watched Parasite in 2019": when the user saw it, not when it came out.
    r"|\b(?:watched|saw|seen|rewatched|discovered)\s+(?:[\w'-]+\s+){0,4}?)"
    r"(?:(?:in|during|around|from|of|like|back\s+in)\s+)?(?:the\s+)?$"
)
_STYLE_AFTER_RE = re.compile(
    r"[\s-]*(?:style[sd]?|vibes?|aesthetics?|feel|nostalgi\w*|music|soundtracks?|fashion"
    r"|setting|inspired|throwback|retro|synth\w*|look|atmosphere|kid)(?![\w])"
)
# "from 1999 or so", "2005-ish": an approximate year is no bound.
_APPROX_AFTER_RE = re.compile(
    r"\s*(?:-?ish\b|or\s+so\b|or\s+thereabouts|give\s+or\s+take|more\s+or\s+less)"
)
_AGE_BEFORE_RE = re.compile(r"(?:\bmy|\bhis|\bher|\btheir|\bour|\byour)\s+$")
_AGE_AFTER_RE = re.compile(r"\s*(?:years?[\s-]+old|-year-old|yo\b|somethings?)")
_NEGATED_BEFORE_RE = re.compile(
    r"(?:\bnot|\bno|\bnothing|\bnone|\bwithout|\bexcept|n't|\bnon-?|\bavoid|\bhate|\bskip)\s+"
    r"(?:(?:from|in|the|any|anything|something|stuff|movies?|films?|released|made|that'?s"
    r"|want|wanna|like|need|watch|see|of)\s+){0,3}$"
)
_RECENT_RE = re.compile(
    r"(?<![\w])(?:recent(?:ly\s+released)?|latest|newest|new\s+releases?|brand[\s-]new"
    r"|newer\s+(?:movies|films|ones|releases?)|new\s+(?:movies|films))(?![\w])"
)

# --------------------------------------------------------------------------------------------
# Runtime and rating.
# --------------------------------------------------------------------------------------------

_NUMW = (
    r"(?:\d+(?:[.,]\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|(?:a\s+|one\s+)?hundred)"
)
_HOURS = r"(?:hours?|hrs?|h)"
_MINS = r"(?:minutes?|mins?|m)"
_DUR = (
    r"(?:(?:an?\s+|one\s+)?hour\s+and\s+a\s+half|half\s+an\s+hour"
    rf"|{_NUMW}(?:\s+and\s+a\s+half|\s*½)?[\s-]*{_HOURS}(?:\s*(?:and\s+)?\d{{1,2}}\s*{_MINS})?"
    rf"|\d\s*h\s*\d{{1,2}}(?:\s*{_MINS})?|{_NUMW}[\s-]*{_MINS})(?![\w])"
)
_RT_MAX_PRE = (
    r"under|below|less\s+than|shorter\s+than|no\s+(?:more|longer)\s+than|not\s+(?:more|longer)"
    r"\s+than|not\s+over|at\s+most|max(?:imum)?(?:\s+of)?|up\s+to|within|<=?|≤"
)
_RT_MIN_PRE = (
    r"over|above|more\s+than|longer\s+than|at\s+least|min(?:imum)?(?:\s+of)?|no\s+(?:less|shorter)"
    r"\s+than|not\s+(?:less|shorter)\s+than|not\s+under|>=?|≥"
)
_RT_TAIL = r"(?:\s+(?:long|in\s+length|runtime|running\s+time))?"
# The time the user has is a runtime_max: "I only have about 2 hours", "we've got 90 minutes",
# "I have time for something around 90 minutes", "only 2 hours to spare", "need it done in 2
# hours". "about"/"around"/"like" N there is read as N: the time available caps the film, so a
# film a little under N is what is meant. (Alone, "about 2 hours" or "around 2 hours long"
# describes a film vaguely and sets nothing.) "I have over/at least 2 hours" sets nothing
# either: more time than a bound is no bound. Only a first-person subject ("I", "we") or a
# clause start ("Got about an hour and a half") makes "have"/"got" the user's time, so "they
# have 2 hours to stop the bomb" and "I have been waiting 2 hours" are plot or chat; "2 hours of
# homework" is something else to do, not time to fill.
_RT_ABOUT = (
    r"(?:(?:only|just|about|around|roughly|approximately|approx\.?|maybe|like|almost|nearly"
    r"|barely|under|less\s+than|no\s+more\s+than|at\s+most|up\s+to|not\s+even)\s+|~\s*)"
)
# Not after "and"/"so": "the heroes meet and have 2 hours to escape" is plot.
_RT_CLAUSE_START = (
    r"(?:^|(?<=[.,!?;:(])|(?<=[.,!?;:(]\s)|(?<=\bok\s)|(?<=\bokay\s)|(?<=\bwell\s)"
    r"|(?<=\byeah\s)|(?<=\bhey\s)|(?<=\bhi\s))"
)
_RT_HAVE = (
    rf"(?:(?:i|we)(?:'?ve|\s+have)?\s+|(?=only|just|really|still|probably|maybe|have|got)"
    rf"{_RT_CLAUSE_START})"
    r"(?:(?:only|just|really|still|probably|maybe)\s+)?(?:have|got)\s+"
    r"(?:time\s+for\s+(?:(?:something|anything|a\s+movie|a\s+film|one|a)\s+)?)?"
    r"(?:(?P<hmore>over|more\s+than|at\s+least|a\s+(?:bit|little)\s+(?:over|more\s+than))\s+)?"
    rf"{_RT_ABOUT}{{0,2}}(?P<d5>{_DUR})"
    r"(?:\s+of\s+(?:(?:free|spare|screen)\s+)?time(?![\w])|(?!\s+of(?![\w])))"
    r"(?:\s*-?ish|\s+or\s+so|\s+(?:max(?:imum)?|tops|at\s+(?:the\s+)?most))?"
    r"(?:\s+(?:to\s+(?:spare|kill|burn|watch)|free|available|left|tonight))?"
)
_RT_SPARE = (
    rf"(?:(?:only|just)\s+)?(?:(?:about|around|like|maybe|roughly)\s+)?(?P<d6>{_DUR})"
    r"\s+to\s+(?:spare|kill|burn)"
    rf"|(?:only|just)\s+(?:(?:about|around|like|maybe|roughly)\s+)?(?P<d8>{_DUR})"
    r"\s+(?:free|available)"
)
_RT_DONE = (
    r"(?:(?:(?:need|want)s?\s+(?:it\s+)?(?:to\s+)?|(?:has|have|got)\s+to\s+)?"
    r"(?:it|it'?s|be|is|we'?re|i'?m)\s+"
    r"(?:done|over|finished|wrapped\s+up)"
    rf"|finish(?:\s+it)?)\s+(?:in|within)\s+{_RT_ABOUT}{{0,2}}(?P<d7>{_DUR})"
)
# "doesn't need to be done in 2 hours": no bound.
_RT_NEGATED_BEFORE_RE = re.compile(r"(?:n't|\bnot|\bnever)\s+$")
# "takes place over 2 hours", "set within an hour": the plot's time, not the film's.
_RT_PLOT_BEFORE_RE = re.compile(
    r"(?:take[sn]?\s+place|taking\s+place|took\s+place|\bset|happen(?:s|ed|ing)?"
    r"|unfold(?:s|ed|ing)?)\s+(?:(?:entirely|all|only|just|mostly)\s+)?$"
)
_RUNTIME_RE = re.compile(
    r"(?<![\w])(?:"
    rf"(?P<have>{_RT_HAVE})|(?P<spare>{_RT_SPARE})|(?P<done>{_RT_DONE})|"
    rf"(?P<range>(?P<between>between\s+)?(?P<ra>{_NUMW})\s*(?P<rau>{_HOURS}|{_MINS})?\s*"
    rf"(?P<rconn>-|to|and)\s*(?P<rb>{_DUR}))"
    rf"|(?P<maxpre>(?:{_RT_MAX_PRE})\s*(?:the\s+)?(?P<d1>{_DUR})(?:\s+mark)?)"
    rf"|(?P<minpre>(?:{_RT_MIN_PRE})\s*(?:the\s+)?(?P<d2>{_DUR})(?:\s+mark)?)"
    rf"|(?P<plus>(?P<pn>\d+(?:[.,]\d+)?)\s*\+\s*(?P<pu>{_HOURS}|{_MINS}))"
    rf"|(?P<maxpost>(?P<d3>{_DUR})\s*(?:or\s+(?:less|shorter|under)|max(?:imum)?|tops"
    r"|at\s+(?:the\s+)?most))"
    rf"|(?P<minpost>(?P<d4>{_DUR})\s*(?:or\s+(?:more|longer|over)|plus|at\s+least|minimum))"
    rf"|(?P<bare>(?:runtime|running\s+time|length)\s+(?:of\s+|is\s+)?(?:(?P<bmax>{_RT_MAX_PRE})"
    rf"|(?P<bmin>{_RT_MIN_PRE}))\s*(?P<bn>\d{{2,3}}))"
    rf"){_RT_TAIL}(?![\w])"
)
_DUR_PARTS_RE = re.compile(
    r"(?P<half>(?:(?:an?|one)\s+)?hour\s+and\s+a\s+half)|(?P<halfhour>half\s+an\s+hour)"
    rf"|(?P<h2>\d)\s*h\s*(?P<m2>\d{{1,2}})(?:\s*{_MINS})?(?![\w])"
    rf"|(?P<h>{_NUMW})(?P<hhalf>\s+and\s+a\s+half|\s*½)?[\s-]*{_HOURS}"
    rf"(?:\s*(?:and\s+)?(?P<hm>\d{{1,2}})\s*{_MINS})?"
    rf"|(?P<m>{_NUMW})[\s-]*{_MINS}"
)
_R_NUM = r"(?P<n>\d{1,3}(?:[.,]\d)?)"
_R_COMP = (
    r"(?:above|over|at\s+least|more\s+than|higher\s+than|better\s+than|greater\s+than"
    r"|min(?:imum)?(?:\s+of)?|of\s+at\s+least|no\s+less\s+than|not\s+(?:below|under|less\s+than"
    r"|lower\s+than)|>=?|≥)"
)
_R_SRC = r"(?:imdb|tmdb|letterboxd|rotten\s+tomatoes|tomatometer|rt|metacritic|metascore)"
_R_PERCENT_SRC = re.compile(r"rotten|tomatometer|\brt\b|metacritic|metascore")
_R_OR_HIGHER = (
    r"(?:\s*\+|\s+or\s+(?:higher|better|above|more|over)|\s+and\s+(?:up|above|higher|over)"
    r"|\s+plus)"
)
_R_SCALE = r"(?P<scale>\s*(?:/|out\s+of)\s*(?P<sv>10|5|100))"
_RATING_RE = re.compile(
    r"(?<![\w])(?:"
    rf"(?P<ctx>(?P<ctxw>rated|rating|ratings|score|scored|scoring|vote\s+average|{_R_SRC})"
    rf"(?:\s*(?::|of|is|at|on\s+{_R_SRC}))?\s*(?:{_R_COMP}\s*)?{_R_NUM}{_R_SCALE}?"
    rf"(?P<pct>\s*%)?(?:\s*stars?)?{_R_OR_HIGHER}?)"
    rf"|(?P<scaled>(?:{_R_COMP}\s*)?{_R_NUM.replace('<n>', '<n2>')}"
    rf"{_R_SCALE.replace('<scale>', '<scale2>').replace('<sv>', '<sv2>')}{_R_OR_HIGHER}?"
    rf"(?:\s+(?:on|in)\s+{_R_SRC})?)"
    rf"|(?P<src>(?:{_R_COMP}\s*)?{_R_NUM.replace('<n>', '<n3>')}(?P<pct3>\s*%)?"
    rf"{_R_OR_HIGHER}?\s*(?:stars?\s+)?(?:on|in|at|according\s+to)\s+(?P<srcw>{_R_SRC}))"
    rf"|(?P<stars>(?:{_R_COMP}\s*{_R_NUM.replace('<n>', '<n4>')}\s*(?:\+\s*)?(?:-\s*)?stars?)"
    rf"|{_R_NUM.replace('<n>', '<n5>')}\s*(?:\+\s*stars?|[\s-]*stars?{_R_OR_HIGHER}))"
    rf"|(?P<decimal>{_R_COMP}\s*(?P<n6>\d\.\d)(?![\d%])"
    rf"(?!\s*(?:(?:{_HOURS}|{_MINS}|stars?|out)(?![\w])|/|%)))"
    r"|(?P<acclaimed>(?:highly|high|well|top|best|highest|better|critically)[\s-]+(?:rated"
    r"|reviewed|regarded|received|acclaimed)|(?:critically\s+)?acclaimed|top[\s-]?rated"
    r"|(?:award|oscar|academy[\s-]award)[\s-]winn(?:ing|ers?)|(?:good|great|strong|glowing|rave"
    r"|positive|excellent)\s+reviews|masterpieces?|best|greatest)"
    r")(?![\w])"
)
_RATING_NEGATED_BEFORE_RE = re.compile(
    r"(?:(?:(?:doesn'?t|does\s+not|don'?t|do\s+not|needn'?t)\s+)?(?:need|have)\s+to\s+be"
    r"|(?:(?:don'?t|do\s+not)\s+)?care\s+(?:about|if)|(?:doesn'?t\s+)?matter\s+if"
    r"|(?:not\s+)?necessarily|\bnot|n't|\bno|\bnever)\s+"
    r"(?:(?:the|a|an|be|very|that|so|too|really|particularly|necessarily|it'?s"
    r"|they'?re|if)\s+)*$"
)
_NEUTRALIZED_BEFORE_RE = re.compile(
    r"(?:(?:doesn'?t|does\s+not|don'?t|do\s+not|needn'?t)\s+(?:have|need)\s+to\s+be"
    r"|not\s+necessarily|don'?t\s+care\s+(?:if|whether)(?:\s+it'?s)?)\s+$"
)

# Language wording that is about subtitles or dubbing, not the film's original language.
_SUB_AFTER_RE = re.compile(
    r"[\s-]*(?:language\s+)?(?:sub(?:title)?s?|subtitled|subbed|dub(?:bed|s)?|captions?"
    r"|captioned|cc|audio(?:\s+track)?|voice[\s-]?(?:over|acting|cast)|translations?"
    r"|translated|version|dialogue\s+track)(?![\w])"
)
_SUB_BEFORE_RE = re.compile(
    r"(?:sub(?:title)?s?|subtitled|subbed|dub(?:bed|s)?|captions?|captioned|translated|voiced"
    r"|audio|narrat\w*)\s+(?:(?:is|are|available|only)\s+)*(?:(?:in(?:to)?|to)\s+)?$"
)
_LANG_SUBJECT_AFTER_RE = re.compile(
    r"[\s-]+(?:mytholog\w*|myths?|gods?|goddess\w*|legends?|folklore|folk\s+tales?|fairy\s+tales?"
    r"|history|revolution|wars|civil|empire|emperors?|dynast\w*|culture|food|cuisine|cooking"
    # "war" only as a subject ("the Korean War", "a Russian war story"): "a German war movie"
    # is a German-language film, unless the adjective names a war of its own (_NAMED_WARS).
    r"|war(?![\s-]+(?:movies?|films?|flicks?|dramas?|epics?|pictures?|thrillers?))"
    r"|chefs?|restaurants?|accents?|roulette|standoff|dream|football|soccer|flu|inquisition"
    r"|monarchy|royal\w*|politics|army|navy|soldiers|spies|spy|teachers?|class(?:es)?|lessons?"
    r"|literature|countryside|grammar|major|immigrants?|refugees?|expats?|tourists?|new\s+year"
    r"|countryside|invasion|occupation|resistance|colonial\w*|independence)(?![\w])"
)
# Adjectives that, before "war", name a war rather than a country's cinema.
_NAMED_WARS = frozenset({"korean", "vietnamese", "afghan", "iraqi", "spanish"})
_LANG_ABOUT_BEFORE_RE = re.compile(
    r"(?:\babout|\bregarding|\bon)\s+(?:(?:a|an|the|some|two|these|those)\s+)?$"
)
_PLACE_BEFORE_RE = re.compile(r"(?:\bin|\bat|\babout|\bto|\binto|\bset\s+in)\s+(?:the\s+)?$")


# --------------------------------------------------------------------------------------------
# The parser.
# --------------------------------------------------------------------------------------------


class _Parser:
    """One parse: the text, what is protected or already taken, and what was found."""

    def __init__(self, text: str, today_year: int, recent_years: int | None) -> None:
        self.original = text
        self.text = _normalize(text)
        self.low = _lower(self.text)
        self.today = today_year
        self.recent_years = recent_years
        self.protected = _title_regions(self.text) + [
            m.span() for m in _BLOCKERS_RE.finditer(self.low)
        ]
        # "term": negated genre/language wording, which no later matcher may reuse; "genre" and
        # "language": positive matches, which may overlap each other ("k-drama", "j-horror").
        self.taken: dict[str, list[tuple[int, int]]] = {
            "term": [],
            "genre": [],
            "language": [],
            "number": [],
        }
        self.spans: list[Span] = []
        self.genres: list[tuple[str, bool]] = []  # (genre, direct)
        self.excluded: list[tuple[str, bool]] = []  # (genre, direct)
        self.languages: list[tuple[int, int, str]] = []
        self.excluded_languages: list[tuple[int, str]] = []  # (start, code)
        self.years: list[tuple[int, int, int | None, int | None]] = []  # start, end, lo, hi
        self.runtime_min: int | None = None
        self.runtime_max: int | None = None
        self.ratings: list[float] = []
        self.acclaimed = False

    # -- bookkeeping ---------------------------------------------------------------------------

    def free(self, start: int, end: int, *categories: str) -> bool:
        """Whether [start, end) is neither a protected title nor taken by an earlier match."""
        return not _overlaps(start, end, self.protected) and not any(
            _overlaps(start, end, self.taken[c]) for c in categories
        )

    def add(self, start: int, end: int, kind: str, value: str, category: str) -> None:
        """Record a span and take its text from later matchers of the same category."""
        self.spans.append(Span(start, end, kind, value, self.original[start:end]))
        self.taken[category].append((start, end))

    def skip_space(self, position: int) -> int:
        """The first position at or after `position` that is not whitespace."""
        while position < len(self.low) and self.low[position].isspace():
            position += 1
        return position

    def before(self, position: int, width: int = 48) -> str:
        """The lower-cased text just before a position."""
        return self.low[max(0, position - width) : position]

    # -- terms -------------------------------------------------------------------------------

    def term_at(self, position: int) -> _Term | None:
        """A free genre or language term starting exactly at `position`."""
        m = _GENRE_RE.match(self.low, position)
        if m and self.free(m.start(), m.end(), "term"):
            key = _TERM_KEYS[int(m.lastgroup[1:])]  # type: ignore[index]
            return _Term(m.start(), m.end(), "genre", key)
        m = _LANG_RE.match(self.low, position)
        if m and self.free(m.start(), m.end(), "term"):
            word = re.sub(r"[\s-]+", " ", m.group("term"))
            code = _NOT_ENGLISH if word in _NOT_ENGLISH_TERMS else _LANG_LOOKUP.get(word)
            return _Term(m.start(), m.end(), "language", code or "", word)
        return None

    def not_english_about_films(self, term: str, start: int, end: int) -> bool:
        """Whether "foreign" / "international" / "non-English" at [start, end) is about films."""
        if term in ("non english", "nonenglish"):
            return True
        if term == "international":
            return bool(_INTERNATIONAL_NOUN_AFTER_RE.match(self.low, end))
        if _FOREIGN_NOUN_AFTER_RE.match(self.low, end):
            return True  # "foreign films", "foreign-language films", "foreign indie movies"
        gap = _GAP_RE.match(self.low, end)
        after = gap.end() if gap else end
        if gap and (_GENRE_RE.match(self.low, after) or _LANG_RE.match(self.low, after)):
            return True  # "foreign horror", "foreign language Italian films"
        before = self.before(start)
        if _IN_BEFORE_RE.search(before):  # "in a foreign language", "in foreign languages"
            lang = _LANGUAGES_WORD_RE.match(self.low, end)
            return bool(_CLAUSE_END_RE.match(self.low, lang.end() if lang else end))
        # "something foreign", but not "learning a foreign language".
        return bool(_CLAUSE_END_RE.match(self.low, end)) and not _ARTICLE_BEFORE_RE.search(before)

    # -- negation ----------------------------------------------------------------------------

    def negations(self) -> None:
        """Exclusions ("no horror", "anything but romance") and softenings ("not too scary")."""
        for m in _NEGATOR_RE.finditer(self.low):
            if not self.free(m.start(), m.end(), "term"):
                continue
            word = m.group()
            before = self.before(m.start())
            if m.group("strong"):
                if _DISLIKE_VERB.fullmatch(word) and _DOUBLE_NEGATIVE_BEFORE.search(before):
                    continue  # "I don't hate horror"
                if word == "not" and re.search(r"\bwhy\s+$", before):
                    continue  # "why not horror?"
                if word == "nothing" and self.low.startswith(" but", m.end()):
                    continue  # "nothing but horror" asks for horror
            self.negated_list(
                m.start(), m.end(), word, soft=bool(m.group("soft")), non=bool(m.group("non"))
            )

    def negated_list(
        self, neg_start: int, position: int, word: str, *, soft: bool, non: bool
    ) -> None:
        """Read the term list a negator governs and record each item's exclusion or softening."""
        items: list[_Item] = []
        first = self.item(position, first=True, word=word, non=non)
        if first is None and not non:
            first = self.listed_after_other(position)
        if first is None:
            return
        items.append(first)
        end = first.end
        while True:
            c = _CONNECTOR_RE.match(self.low, end)
            if not c:
                break
            nxt = self.item(c.end(), first=False, word=word, non=False)
            if nxt is None and _LIST_CONNECTOR_RE.match(self.low, end):
                nxt = self.listed_after_other(c.end())
            if nxt is None:
                break
            items.append(nxt)
            end = nxt.end
        start = neg_start
        for item in items:
            self.record_negated(start, item, soft=soft)
            start = item.end
        tail = _NEGATED_TAIL_RE.match(self.low, end)
        if tail and not any(w in _STOP_WORDS for w in tail.group("words").split()):
            # "no horror or gore": the other listed words are negated too, so they must not be
            # left in a search text.
            self.add(end, tail.end("words"), "ignored", "negated", "term")

    def listed_after_other(self, position: int) -> _Item | None:
        """'no gore or horror': skip one or two other words listed before a term."""
        p = self.skip_space(position)
        for _ in range(2):
            w = _WORD_RE.match(self.low, p)
            if not w or w.group(1) in _STOP_WORDS or not self.free(w.start(), w.end(), "term"):
                return None
            if self.term_at(w.start()):
                return None
            p = w.end()
            c = _LIST_CONNECTOR_RE.match(self.low, p)
            if c:
                return self.item(c.end(), first=False, word="", non=False)
            p = self.skip_space(p)
        return None

    def item(self, position: int, *, first: bool, word: str, non: bool) -> _Item | None:
        """A negated item at `position`: determiners, the term(s), a trailing noun like 'movies'."""
        p = self.skip_space(position)
        neutral = False
        term = None
        for _ in range(6):
            term = self.term_at(p)
            if term or non:
                break
            m = _INTENSIFIER.match(self.low, p) if first else None
            if m and (not m.group().startswith("that") or word in ("not", "nothing")):
                neutral, p = True, m.end()
                continue
            m = (_DET_FIRST if first else _DET_NEXT).match(self.low, p)
            if not m:
                break
            p = m.end()
        if term is None and first and not non:
            # "no dark comedies": a modifier narrows the term, so it is neither wanted nor
            # excluded as a whole.
            q = p
            for _ in range(2):
                w = _WORD_RE.match(self.low, q)
                if not w or w.group(1) in _STOP_WORDS:
                    break
                q = self.skip_space(w.end())
                term = self.term_at(q)
                if term:
                    neutral = True
                    break
        if term is None:
            return None
        terms = [term]
        end = term.end
        # "horror comedies", "Korean horror": a compound names a narrower kind; neither part is
        # excluded on its own. "non-" binds to one language: "non-English war films" are war
        # films.
        gap = _GAP_RE.match(self.low, end)
        compound = gap and not neutral and not (non and term.category == "language")
        nxt = self.term_at(gap.end()) if compound else None
        if nxt:
            terms.append(nxt)
            end = nxt.end
            neutral = True
        head = _HEAD_RE.match(self.low, end)
        if head:
            end = head.end()
        if _OK_AFTER_RE.match(self.low, end):
            return None  # "romance is fine"
        return _Item(term.start, end, tuple(terms), neutral)

    def record_negated(self, start: int, item: _Item, *, soft: bool) -> None:
        """Record a negated item from `start` (its negator or list connector) to its end."""
        neutral = soft or item.neutral
        for term in item.terms:
            if term.category == "language":
                self.record_negated_language(start, item.end, term, neutral=neutral)
                continue
            excluded = _EXCLUDE_AS.get(term.key, GENRE_TERMS[term.key])
            if neutral or not excluded:
                self.add(
                    start,
                    item.end,
                    "ignored",
                    "softened:" + "/".join(GENRE_TERMS[term.key]),
                    "term",
                )
                continue
            for genre in excluded:
                self.add(start, item.end, "exclude_genre", genre, "term")
                self.excluded.append((genre, term.key not in _INDIRECT))

    def record_negated_language(self, start: int, end: int, term: _Term, *, neutral: bool) -> None:
        """A negated language term: an excluded language, English for "no foreign films", or
        ignored (softened, a nationality, subtitles)."""
        sub_after = _SUB_AFTER_RE.match(self.low, term.end)
        if sub_after or _SUB_BEFORE_RE.search(self.before(term.start)):
            # "no English subtitles", "without English dubbing": not the original language.
            end = max(end, sub_after.end() if sub_after else end)
            code = term.key if term.key != _NOT_ENGLISH else ""
            self.add(start, end, "ignored", f"subtitles:{code or 'language'}", "term")
            return
        if term.key == _NOT_ENGLISH:
            if not neutral and self.not_english_about_films(term.word, term.start, term.end):
                # "no foreign films", "nothing foreign": English-language films.
                self.taken["term"].append((start, end))
                self.languages.append((start, end, "en"))
            else:
                self.add(start, end, "ignored", "negated:language", "term")
            return
        if neutral or not term.key or term.word not in _LANGUAGE_NAME_WORDS:
            self.add(start, end, "ignored", f"negated:{term.key or 'language'}", "term")
            return
        for code in _EXCLUDE_LANGUAGE_AS.get(term.word, (term.key,)):
            self.add(start, end, "exclude_language", code, "term")
            self.excluded_languages.append((start, code))

    # -- genres and languages ----------------------------------------------------------------

    def genres_positive(self) -> None:
        """Genre terms asked for."""
        for m in _GENRE_RE.finditer(self.low):
            if not self.free(m.start(), m.end(), "term", "genre"):
                continue
            key = _TERM_KEYS[int(m.lastgroup[1:])]  # type: ignore[index]
            for genre in GENRE_TERMS[key]:
                self.add(m.start(), m.end(), "genre", genre, "genre")
                self.genres.append((genre, key not in _INDIRECT))

    def languages_positive(self) -> None:
        """Language, nationality and film-industry words naming the original language."""
        for m in _LANG_RE.finditer(self.low):
            start, end = m.span()
            if not self.free(start, end, "term", "language"):
                continue
            term = re.sub(r"[\s-]+", " ", m.group("term"))
            code = _LANG_LOOKUP.get(term)
            before = self.before(start)
            sub_after = _SUB_AFTER_RE.match(self.low, end)
            sub_before = _SUB_BEFORE_RE.search(before)
            if sub_after or sub_before:
                span_start = start - len(sub_before.group()) if sub_before else start
                span_end = sub_after.end() if sub_after else end
                self.add(
                    span_start, span_end, "ignored", f"subtitles:{code or 'language'}", "language"
                )
                continue
            if before.endswith("non-"):
                continue  # "non-French is fine": left unread by the negations
            if term in _NOT_ENGLISH_TERMS:
                if _LANG_ABOUT_BEFORE_RE.search(before) or not self.not_english_about_films(
                    term, start, end
                ):
                    continue  # "about foreign films", "a foreign exchange student"
                if _OPEN_BEFORE_RE.search(before) or _OPEN_AFTER_RE.match(self.low, end):
                    continue  # "open to foreign films", "foreign is fine", "English or foreign"
                if _NEGATED_BEFORE_RE.search(before):
                    self.add(start, end, "ignored", "negated:language", "language")
                    continue
                # "foreign films", "non-English": anything but English.
                self.add(start, end, "exclude_language", "en", "language")
                self.excluded_languages.append((start, "en"))
                continue
            if code is None:
                continue
            if (term in _PLACE_TERMS or term == "hong kong") and _PLACE_BEFORE_RE.search(before):
                continue  # "set in Hong Kong", "a movie about Hollywood"
            named_war = term in _NAMED_WARS and re.match(r"[\s-]+war\b", self.low[end:])
            subject = _LANG_SUBJECT_AFTER_RE.match(self.low, end) or named_war
            if subject or _LANG_ABOUT_BEFORE_RE.search(before):
                continue  # "Greek mythology", "a film about a Korean family"
            if _NEGATED_BEFORE_RE.search(before):
                self.add(start, end, "ignored", f"negated:{code}", "language")
                continue
            into = re.search(r"\bin\s+$", before)
            if into and term not in _PLACE_TERMS:
                start -= len(into.group())
            self.languages.append((start, end, code))
            self.taken["language"].append((start, end))
        for m in _COUNTRY_RE.finditer(self.low):
            start, end = m.span()
            code = _COUNTRY_LOOKUP.get(re.sub(r"\s+", " ", m.group("term")))
            if code is None or not self.free(start, end, "term", "language"):
                continue
            if _NEGATED_BEFORE_RE.search(self.before(start)):
                continue
            self.languages.append((start, end, code))

    # -- years -------------------------------------------------------------------------------

    def year_ok(self, year: int) -> bool:
        """Whether a number is a plausible release year."""
        return EARLIEST_YEAR <= year <= self.today + LATEST_YEAR_SLACK

    def decade(self, m: re.Match[str], offset: int) -> tuple[int, int] | None:
        """The years of one decade expression ('the early 80s'); None when ambiguous."""
        if m.group("c"):
            base = int(m.group("c")) * 100 + int(m.group("d")) * 10
        elif m.group("dd"):
            digit = int(m.group("dd"))
            if digit == 2:
                return None  # "the 20s": 1920s or 2020s
            if digit == 1:
                # "10s" is the 2010s only as "the 10s" / "'10s" ("10s of movies" is a count).
                if not (m.group("ap") or self.low[: offset + m.start("dd")].endswith("the ")):
                    return None
                base = 2010
            else:
                base = 2000 if digit == 0 else 1900 + digit * 10
        elif m.group("word"):
            words = (
                "thirties",
                "forties",
                "fifties",
                "sixties",
                "seventies",
                "eighties",
                "nineties",
            )
            base = 1930 + 10 * words.index(m.group("word"))
        else:
            base = 2000
        parts = {"early": (0, 4), "mid": (3, 7), "middle": (3, 7), "late": (5, 9)}
        lo, hi = 0, 9
        if m.group("mod1"):
            lo, hi = parts[m.group("mod1")]
            if m.group("mod2"):
                hi = parts[m.group("mod2")][1]  # "mid-to-late 90s"
        if base > self.today + LATEST_YEAR_SLACK or base + 9 < EARLIEST_YEAR:
            return None
        return base + lo, base + hi

    def target_range(self, text: str, offset: int) -> tuple[int, int] | None:
        """The first and last year a bound's target ('2010', 'the 90s') covers."""
        d = _DEC_ONE_RE.search(text)
        if d:
            return self.decade(d, offset)
        y = _FOUR_DIGITS_RE.search(text)
        if y and self.year_ok(int(y.group())):
            return int(y.group()), int(y.group())
        return None

    def small_number(self, text: str) -> int | None:
        """'5' or 'five' as an int."""
        return int(text) if text.isdigit() else _NUM_WORDS.get(text)

    def years_found(self) -> None:
        """Release-year ranges and bounds, intersected later."""
        for m in _YEAR_RE.finditer(self.low):
            start, end = m.span()
            if not self.free(start, end, "number"):
                continue
            before = self.before(start)
            target_start = start
            for name in ("target", "starget", "ra", "ys", "ys2"):
                if m.group(name):
                    target_start = m.start(name)
                    break
            if m.group("decades"):
                d = _DEC_ONE_RE.search(self.low, start, end)
                target_start = d.start() if d else start
            if _SETTING_BEFORE_RE.search(self.before(target_start)) or _STYLE_AFTER_RE.match(
                self.low, end
            ):
                continue
            if (m.group("single") or m.group("range")) and _APPROX_AFTER_RE.match(self.low, end):
                continue
            if (m.group("decades") or m.group("suffix")) and (
                _AGE_BEFORE_RE.search(self.before(target_start))
                or _AGE_AFTER_RE.match(self.low, end)
            ):
                continue  # "in my 30s", "30s-something"
            bounds = self.year_bounds(m)
            if bounds is None:
                continue
            lo, hi, label = bounds
            negated = _NEGATED_BEFORE_RE.search(before)
            if negated:
                self.add(start - len(negated.group()), end, "ignored", f"negated:{label}", "number")
                continue
            self.add(start, end, "year", label, "number")
            self.years.append((start, end, lo, hi))
        # "recent" is a vague stand-in for a year bound: any stated year or decade wins over it
        # ("more recent, 2000s onwards" means from 2000).
        if self.recent_years is not None and not self.years:
            for m in _RECENT_RE.finditer(self.low):
                if not self.free(m.start(), m.end(), "number"):
                    continue
                if _NEGATED_BEFORE_RE.search(self.before(m.start())):
                    continue
                lo = self.today - self.recent_years
                self.add(m.start(), m.end(), "year", f">={lo}", "number")
                self.years.append((m.start(), m.end(), lo, None))

    def year_bounds(self, m: re.Match[str]) -> tuple[int | None, int | None, str] | None:
        """(year_min, year_max, label) for one year phrase; None when it is not one."""
        if m.group("rel"):
            n = (
                10
                if m.group("reldec")
                else self.small_number(m.group("reln") or m.group("oldn") or "")
            )
            if not n:
                return None
            if m.group("relunit") and m.group("relunit").startswith("decade"):
                n *= 10
            if n > 100:
                return None
            return self.today - n, None, f">={self.today - n}"
        if m.group("this"):
            return self.today, self.today, f"{self.today}-{self.today}"
        if m.group("last"):
            return self.today - 1, self.today - 1, f"{self.today - 1}-{self.today - 1}"
        if m.group("range"):
            a = int(m.group("ra"))
            conn = m.group("rconn")
            if conn == "and" and not (m.group("rpre") or "").startswith("between"):
                return None
            if m.group("rnow"):
                return (a, None, f">={a}") if self.year_ok(a) else None
            if m.group("rb2"):
                b = a // 100 * 100 + int(m.group("rb2"))
                if b <= a:
                    return None
            else:
                b = int(m.group("rb"))
            a, b = min(a, b), max(a, b)
            if not (self.year_ok(a) and self.year_ok(b)):
                return None
            return a, b, f"{a}-{b}"
        if m.group("prefix") or m.group("suffix"):
            name = "target" if m.group("prefix") else "starget"
            covered = self.target_range(m.group(name), m.start(name))
            if covered is None:
                return None
            first, last = covered
            if m.group("xmin"):
                return last + 1, None, f">={last + 1}"
            if m.group("imin") or m.group("smin"):
                return first, None, f">={first}"
            if m.group("xmax"):
                return None, first - 1, f"<={first - 1}"
            if m.group("imax") or m.group("smax"):
                return None, last, f"<={last}"
            return None
        if m.group("decades"):
            found = []
            for d in _DEC_ONE_RE.finditer(self.low, m.start(), m.end()):
                covered = self.decade(d, 0)
                if covered is None:
                    return None
                found.append(covered)
            if not found:
                return None
            lo, hi = min(f[0] for f in found), max(f[1] for f in found)
            return lo, hi, f"{lo}-{hi}"
        if m.group("single"):
            text = m.group("ys") or m.group("ys2")
            years = [int(y) for y in re.findall(r"\d{4}", text)]
            if not years or not all(self.year_ok(y) for y in years):
                return None
            return min(years), max(years), f"{min(years)}-{max(years)}"
        return None

    # -- runtime and rating -------------------------------------------------------------------

    def minutes(self, text: str) -> int | None:
        """A duration phrase in minutes."""
        m = _DUR_PARTS_RE.search(text)
        if not m:
            return None
        if m.group("half"):
            return 90
        if m.group("halfhour"):
            return 30
        if m.group("h"):
            hours = self.number(m.group("h"))
            if hours is None:
                return None
            if m.group("hhalf"):
                hours += 0.5
            return round(hours * 60) + int(m.group("hm") or 0)
        if m.group("h2"):
            return int(m.group("h2")) * 60 + int(m.group("m2"))
        value = self.number(m.group("m"))
        return None if value is None else round(value)

    def number(self, text: str) -> float | None:
        """'2', '1.5', '1,5', 'two', 'a hundred' as a number."""
        text = " ".join(text.split())
        try:
            return float(text.replace(",", "."))
        except ValueError:
            pass
        if text.endswith("hundred"):
            return 100.0
        value = _NUM_WORDS.get(text)
        return None if value is None else float(value)

    def runtime(self) -> None:
        """Runtime bounds: 'under 2 hours', 'over 150 min', '90-120 minutes', '2+ hours', and
        the time the user has as a maximum: 'I only have about 2 hours', '2 hours to spare'."""
        for m in _RUNTIME_RE.finditer(self.low):
            start, end = m.span()
            if not self.free(start, end, "number"):
                continue
            before = self.before(start)
            if _NEUTRALIZED_BEFORE_RE.search(before):
                self.add(start, end, "ignored", "runtime", "number")
                continue
            if _RT_PLOT_BEFORE_RE.search(before):
                continue  # "a film that takes place over 2 hours"
            lo = hi = None
            available = m.group("have") or m.group("spare") or m.group("done")
            if available and (m.group("hmore") or _RT_NEGATED_BEFORE_RE.search(before)):
                # "I have over 2 hours", "it doesn't need to be done in 2 hours"
                self.add(start, end, "ignored", "runtime", "number")
                continue
            if available:
                duration = m.group("d5") or m.group("d6") or m.group("d8") or m.group("d7")
                hi = self.minutes(duration)
            elif m.group("range"):
                b = self.minutes(m.group("rb"))
                a_number = self.number(m.group("ra"))
                if m.group("rconn") == "and" and not m.group("between"):
                    continue
                unit = m.group("rau") or re.search(rf"{_HOURS}|{_MINS}", m.group("rb")).group()
                if a_number is None or b is None:
                    continue
                a = round(a_number * 60) if unit.startswith("h") else round(a_number)
                lo, hi = min(a, b), max(a, b)
            elif m.group("maxpre") or m.group("maxpost"):
                hi = self.minutes(m.group("d1") or m.group("d3"))
            elif m.group("minpre") or m.group("minpost"):
                lo = self.minutes(m.group("d2") or m.group("d4"))
            elif m.group("plus"):
                value = self.number(m.group("pn"))
                if value is not None:
                    lo = round(value * 60) if m.group("pu").startswith("h") else round(value)
            elif m.group("bare"):
                value = int(m.group("bn"))
                lo, hi = (None, value) if m.group("bmax") else (value, None)
            values = [v for v in (lo, hi) if v is not None]
            if not values or not all(RUNTIME_RANGE[0] <= v <= RUNTIME_RANGE[1] for v in values):
                continue
            if lo is not None:
                self.runtime_min = max(lo, self.runtime_min or 0)
            if hi is not None:
                self.runtime_max = hi if self.runtime_max is None else min(hi, self.runtime_max)
            label = (
                f"{lo}-{hi}"
                if lo is not None and hi is not None
                else (f">={lo}" if lo is not None else f"<={hi}")
            )
            self.add(start, end, "runtime", label, "number")

    def rating(self) -> None:
        """Minimum ratings: 'rated above 8', '8/10', 'at least 4 stars', 'highly rated'."""
        for m in _RATING_RE.finditer(self.low):
            start, end = m.span()
            if not self.free(start, end, "number"):
                continue
            negated = _RATING_NEGATED_BEFORE_RE.search(self.before(start))
            if negated:
                self.add(start - len(negated.group()), end, "ignored", "rating", "number")
                continue
            if m.group("acclaimed"):
                self.acclaimed = True
                self.add(start, end, "rating", f">={ACCLAIMED_MIN_RATING}", "number")
                continue
            value = self.rating_value(m)
            if value is None or not 0 < value <= 10:
                continue
            self.ratings.append(value)
            self.add(start, end, "rating", f">={value}", "number")

    def rating_value(self, m: re.Match[str]) -> float | None:
        """The 0-10 value of an explicit rating phrase."""
        if m.group("ctx"):
            n, scale, percent = m.group("n"), m.group("sv"), m.group("pct")
            source = m.group("ctxw")
        elif m.group("scaled"):
            n, scale, percent, source = m.group("n2"), m.group("sv2"), None, ""
        elif m.group("src"):
            n, scale, percent, source = m.group("n3"), None, m.group("pct3"), m.group("srcw")
        elif m.group("stars"):
            n = m.group("n4") or m.group("n5")
            value = float(n.replace(",", "."))
            return value * 2 if value <= 5 else value
        else:
            n, scale, percent, source = m.group("n6"), None, None, ""
        value = float(n.replace(",", "."))
        if scale:
            value = value * 10 / int(scale)
        elif percent or (value > 10 and _R_PERCENT_SRC.search(source)):
            value /= 10
        return round(value, 1)

    # -- assembly ------------------------------------------------------------------------------

    def result(self) -> Constraints:
        """Resolve conflicts and build the Constraints."""
        direct_wanted = {g for g, direct in self.genres if direct}
        excluded: list[str] = []
        for genre, direct in self.excluded:
            if not direct and genre in direct_wanted:
                continue  # "action, but no superhero stuff" keeps Action
            if genre not in excluded:
                excluded.append(genre)
        genres: list[str] = []
        for genre, _direct in self.genres:
            if genre not in genres and genre not in excluded:
                genres.append(genre)
        # Exclusions overruled above stay recognised wording, but set nothing.
        self.spans = [
            s
            if s.kind != "exclude_genre" or s.value in excluded
            else Span(s.start, s.end, "ignored", f"overruled:{s.value}", s.text)
            for s in self.spans
        ]

        language = None
        codes = {code for _, _, code in self.languages}
        if len(codes) == 1:
            language = codes.pop()
            for start, end, code in self.languages:
                self.spans.append(Span(start, end, "language", code, self.original[start:end]))
        # A language both asked for and excluded is asked for ("a foreign film, but in English").
        exclude_languages: list[str] = []
        for _, code in sorted(self.excluded_languages, key=lambda item: item[0]):
            if code != language and code not in exclude_languages:
                exclude_languages.append(code)
        self.spans = [
            s
            if s.kind != "exclude_language" or s.value != language
            else Span(s.start, s.end, "ignored", f"overruled:{s.value}", s.text)
            for s in self.spans
        ]

        year_min = year_max = None
        if self.years:
            los = [lo for _, _, lo, _ in self.years if lo is not None]
            his = [hi for _, _, _, hi in self.years if hi is not None]
            year_min = max(los) if los else None
            year_max = min(his) if his else None
            if year_min is not None and year_max is not None and year_min > year_max:
                # Contradictory statements: keep none of them.
                year_min = year_max = None
                self.spans = [s for s in self.spans if s.kind != "year"]

        runtime_min, runtime_max = self.runtime_min, self.runtime_max
        if runtime_min is not None and runtime_max is not None and runtime_min > runtime_max:
            runtime_min = runtime_max = None  # contradictory, as with years
            self.spans = [s for s in self.spans if s.kind != "runtime"]

        min_rating = max(self.ratings) if self.ratings else None
        if min_rating is None and self.acclaimed:
            min_rating = ACCLAIMED_MIN_RATING

        spans = tuple(sorted(self.spans, key=lambda s: (s.start, s.end, s.kind, s.value)))
        return Constraints(
            genres=tuple(genres),
            exclude_genres=tuple(excluded),
            year_min=year_min,
            year_max=year_max,
            language=language,
            exclude_languages=tuple(exclude_languages),
            runtime_max=runtime_max,
            runtime_min=runtime_min,
            min_rating=min_rating,
            spans=spans,
        )


def parse_constraints(
    text: str, *, today_year: int | None = None, recent_years: int | None = None
) -> Constraints:
    """Parse the explicit constraints of a movie request, leaving out whatever is uncertain.

    today_year bounds plausible years and anchors "last 5 years" (default: this year).
    recent_years, when given, reads "recent"/"latest"/"new releases" as year_min = today_year -
    recent_years; by default those words are too vague and set nothing.
    """
    parser = _Parser(text, today_year or date.today().year, recent_years)
    # Order matters: numbers with units first so "2 hours" is never a year, then negations so a
    # negated term is never read as wanted.
    parser.runtime()
    parser.rating()
    parser.years_found()
    parser.negations()
    parser.genres_positive()
    parser.languages_positive()
    return parser.result()
