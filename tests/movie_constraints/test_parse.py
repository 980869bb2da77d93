"""Table-driven tests of parse_constraints: every rule, and the phrasings it must not misread."""

from __future__ import annotations

import time
from typing import Any

import pytest

from movie_constraints import ACCLAIMED_MIN_RATING, Constraints, Span, parse_constraints

TODAY = 2025
HI = ACCLAIMED_MIN_RATING


def parse(text: str, **kwargs: Any) -> Constraints:
    return parse_constraints(text, today_year=TODAY, **kwargs)


def expect(**fields: Any) -> dict[str, Any]:
    """The full as_dict() of a result with `fields` set and everything else empty."""
    out = Constraints().as_dict()
    for key, value in fields.items():
        assert key in out, key
        out[key] = list(value) if isinstance(value, (list, tuple)) else value
    return out


def check(text: str, expected: dict[str, Any], **kwargs: Any) -> None:
    result = parse(text, **kwargs)
    assert result.as_dict() == expected, f"{text!r}: {result.as_dict()}"
    # Spans point into the text they came from.
    for span in result.spans:
        assert span.text == text[span.start : span.end]


def cases(*rows: tuple[str, dict[str, Any]]) -> list[Any]:
    return [pytest.param(text, exp, id=text) for text, exp in rows]


# --- release years --------------------------------------------------------------------------

YEAR_CASES = cases(
    # Decades.
    ("movies from the 80s", expect(year_min=1980, year_max=1989)),
    ("80s", expect(year_min=1980, year_max=1989)),
    ("'80s", expect(year_min=1980, year_max=1989)),
    ("\u201980s thrillers", expect(genres=["Thriller"], year_min=1980, year_max=1989)),
    ("80's", expect(year_min=1980, year_max=1989)),
    ("1980s", expect(year_min=1980, year_max=1989)),
    ("the 1980's", expect(year_min=1980, year_max=1989)),
    ("eighties", expect(year_min=1980, year_max=1989)),
    ("the sixties", expect(year_min=1960, year_max=1969)),
    ("the 2000s", expect(year_min=2000, year_max=2009)),
    ("00s", expect(year_min=2000, year_max=2009)),
    ("noughties", expect(year_min=2000, year_max=2009)),
    ("2010s", expect(year_min=2010, year_max=2019)),
    ("the 10s", expect(year_min=2010, year_max=2019)),
    ("2020s", expect(year_min=2020, year_max=2029)),
    ("1920s", expect(year_min=1920, year_max=1929)),
    ("the 30s", expect(year_min=1930, year_max=1939)),
    ("early 80s", expect(year_min=1980, year_max=1984)),
    ("mid 80s", expect(year_min=1983, year_max=1987)),
    ("mid-80s", expect(year_min=1983, year_max=1987)),
    ("the late 80s", expect(year_min=1985, year_max=1989)),
    ("early 2000s", expect(year_min=2000, year_max=2004)),
    ("mid-to-late 90s", expect(year_min=1993, year_max=1999)),
    ("the 80s or 90s", expect(year_min=1980, year_max=1999)),
    ("80s and 90s", expect(year_min=1980, year_max=1999)),
    ("80s/90s", expect(year_min=1980, year_max=1999)),
    ("from the 70s to the 90s", expect(year_min=1970, year_max=1999)),
    ("90s or early 2000s", expect(year_min=1990, year_max=2004)),
    ("the 60s, 70s, 80s or 90s", expect(year_min=1960, year_max=1999)),
    # Bounds: strictly after / before, or inclusive.
    ("after 2010", expect(year_min=2011)),
    ("newer than 2010", expect(year_min=2011)),
    ("post-2010", expect(year_min=2011)),
    ("post 2010", expect(year_min=2011)),
    ("released after the 90s", expect(year_min=2000)),
    ("since 2010", expect(year_min=2010)),
    ("from 2010 on", expect(year_min=2010)),
    ("from 2010 onwards", expect(year_min=2010)),
    ("2010 or later", expect(year_min=2010)),
    ("2010+", expect(year_min=2010)),
    ("not older than 2010", expect(year_min=2010)),
    ("the 90s or later", expect(year_min=1990)),
    ("from 1990 to today", expect(year_min=1990)),
    ("between 2000 and now", expect(year_min=2000)),
    ("before 2000", expect(year_max=1999)),
    ("older than 2000", expect(year_max=1999)),
    ("pre-2000", expect(year_max=1999)),
    ("before the 80s", expect(year_max=1979)),
    ("pre-90s", expect(year_max=1989)),
    ("until 2000", expect(year_max=2000)),
    ("up to 2000", expect(year_max=2000)),
    ("2000 or earlier", expect(year_max=2000)),
    ("after 2010 but before 2020", expect(year_min=2011, year_max=2019)),
    # Ranges.
    ("between 1995 and 2005", expect(year_min=1995, year_max=2005)),
    ("from 1995 to 2005", expect(year_min=1995, year_max=2005)),
    ("1995-2005", expect(year_min=1995, year_max=2005)),
    ("1995\u20132005", expect(year_min=1995, year_max=2005)),
    ("1995 \u2014 2005", expect(year_min=1995, year_max=2005)),
    ("1990-95", expect(year_min=1990, year_max=1995)),
    # A single stated year.
    ("from 2019", expect(year_min=2019, year_max=2019)),
    ("in 2019", expect(year_min=2019, year_max=2019)),
    ("2019 movies", expect(year_min=2019, year_max=2019)),
    ("released in 2019", expect(year_min=2019, year_max=2019)),
    ("a movie that came out in 2019", expect(year_min=2019, year_max=2019)),
    ("best movies of 2015", expect(year_min=2015, year_max=2015, min_rating=HI)),
    ("in the year 2000", expect(year_min=2000, year_max=2000)),
    ("from 2019 or 2020", expect(year_min=2019, year_max=2020)),
    ("2019's best", expect(year_min=2019, year_max=2019, min_rating=HI)),
    ("any good horror from 2019?", expect(genres=["Horror"], year_min=2019, year_max=2019)),
    ("a 1999 film", expect(year_min=1999, year_max=1999)),
    ("made before 1980", expect(year_max=1979)),
    ("anything from before the 80s", expect(year_max=1979)),
    ("not before 2000", expect(year_min=2000)),
    ("2000-present", expect(year_min=2000)),
    ("late 90s or early 00s thrillers", expect(genres=["Thriller"], year_min=1995, year_max=2004)),
    ("something from the 2010's", expect(year_min=2010, year_max=2019)),
    # Relative to today_year.
    ("from the last 5 years", expect(year_min=2020)),
    ("the past decade", expect(year_min=2015)),
    ("less than 10 years old", expect(year_min=2015)),
    ("movies from this year", expect(year_min=2025, year_max=2025)),
    ("movies from last year", expect(year_min=2024, year_max=2024)),
)


@pytest.mark.parametrize(("text", "expected"), YEAR_CASES)
def test_years(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


# Numbers and years that are not a release-year constraint.
NOT_YEAR_CASES = cases(
    ("20s movies", expect()),
    ("the 20s", expect()),
    ("the roaring twenties", expect()),
    ("10s of movies", expect()),
    ("top 10", expect()),
    ("top 10 horror movies", expect(genres=["Horror"])),
    ("2 hours of fun", expect()),
    ("Blade Runner 2049", expect()),
    ("blade runner 2049", expect()),
    ("something like Blade Runner 2049", expect()),
    ("2001: A Space Odyssey", expect()),
    ("movies like 2001 a space odyssey", expect()),
    ("something like Heat (1995)", expect()),
    ("Apollo 13", expect()),
    ("1917", expect()),
    ("movies set in the 80s", expect()),
    ("a war movie set in 1944", expect(genres=["War"])),
    ("I watched Parasite in 2019 and loved it", expect()),
    ("80s style synthwave movie", expect()),
    ("a movie with an 80s vibe", expect()),
    ("a movie for people in their 30s", expect()),
    ("in my 40s and looking for a drama", expect(genres=["Drama"])),
    ("not from the 90s", expect()),
    ("no 90s movies", expect()),
    ("nothing before 2000", expect()),
    ("the 2030s", expect()),
    ("in 1850", expect()),
    ("a film from 1999 or so", expect()),
    ("2005-ish", expect()),
    ("circa 1990", expect()),
    ("around 2000", expect()),
    ("horror 2019", expect(genres=["Horror"])),
    ("1995 and 2005", expect()),
    ("80s movies from 1995", expect()),  # contradictory statements: none kept
    ("recent French dramas", expect(genres=["Drama"], language="fr")),
    ("latest releases", expect()),
    ("new movies", expect()),
    ("old classics", expect()),
)


@pytest.mark.parametrize(("text", "expected"), NOT_YEAR_CASES)
def test_not_years(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


def test_recent_years_option() -> None:
    assert parse("recent French dramas", recent_years=3).year_min == 2022
    assert parse("the latest releases", recent_years=2).year_min == 2023
    assert parse("new movies", recent_years=5).year_min == 2020
    # Not when negated, and never by default.
    assert parse("nothing recent", recent_years=5).year_min is None
    assert parse("recent", recent_years=None).year_min is None
    # A stated year or decade wins over the vague word.
    assert parse("more recent pls, 2000s onwards", recent_years=3).year_min == 2000
    assert parse("newer ones, after 2010", recent_years=3).year_min == 2011


def test_today_year_bounds_plausible_years() -> None:
    assert parse_constraints("from 2027", today_year=2025).year_min == 2027
    assert parse_constraints("from 2028", today_year=2025).year_min is None
    assert parse_constraints("from 2028", today_year=2030).year_min == 2028
    assert parse_constraints("the last 3 years", today_year=2030).year_min == 2027


# --- genres ---------------------------------------------------------------------------------

GENRE_CASES = cases(
    ("a comedy", expect(genres=["Comedy"])),
    ("comedies", expect(genres=["Comedy"])),
    ("something funny", expect(genres=["Comedy"])),
    ("funnier than Airplane", expect(genres=["Comedy"])),
    ("hilarious", expect(genres=["Comedy"])),
    ("make me laugh", expect(genres=["Comedy"])),
    ("a horror movie", expect(genres=["Horror"])),
    ("something scary", expect(genres=["Horror"])),
    ("scarier than Alien", expect(genres=["Horror"])),
    ("frightening", expect(genres=["Horror"])),
    ("terrifying", expect(genres=["Horror"])),
    ("a romcom", expect(genres=["Romance", "Comedy"])),
    ("rom-com", expect(genres=["Romance", "Comedy"])),
    ("romantic comedy", expect(genres=["Romance", "Comedy"])),
    ("romance", expect(genres=["Romance"])),
    ("something romantic", expect(genres=["Romance"])),
    ("a love story", expect(genres=["Romance"])),
    ("a thriller", expect(genres=["Thriller"])),
    ("sci-fi", expect(genres=["Science Fiction"])),
    ("scifi", expect(genres=["Science Fiction"])),
    ("science fiction", expect(genres=["Science Fiction"])),
    ("animated movies", expect(genres=["Animation"])),
    ("animation", expect(genres=["Animation"])),
    ("cartoons", expect(genres=["Animation"])),
    ("anime", expect(genres=["Animation"])),
    ("something pixar-style", expect(genres=["Animation"])),
    ("a documentary", expect(genres=["Documentary"])),
    ("docu about space", expect(genres=["Documentary"])),
    ("a doc about whales", expect(genres=["Documentary"])),
    ("any good docs?", expect(genres=["Documentary"])),
    ("a western", expect(genres=["Western"])),
    ("cowboy movies", expect(genres=["Western"])),
    ("a war movie", expect(genres=["War"])),
    ("war films", expect(genres=["War"])),
    ("WWII", expect(genres=["War"])),
    ("movies about world war 2", expect(genres=["War"])),
    ("a musical", expect(genres=["Music"])),
    ("music documentaries", expect(genres=["Music", "Documentary"])),
    ("a heist movie", expect(genres=["Crime"])),
    ("gangster films", expect(genres=["Crime"])),
    ("mafia", expect(genres=["Crime"])),
    ("a mob movie", expect(genres=["Crime"])),
    ("crime", expect(genres=["Crime"])),
    ("film noir", expect(genres=["Crime"])),
    ("a whodunit", expect(genres=["Mystery"])),
    ("detective stories", expect(genres=["Mystery"])),
    ("murder mystery", expect(genres=["Mystery"])),
    ("something for the kids", expect(genres=["Family"])),
    ("a family movie", expect(genres=["Family"])),
    ("family-friendly", expect(genres=["Family"])),
    ("for children", expect(genres=["Family"])),
    ("kids movie", expect(genres=["Family"])),
    ("something the whole family can watch", expect(genres=["Family"])),
    ("thriller/mystery", expect(genres=["Thriller", "Mystery"])),
    ("fantasy", expect(genres=["Fantasy"])),
    ("historical", expect(genres=["History"])),
    ("a period piece", expect(genres=["History"])),
    ("history", expect(genres=["History"])),
    ("period drama", expect(genres=["History", "Drama"])),
    ("drama", expect(genres=["Drama"])),
    ("adventure", expect(genres=["Adventure"])),
    ("action", expect(genres=["Action"])),
    ("action-packed", expect(genres=["Action"])),
    ("superhero movies", expect(genres=["Action"])),
    ("a tearjerker", expect(genres=["Drama"])),
    ("make me cry", expect(genres=["Drama"])),
    ("something sad", expect(genres=["Drama"])),
    ("a tv movie", expect(genres=["TV Movie"])),
    ("horror-comedy", expect(genres=["Horror", "Comedy"])),
    ("action comedy", expect(genres=["Action", "Comedy"])),
    ("HORROR", expect(genres=["Horror"])),
    ("Sci-Fi Thriller", expect(genres=["Science Fiction", "Thriller"])),
)


@pytest.mark.parametrize(("text", "expected"), GENRE_CASES)
def test_genres(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


NOT_GENRE_CASES = cases(
    ("something like Star Wars", expect()),
    ("star wars", expect()),
    ("Star Wars but funnier", expect(genres=["Comedy"])),
    ("World War Z", expect()),
    ("the war on drugs", expect()),
    ("All Quiet on the Western Front", expect()),
    ("western europe", expect()),
    ("non-western films", expect()),
    ("live-action remake", expect()),
    ("Funny Games", expect()),
    ("The Sound of Music", expect()),
    ("A History of Violence", expect()),
    ("Mystery Men", expect()),
    ("film history", expect()),
    ("partners in crime", expect()),
    ("a great musical score", expect()),
    ("with great music", expect()),
    ("a family drama", expect(genres=["Drama"])),
    ("a movie about kids", expect()),
    ("I'm sad, cheer me up", expect()),
    ("feel good movies for a sad day", expect()),
    ("flash mob", expect()),
    ("Doc Brown", expect()),
    ('something like "Scary Movie"', expect()),
    ('something "funny"', expect(genres=["Comedy"])),
    ("Horror Movies Like Hereditary", expect(genres=["Horror"])),
    ("underrated gems", expect()),
)


@pytest.mark.parametrize(("text", "expected"), NOT_GENRE_CASES)
def test_not_genres(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


# --- exclusions and softenings ---------------------------------------------------------------

EXCLUSION_CASES = cases(
    ("no horror", expect(exclude_genres=["Horror"])),
    ("not horror", expect(exclude_genres=["Horror"])),
    ("nothing scary", expect(exclude_genres=["Horror"])),
    ("without romance", expect(exclude_genres=["Romance"])),
    ("anything but romance", expect(exclude_genres=["Romance"])),
    ("except comedies", expect(exclude_genres=["Comedy"])),
    ("not a comedy", expect(exclude_genres=["Comedy"])),
    ("no romcoms", expect(exclude_genres=["Romance"])),
    ("I hate musicals", expect(exclude_genres=["Music"])),
    ("avoid war movies", expect(exclude_genres=["War"])),
    ("skip the horror", expect(exclude_genres=["Horror"])),
    ("none of that superhero stuff", expect(exclude_genres=["Action"])),
    ("no animated", expect(exclude_genres=["Animation"])),
    ("not animated please", expect(exclude_genres=["Animation"])),
    ("no horror or gore", expect(exclude_genres=["Horror"])),
    ("no gore or horror", expect(exclude_genres=["Horror"])),
    ("no horror, no romance", expect(exclude_genres=["Horror", "Romance"])),
    ("no horror, romance or musicals", expect(exclude_genres=["Horror", "Romance", "Music"])),
    ("neither horror nor romance", expect(exclude_genres=["Horror", "Romance"])),
    ("I don't like horror or thrillers", expect(exclude_genres=["Horror", "Thriller"])),
    ("I don't want to watch anything scary", expect(exclude_genres=["Horror"])),
    ("not in the mood for anything romantic", expect(exclude_genres=["Romance"])),
    ("not a fan of westerns", expect(exclude_genres=["Western"])),
    ("I can't stand musicals", expect(exclude_genres=["Music"])),
    ("tired of superhero movies", expect(exclude_genres=["Action"])),
    ("non-horror", expect(exclude_genres=["Horror"])),
    ("not for kids", expect(exclude_genres=["Family"])),
    ("NO HORROR PLEASE", expect(exclude_genres=["Horror"])),
    ("i dont like horror", expect(exclude_genres=["Horror"])),
    ("dont show me horror", expect(exclude_genres=["Horror"])),
    ("Something light, I'm not in the mood for drama", expect(exclude_genres=["Drama"])),
    ("no musicals!!", expect(exclude_genres=["Music"])),
    # The negation reaches only the terms right after it.
    ("no horror, something funny", expect(genres=["Comedy"], exclude_genres=["Horror"])),
    ("no horror but a thriller", expect(genres=["Thriller"], exclude_genres=["Horror"])),
    ("a comedy but no romcoms", expect(genres=["Comedy"], exclude_genres=["Romance"])),
    ("A romantic movie that isn't a comedy", expect(genres=["Romance"], exclude_genres=["Comedy"])),
    ("animated but not for kids", expect(genres=["Animation"], exclude_genres=["Family"])),
    ("comedy, not romance", expect(genres=["Comedy"], exclude_genres=["Romance"])),
    (
        "I don't like horror movies, but love thrillers",
        expect(genres=["Thriller"], exclude_genres=["Horror"]),
    ),
    ("no gore, romance is fine", expect(genres=["Romance"])),
    # A direct exclusion wins over a wish; an indirect one does not.
    ("action but no superhero stuff", expect(genres=["Action"])),
    ("horror but not slasher", expect(genres=["Horror"])),
    ("romance, but no romcoms", expect(genres=["Romance"])),
    ("animated but no anime", expect(genres=["Animation"])),
    ("not another superhero movie", expect(exclude_genres=["Action"])),
    ("no slashers", expect(exclude_genres=["Horror"])),
    ("not horror but scary", expect(exclude_genres=["Horror"])),
)


@pytest.mark.parametrize(("text", "expected"), EXCLUSION_CASES)
def test_exclusions(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


SOFTENING_CASES = cases(
    ("not too scary", expect()),
    ("less scary", expect()),
    ("less scary than The Conjuring", expect()),
    ("nothing too scary", expect()),
    ("not very romantic", expect()),
    ("not that scary", expect()),
    ("not overly romantic", expect()),
    ("without too much romance", expect()),
    ("not as scary as It", expect()),
    ("a little less romance", expect()),
    ("a horror movie, but not too scary", expect(genres=["Horror"])),
    ("not too scary horror for a date", expect(genres=["Horror"])),
    ("doesn't have to be a comedy", expect()),
    ("not necessarily a thriller", expect()),
    ("no dark comedies", expect()),
    ("no Korean horror", expect()),
    ("no horror comedies", expect()),
    ("I don't hate horror", expect(genres=["Horror"])),
    ("nothing but horror", expect(genres=["Horror"])),
    ("I'm not sure, maybe a horror", expect(genres=["Horror"])),
    ("nothing sad", expect()),
    ("no tearjerkers", expect()),
)


@pytest.mark.parametrize(("text", "expected"), SOFTENING_CASES)
def test_softenings_are_not_exclusions(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


# --- language -------------------------------------------------------------------------------

LANGUAGE_CASES = cases(
    ("French", expect(language="fr")),
    ("something French", expect(language="fr")),
    ("in Korean", expect(language="ko")),
    ("a Japanese film", expect(language="ja")),
    ("Bollywood", expect(language="hi")),
    ("Tollywood action", expect(genres=["Action"], language="te")),
    ("Kollywood", expect(language="ta")),
    ("Spanish-language thriller", expect(genres=["Thriller"], language="es")),
    ("Spanish language", expect(language="es")),
    # "foreign" also excludes English: redundant beside Italian, and harmless.
    ("foreign language in Italian", expect(language="it", exclude_languages=["en"])),
    ("foreign language Italian films", expect(language="it", exclude_languages=["en"])),
    ("Brazilian drama", expect(genres=["Drama"], language="pt")),
    ("Mexican horror", expect(genres=["Horror"], language="es")),
    ("Argentinian", expect(language="es")),
    ("Iranian cinema", expect(language="fa")),
    ("Hong Kong action", expect(genres=["Action"], language="cn")),
    ("Cantonese", expect(language="cn")),
    ("Mandarin", expect(language="zh")),
    ("Chinese", expect(language="zh")),
    ("Hollywood classics", expect(language="en")),
    ("American", expect(language="en")),
    ("British comedy", expect(genres=["Comedy"], language="en")),
    ("something in English", expect(language="en")),
    ("movies from France", expect(language="fr")),
    ("german", expect(language="de")),
    ("k-drama", expect(genres=["Drama"], language="ko")),
    ("j-horror", expect(genres=["Horror"], language="ja")),
    (
        "Korean thriller with English subtitles",
        expect(genres=["Thriller"], language="ko"),
    ),
    ("Korean film dubbed in English", expect(language="ko")),
    ("Spanish horror with English subs", expect(genres=["Horror"], language="es")),
    ("Spanish or Mexican", expect(language="es")),
    ("Japanese movie but not anime", expect(exclude_genres=["Animation"], language="ja")),
    ("Something like Parasite but in English", expect(language="en")),
    ("Not French, but Italian", expect(language="it", exclude_languages=["fr"])),
    ("no subtitles, English only", expect(language="en")),
)


@pytest.mark.parametrize(("text", "expected"), LANGUAGE_CASES)
def test_language(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


NOT_LANGUAGE_CASES = cases(
    ("with English subtitles", expect()),
    ("English dub please", expect()),
    ("English subtitles", expect()),
    ("subtitles in English", expect()),
    ("French or Italian", expect()),
    ("French and Italian dramas", expect(genres=["Drama"])),
    ("Indian movies", expect()),
    ("Scandinavian", expect()),
    ("Latin American", expect(language="es")),
    ("set in Hong Kong", expect()),
    ("set in Japan", expect()),
    ("Once Upon a Time in Hollywood", expect()),
    ("The French Connection", expect()),
    ("The Italian Job", expect()),
    ("American Psycho vibes", expect()),
    ("Greek mythology", expect()),
    ("movies about the Korean War", expect(genres=["War"])),
    ("a film about a Korean family", expect()),
    ("French revolution", expect()),
)


@pytest.mark.parametrize(("text", "expected"), NOT_LANGUAGE_CASES)
def test_not_language(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


EXCLUDE_LANGUAGE_CASES = cases(
    # A negated language name excludes that original language.
    ("a thriller, but not in Spanish", expect(genres=["Thriller"], exclude_languages=["es"])),
    ("not in Spanish", expect(exclude_languages=["es"])),
    ("no French films", expect(exclude_languages=["fr"])),
    ("nothing in English", expect(exclude_languages=["en"])),
    ("not in English", expect(exclude_languages=["en"])),
    ("not english", expect(exclude_languages=["en"])),
    ("NOT IN ENGLISH", expect(exclude_languages=["en"])),
    ("anything but English", expect(exclude_languages=["en"])),
    ("without German", expect(exclude_languages=["de"])),
    ("except in German", expect(exclude_languages=["de"])),
    ("I don't want anything in French", expect(exclude_languages=["fr"])),
    ("I hate French films", expect(exclude_languages=["fr"])),
    ("not French-language", expect(exclude_languages=["fr"])),
    ("no Spanish-speaking films", expect(exclude_languages=["es"])),
    ("no Hindi films", expect(exclude_languages=["hi"])),
    ("non-English", expect(exclude_languages=["en"])),
    ("non english movies", expect(exclude_languages=["en"])),
    ("nonenglish", expect(exclude_languages=["en"])),
    ("non-French", expect(exclude_languages=["fr"])),
    # "non-" binds to the one language after it.
    ("Non-English war films", expect(genres=["War"], exclude_languages=["en"])),
    (
        "non-English romantic comedies",
        expect(genres=["Romance", "Comedy"], exclude_languages=["en"]),
    ),
    ("any not in spanish?", expect(exclude_languages=["es"])),
    ("ok but not korean this time", expect(exclude_languages=["ko"])),
    # Lists exclude every item, in the order given.
    ("no French or Italian films", expect(exclude_languages=["fr", "it"])),
    ("not in english or spanish", expect(exclude_languages=["en", "es"])),
    # "Chinese" covers both of TMDB's Chinese codes.
    ("anything but Chinese", expect(exclude_languages=["zh", "cn"])),
    # "foreign" / "international", about films, exclude English.
    ("foreign films", expect(exclude_languages=["en"])),
    ("something foreign", expect(exclude_languages=["en"])),
    ("a foreign film or two", expect(exclude_languages=["en"])),
    ("foreign-language horror", expect(genres=["Horror"], exclude_languages=["en"])),
    ("a foreign thriller", expect(genres=["Thriller"], exclude_languages=["en"])),
    ("foreign indie movies", expect(exclude_languages=["en"])),
    ("a movie in a foreign language", expect(exclude_languages=["en"])),
    ("international films", expect(exclude_languages=["en"])),
    ("Show Me International Films", expect(exclude_languages=["en"])),
    ("international cinema", expect(exclude_languages=["en"])),
    ("the best foreign language film winners", expect(exclude_languages=["en"], min_rating=HI)),
    # Subtitles and dubbing are no original language.
    ("foreign films with English subtitles", expect(exclude_languages=["en"])),
    ("foreign films dubbed in English", expect(exclude_languages=["en"])),
    # With a language asked for.
    (
        "Korean thriller, not in English",
        expect(genres=["Thriller"], language="ko", exclude_languages=["en"]),
    ),
    ("movies in English, not French", expect(language="en", exclude_languages=["fr"])),
    ("no horror, nothing in French", expect(exclude_genres=["Horror"], exclude_languages=["fr"])),
    ("not in English, under 2 hours", expect(exclude_languages=["en"], runtime_max=120)),
    # A language both asked for and excluded is asked for.
    ("a foreign film, but in English", expect(language="en")),
    # "no foreign films" asks for English.
    ("no foreign films", expect(language="en")),
    ("nothing foreign", expect(language="en")),
    ("English, nothing foreign", expect(language="en")),
)


@pytest.mark.parametrize(("text", "expected"), EXCLUDE_LANGUAGE_CASES)
def test_excluded_languages(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


NOT_EXCLUDED_LANGUAGE_CASES = cases(
    ("a film about a Spanish painter", expect()),
    ("not too scary", expect()),
    ("with English subtitles", expect()),
    ("no English subtitles", expect()),
    ("without English subtitles", expect()),
    ("no English dub", expect()),
    ("not dubbed in English", expect()),
    # "no subtitles" is about the version, not the original language: a dub satisfies it.
    ("no subtitles", expect()),
    ("anime, no subtitles please", expect(genres=["Animation"])),
    ("Korean film, no subtitles", expect(language="ko")),
    ("no subtitles, English only", expect(language="en")),
    # Softened, or narrowed by a genre: nothing is excluded.
    ("doesn't have to be in English", expect()),
    ("not only in French", expect()),
    ("no Korean horror", expect()),
    ("no k-dramas", expect()),
    ("non-French is fine", expect()),
    # Openness to foreign films is no wish for them.
    ("non-English is fine", expect()),
    ("foreign films are fine", expect()),
    ("open to foreign films", expect()),
    ("including foreign films", expect()),
    ("foreign or not", expect()),
    # A nationality or an industry is no language.
    ("no American films", expect()),
    ("no Mexican movies", expect()),
    ("nothing British", expect()),
    ("no Hollywood movies", expect()),
    # "foreign" and "international" about something else than films.
    ("a film about learning a foreign language", expect()),
    ("set in a foreign country", expect()),
    ("a foreign exchange student comedy", expect(genres=["Comedy"])),
    ("an international spy thriller", expect(genres=["Thriller"])),
    ("winners of the toronto international film festival", expect()),
    ("Foreign Correspondent", expect()),
    ("a documentary about foreign films", expect(genres=["Documentary"])),
    ("Not the French Connection", expect()),
)


@pytest.mark.parametrize(("text", "expected"), NOT_EXCLUDED_LANGUAGE_CASES)
def test_not_excluded_languages(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


def test_excluded_language_spans() -> None:
    text = "a thriller, but not in Spanish"
    result = parse(text)
    span = next(s for s in result.spans if s.kind == "exclude_language")
    assert (span.value, span.text) == ("es", "not in Spanish")
    assert result.remainder(text) == ""
    # Overruled by the language asked for: recognised, but it sets nothing.
    result = parse("a foreign film, but in English")
    kinds = {(s.kind, s.value) for s in result.spans}
    assert ("ignored", "overruled:en") in kinds and ("language", "en") in kinds
    assert not any(s.kind == "exclude_language" for s in result.spans)


# --- runtime --------------------------------------------------------------------------------

RUNTIME_CASES = cases(
    ("under 2 hours", expect(runtime_max=120)),
    ("under two hours", expect(runtime_max=120)),
    ("less than 90 minutes", expect(runtime_max=90)),
    ("shorter than 1h30", expect(runtime_max=90)),
    ("shorter than 1h 30m", expect(runtime_max=90)),
    ("no more than 100 minutes", expect(runtime_max=100)),
    ("not longer than 2h", expect(runtime_max=120)),
    ("2 hours max", expect(runtime_max=120)),
    ("90 mins or less", expect(runtime_max=90)),
    ("an hour and a half or less", expect(runtime_max=90)),
    ("under 2.5 hours", expect(runtime_max=150)),
    ("less than two and a half hours long", expect(runtime_max=150)),
    ("over 2 hours", expect(runtime_min=120)),
    ("longer than 150 min", expect(runtime_min=150)),
    ("at least 2 hours", expect(runtime_min=120)),
    ("2+ hours", expect(runtime_min=120)),
    ("3 hours or more", expect(runtime_min=180)),
    ("between 90 and 120 minutes", expect(runtime_min=90, runtime_max=120)),
    ("90-120 minutes", expect(runtime_min=90, runtime_max=120)),
    ("1.5 to 2 hours", expect(runtime_min=90, runtime_max=120)),
    ("at least 90 minutes but no more than 2 hours", expect(runtime_min=90, runtime_max=120)),
    ("runtime under 100", expect(runtime_max=100)),
    ("an hour and a half tops", expect(runtime_max=90)),
    ("2 hrs max", expect(runtime_max=120)),
    ("two and a half hours max", expect(runtime_max=150)),
    ("1.5 hours max", expect(runtime_max=90)),
    ("1h30 max", expect(runtime_max=90)),
    # The time the user has is a maximum; "about"/"around" N there is N.
    ("i only have about 2 hours", expect(runtime_max=120)),
    ("we have 90 minutes", expect(runtime_max=90)),
    ("got about an hour and a half", expect(runtime_max=90)),
    ("Got about an hour and a half, any comedies?", expect(genres=["Comedy"], runtime_max=90)),
    ("I've got 2 hours tonight", expect(runtime_max=120)),
    ("I\u2019ve got 2 hours tonight", expect(runtime_max=120)),
    ("we've only got 1.5 hours", expect(runtime_max=90)),
    ("we only have an hour and a half", expect(runtime_max=90)),
    ("We Only Have An Hour And A Half", expect(runtime_max=90)),
    ("have around 100 mins", expect(runtime_max=100)),
    ("I have like two and a half hours", expect(runtime_max=150)),
    ("I have 1h30", expect(runtime_max=90)),
    ("i have 2 hrs or so", expect(runtime_max=120)),
    ("I have 2 hours of free time", expect(runtime_max=120)),
    ("we have 2 hours to kill", expect(runtime_max=120)),
    ("I have 2 hours at most", expect(runtime_max=120)),
    ("we have under 90 minutes", expect(runtime_max=90)),
    ("only 2 hours to spare", expect(runtime_max=120)),
    ("just 90 minutes free tonight", expect(runtime_max=90)),
    ("I have time for something around 90 minutes", expect(runtime_max=90)),
    ("I have time for a 90 minute movie", expect(runtime_max=90)),
    ("need it done in 2 hours", expect(runtime_max=120)),
    ("has to be finished within 2 hours", expect(runtime_max=120)),
    ("I have 2 hours, but over 90 minutes please", expect(runtime_min=90, runtime_max=120)),
    (
        "I have about 90 min for a French comedy",
        expect(genres=["Comedy"], language="fr", runtime_max=90),
    ),
    # More time than a bound, or a negated one, is no bound.
    ("I have more than 3 hours", expect()),
    ("we have at least 2 hours", expect()),
    ("it doesn't need to be done in 2 hours", expect()),
    ("doesn't have to be over in 90 minutes", expect()),
    # Vague or unsure: left out.
    ("around 90 minutes", expect()),
    ("about 2 hours", expect()),
    ("a film about 2 hours long", expect()),
    ("around 2 hours long", expect()),
    ("a 2 hour movie", expect()),
    ("short", expect()),
    ("a short film", expect()),
    ("not too long", expect()),
    ("over 2 hours but under 90 minutes", expect()),
    ("doesn't have to be under 2 hours", expect()),
)


@pytest.mark.parametrize(("text", "expected"), RUNTIME_CASES)
def test_runtime(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


# Durations that are no runtime bound: the plot's time, time spent otherwise, titles.
NOT_RUNTIME_CASES = cases(
    ("a movie that takes place over 24 hours", expect()),
    ("a movie that takes place over 2 hours", expect()),
    ("a film set in 24 hours", expect()),
    ("a thriller that happens within 2 hours", expect(genres=["Thriller"])),
    ("we have 2 kids", expect()),
    ("a 3 hour epic", expect()),
    ("127 Hours", expect()),
    ("something like 127 Hours", expect()),
    ("I have been waiting 2 hours", expect()),
    ("they have 2 hours to stop the bomb", expect()),
    ("a heist where the crew meet and have 2 hours to escape", expect(genres=["Crime"])),
    ("my kids have 2 hours of screen time", expect()),
    ("i watched 2 hours of it", expect()),
)


@pytest.mark.parametrize(("text", "expected"), NOT_RUNTIME_CASES)
def test_not_runtime(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


@pytest.mark.parametrize(
    ("text", "remainder"),
    [
        ("I only have about 2 hours, something about grief", "about grief"),
        ("I've got 90 minutes tonight. A heist movie?", ""),
        ("need it done in 2 hours, like Knives Out", "like Knives Out"),
        ("only 2 hours to spare for a film about dogs", "about dogs"),
        ("a movie that takes place over 24 hours", "takes place over 24 hours"),
    ],
)
def test_time_available_wording_leaves_the_remainder(text: str, remainder: str) -> None:
    result = parse(text)
    assert any(s.kind == "runtime" for s in result.spans) == (result.runtime_max is not None)
    assert result.remainder(text) == remainder


# --- rating ---------------------------------------------------------------------------------

RATING_CASES = cases(
    ("highly rated", expect(min_rating=HI)),
    ("highly-rated", expect(min_rating=HI)),
    ("well reviewed", expect(min_rating=HI)),
    ("critically acclaimed", expect(min_rating=HI)),
    ("top rated", expect(min_rating=HI)),
    ("top-rated", expect(min_rating=HI)),
    ("the best", expect(min_rating=HI)),
    ("award-winning", expect(min_rating=HI)),
    ("rated above 8", expect(min_rating=8.0)),
    ("rating of at least 7.5", expect(min_rating=7.5)),
    ("at least 7.5", expect(min_rating=7.5)),
    ("8/10", expect(min_rating=8.0)),
    ("7.5/10 or higher", expect(min_rating=7.5)),
    ("4/5", expect(min_rating=8.0)),
    ("at least 4 stars", expect(min_rating=8.0)),
    ("4+ stars", expect(min_rating=8.0)),
    ("7+ on imdb", expect(min_rating=7.0)),
    ("imdb 7+", expect(min_rating=7.0)),
    ("imdb rating above 6.5", expect(min_rating=6.5)),
    ("above 80% on rotten tomatoes", expect(min_rating=8.0)),
    ("highly rated, above 8", expect(min_rating=HI)),  # "above 8" alone names no scale
    ("highly rated, rated 8 or higher", expect(min_rating=8.0)),
    # Not a rating.
    ("rated R", expect()),
    ("PG-13", expect()),
    ("underrated", expect()),
    ("overrated", expect()),
    ("my best friend's wedding", expect()),
    ("at best mediocre", expect()),
    ("doesn't need to be highly rated", expect()),
    ("not necessarily the best", expect()),
    ("above 7", expect()),
    ("top 10", expect()),
    ("rated 18+", expect()),
)


@pytest.mark.parametrize(("text", "expected"), RATING_CASES)
def test_rating(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


# --- whole requests -------------------------------------------------------------------------

COMBINED_CASES = cases(
    (
        "Recommend some French horror movies from the 80s please",
        expect(genres=["Horror"], language="fr", year_min=1980, year_max=1989),
    ),
    (
        "funny movies from the 80s",
        expect(genres=["Comedy"], year_min=1980, year_max=1989),
    ),
    (
        "no horror please, something romantic",
        expect(genres=["Romance"], exclude_genres=["Horror"]),
    ),
    (
        "Bollywood romcom after 2010",
        expect(genres=["Romance", "Comedy"], language="hi", year_min=2011),
    ),
    (
        "rated above 8 thrillers between 1995 and 2005",
        expect(genres=["Thriller"], year_min=1995, year_max=2005, min_rating=8.0),
    ),
    (
        "mid-90s crime movies 2 hours or less",
        expect(genres=["Crime"], year_min=1993, year_max=1997, runtime_max=120),
    ),
    (
        "Suggest a romantic comedy for date night, under 2 hours pls",
        expect(genres=["Romance", "Comedy"], runtime_max=120),
    ),
    (
        "Korean movies from the last 10 years, no horror",
        expect(exclude_genres=["Horror"], language="ko", year_min=2015),
    ),
    (
        "THE BEST 90S COMEDIES",
        expect(genres=["Comedy"], year_min=1990, year_max=1999, min_rating=HI),
    ),
    (
        "Classic Hollywood musicals from the 50s",
        expect(genres=["Music"], language="en", year_min=1950, year_max=1959),
    ),
    (
        "a scary but not gory horror film from the 2010s",
        expect(genres=["Horror"], year_min=2010, year_max=2019),
    ),
    (
        "Looking for a feel-good comedy from the 90s, nothing too long",
        expect(genres=["Comedy"], year_min=1990, year_max=1999),
    ),
    (
        "a war movie, not Star Wars",
        expect(genres=["War"]),
    ),
    (
        "something like The Dark Knight but less violent",
        expect(),
    ),
    (
        "Show me Japanese animated movies with English subtitles, at least 7.5",
        expect(genres=["Animation"], language="ja", min_rating=7.5),
    ),
    (
        "I want a good movie",
        expect(),
    ),
)


@pytest.mark.parametrize(("text", "expected"), COMBINED_CASES)
def test_whole_requests(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


# --- spans, remainder, is_empty --------------------------------------------------------------


def test_spans_point_into_the_original_text() -> None:
    text = "Korean thriller from 1995\u20132005, no horror"
    result = parse(text)
    kinds = {(s.kind, s.value) for s in result.spans}
    assert ("language", "ko") in kinds
    assert ("genre", "Thriller") in kinds
    assert ("year", "1995-2005") in kinds
    assert ("exclude_genre", "Horror") in kinds
    for span in result.spans:
        assert isinstance(span, Span)
        assert 0 <= span.start < span.end <= len(text)
    year = next(s for s in result.spans if s.kind == "year")
    assert text[year.start : year.end] == "from 1995\u20132005"
    assert list(result.spans) == sorted(result.spans, key=lambda s: (s.start, s.end))


def test_ignored_spans_mark_recognised_wording_that_sets_nothing() -> None:
    result = parse("Korean thriller with English subtitles, not too scary")
    ignored = [s.value for s in result.spans if s.kind == "ignored"]
    assert "subtitles:en" in ignored
    assert any(v.startswith("softened:") for v in ignored)
    assert not result.is_empty


@pytest.mark.parametrize(
    ("text", "remainder"),
    [
        ("Recommend some French horror movies from the 80s please", ""),
        ("A funny movie about a dog who becomes mayor", "about a dog who becomes mayor"),
        ("something like Star Wars but funnier", "like Star Wars"),
        ("Korean thriller with English subtitles about revenge", "about revenge"),
        ("I want a heist movie like Ocean's 11, no horror or gore", "like Ocean's 11"),
        ("a thriller, no horror or gore please", ""),
        ("Show me the best 80s action movies with Arnold", "Arnold"),
        ("movies about grief, under 2 hours", "about grief"),
        ("The Italian Job remake", "The Italian Job remake"),
        ("a cozy mystery set in a small village", "a cozy set in a small village"),
        ("  pls   suggest   sci-fi  ", ""),
    ],
)
def test_remainder(text: str, remainder: str) -> None:
    assert parse(text).remainder(text) == remainder


def test_is_empty() -> None:
    assert parse("").is_empty
    assert parse("something good to watch tonight").is_empty
    assert parse("with English subtitles").is_empty
    assert not parse("no horror").is_empty
    assert not parse("not in Spanish").is_empty
    assert not parse("under 2 hours").is_empty
    assert not parse("highly rated").is_empty


def test_constraints_are_frozen_and_hashable() -> None:
    result = parse("French horror from the 80s")
    with pytest.raises(AttributeError):
        result.language = "de"  # type: ignore[misc]
    assert hash(result) == hash(parse("French horror from the 80s"))


def test_case_punctuation_and_unicode_tolerance() -> None:
    expected = expect(genres=["Science Fiction"], year_min=1990, year_max=1999)
    for text in ("SCI-FI FROM THE 90S", "sci\u2011fi from the \u201990s!!", "Sci-Fi, 1990s."):
        assert parse(text).as_dict() == expected, text


def test_default_today_year_is_this_year() -> None:
    assert parse_constraints("movies from this year").year_min is not None


# --- speed ----------------------------------------------------------------------------------

SPEED_TEXTS = [
    "Recommend some French horror movies from the 80s please, nothing too long",
    "a funny movie about a dog who becomes mayor",
    "no horror or romance, something like Star Wars but funnier under 2 hours",
    "Korean thriller with English subtitles from 2019, highly rated",
    "I'm in the mood for a cozy mystery set in a small English village",
]


def test_speed_of_a_thousand_requests(capsys: pytest.CaptureFixture[str]) -> None:
    texts = (SPEED_TEXTS * 200)[:1000]
    start = time.perf_counter()
    for text in texts:
        parse(text)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nmovie_constraints: parsed {len(texts)} requests in {elapsed:.3f} s")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("a german war movie", "de"),
        ("russian war films please", "ru"),
        ("a french war drama", "fr"),
        ("korean war movies", None),  # the Korean War, a subject
        ("a film about the korean war", None),
        ("movies set during the spanish civil war", None),
    ],
)
def test_nationality_before_war_movie_is_the_films_language(
    text: str, language: str | None
) -> None:
    assert parse_constraints(text).language == language
