"""Title linking: find the catalog films a chat message mentions, each with a confidence.

Finding mentions. Titles and messages are folded to the same words by
`movie_constraints.titles.title_words` (case, accents, apostrophes, "&" → "and", number words
and Roman numerals → digits). At build time each title and original title gives variants: the
full title; without a leading article ("Matrix"); without "Part"/"Chapter" before a number
("godfather 2"); its words run together ("spiderman", "walle"). They fill an exact index, a
series index of leading words ("harry potter", "lord of the rings": two words or more, or the
part before a colon), a lead-word index (one long rare first word: "shawshank") and a vocabulary
bucketed by length. A message's n-grams are looked up there, an n-gram growing only while it is
still the start of some variant, so the cost follows the message, not the catalog. A word the
vocabulary and the English lists below do not know (a typo: "Inceptoin", "godfater") gets up to
three corrections from rapidfuzz (optimal string alignment, one edit up to six letters, two
beyond; ties to the word of the better-known film), tried in the n-grams in its place.

How sure: confidence = quality × min(1, specificity + evidence), threshold
DEFAULT_MIN_CONFIDENCE = 0.5.

- Quality: 1 full title; 0.95 article dropped, "Part" dropped, or words run together; 0.7 a
  series name (0.8 if one title starts so); 0.5 a lead word (0.55 if unique); × 0.88 for a
  one-edit correction (0.75 two edits); × 0.85 when a year beside it matches none of the films;
  × 0.8 when a number follows that the title lacks ("Rocky 2" with only "Rocky").
- Specificity, how unlikely the words are in an ordinary request: 1 − Π(1 − weight), a word
  weighing 0 if a function word or single letter ("up", "it", "her", "us"), 0.05 if request
  vocabulary ("love", "time", "heist", "comedy", "tonight"), 0.15 a number, 0.2 a common word
  or subject ("heat", "drive", "assassin", "airport"), 0.4 an unlisted word shaped like English
  ("twisted", "breathless"), 0.45 an unlisted word of three letters, else 0.9 ("inception",
  "oldboy"). A title of several words adds 0.06 per further word (0.03 for function words)
  and 0.08 × fame (votes or popularity on a log scale): a long or famous title is rarely said by
  chance. A single word next to a rare or Capitalised word is likely part of a name ("Keanu
  Reeves") and counts half; a corrected single word counts at most 0.3.
- Evidence: the message is just the title (give or take "the", "movie", a year) +0.6 (+0.3 for
  request vocabulary, 0 for greetings); quoted +0.6; Capitalised in an otherwise lower-case
  message, not as a sentence's first word, +0.4; after a cue +0.45 ("like" but not "I'd like",
  "similar to", "more like", "as good as", "who directed", "who is in", "the movie", "watched",
  "loved", "seen"...) or a weak cue +0.3 ("watch", "see"), either at 60% when the title runs on
  into more words ("like time travel movies") or is only request vocabulary; a year beside it
  matching the film ±1 +0.45; joined by "and", "or" or a comma to an accepted mention +0.35.

So a rare title ("Inception", "Parasite") links anywhere; a famous title of common words ("star
wars", "good will hunting") links in plain text; a common word ("Heat", "Drive") needs one piece
of evidence; request vocabulary ("Love", "Time") needs a cue and a capital, or quotes; a
function word ("Up", "It") is linked as the whole message, or Capitalised or quoted after a cue.

Which film: the candidates of a span are ranked by a year beside it matching, then quality +
fame, so an obscure exact title loses to the famous film a series name means ("lord of the
rings"), while "star wars" stays Star Wars (1977). Spans are taken greedily by confidence plus
0.1 per extra word (the longer reading wins: "the dark knight rises", not "the dark knight"),
without overlaps, one link per film.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from movie_constraints.titles import title_words
from recommender.catalog_cache import CatalogDerived

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "MessageWord",
    "TitleLink",
    "TitleLinker",
    "TitleRecord",
    "catalog_title_linker",
    "clear_catalog_title_linker",
    "message_words",
    "word_weight",
]

DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class TitleRecord:
    tmdb_id: int
    title: str
    original_title: str
    year: int | None
    popularity: float | None
    vote_count: int | None


@dataclass(frozen=True)
class TitleLink:
    tmdb_id: int
    title: str
    year: int | None
    mention: str
    start: int
    end: int
    confidence: float


# --- Word classes ----------------------------------------------------------------------------
# A compact stand-in for a word-frequency list: what matters is whether a word turns up in
# ordinary requests, not its exact rank. Everything not listed counts as rare.

_FUNCTION_WORDS = """
a an the and or but nor of to in on at by for with from into onto upon about as than then so
if is are was were be been being am do does did doing done have has had having will would shall
should can could may might must i me my mine myself you your yours yourself he him his she her
hers it its itself we us our ours they them their theirs this that these those there here what
which who whom whose when where why how all any some no not none each every other another such
only own same just also very too more most much many few less least up down out off over under
again once away still yet now ever never always something anything nothing everything
someone anyone somebody anybody everyone everybody nobody one get gets got getting go goes going
gone went let lets im id ive ill youre youve youd hes shes theyre weve dont doesnt didnt cant
cannot wont wouldnt shouldnt couldnt isnt arent wasnt werent havent hasnt whats thats theres
heres whos ok okay yes yeah yep nope hi hello hey thanks thank please sure bye oh well really
maybe like want wanted wants need needs know knew think make makes made take takes took see saw
seen look looks looking give gave tell told show find say said says put come comes came before
after while because though although both either neither between through during without within
against among around until since ago else even enough quite rather pretty actually kind sort
lot lots bit way thing things stuff ran run done doing try tried use used via per vs
"""

_CHAT_WORDS = """
hi hello hey thanks thank thx ty yes yeah yep no nope ok okay sure bye please help more again
cool nice great wow lol hmm what why how who hiya yo sup morning evening
"""

# Words a movie request is made of: genres, moods, audiences, eras, themes, occasions.
_REQUEST_WORDS = """
movie movies film films flick flicks cinema show shows series episode episodes season watch
watching watched rewatch recommend recommendation recommendations suggest suggestion suggestions
genre genres good better best great bad worse worst new newer newest old older classic classics
recent latest modern top popular famous underrated overrated favorite favourite favorites
favourites funny funnier funniest fun hilarious comedy comedies comedic scary scarier scariest
creepy spooky terrifying sad sadder happy dark darker light lighthearted romantic romance
romances love horror thriller thrillers mystery mysteries crime crimes adventure adventures
animation animated cartoon cartoons anime documentary documentaries doc docs fantasy sci fi
scifi science fiction western westerns musical musicals war wars history historical period
biopic biography family families kids kid children child teen teens teenage adult adults
mature short shorter long longer slow fast quick feel feels feeling vibe vibes mood moods
tonight today tomorrow night nights weekend evening date time times travel space heist heists
zombie zombies vampire vampires monster monsters ghost ghosts alien aliens robot robots
superhero superheroes hero heroes villain villains spy spies detective detectives cop cops
police murder murders killer killers serial gangster gangsters mafia mob prison school high
college sport sports football soccer baseball basketball boxing music dance dancing christmas
halloween holiday holidays summer winter spring autumn fall french english spanish italian
german japanese korean chinese indian british american european asian african foreign
subtitles subtitled dubbed language languages 80s 90s 70s 60s 50s 2000s 2010s decade decades
century year years era oscar oscars award awards winning director directors actor actors
actress actresses cast plot story stories ending endings twist twists character characters true
real based book books novel novels comic comics life death world man men woman women girl girls
boy boys guy guys people friend friends friendship cry crying laugh laughing tears heart
feelgood heartwarming wholesome uplifting inspiring inspirational intense violent gory gore
nudity clean friendly similar different easy cozy chill relaxing epic big little small
minutes minute hour hours runtime length rated rating ratings rate imdb netflix stream
streaming platform subtitles action drama dramas indie arthouse noir neo cult slasher
psychological supernatural dystopian apocalyptic disaster survival martial arts art
coming age satire parody mockumentary sequel sequels prequel remake remakes trilogy franchise
something else other tonight cinematography soundtrack visuals effects cgi budget blockbuster
blockbusters hit hits flop picks pick options option ideas idea list
"""

_COMMON_WORDS = """
about above across act age ago agree air alive allow almost alone along already angry animal
animals answer apartment appear area arm army around arrive ask attack aunt baby bag ball band
bank bar base bath battle beach bear beat beautiful beauty become bed begin beginning behind
believe bell belong below beside best bet beyond bird birds birth black blind block blood blow
blue board boat body bomb bone born boss bottle bottom box brain brave bread break breakfast
bride bridge bright bring broken brother brothers brown build building burn burning bus business
buy call called calm camera camp car card care careful cars case castle cat cats catch cause
center centre chance change chase cheap check chicken chief choice choose church circle city
class clear climb clock close closer cloud club coast coffee cold color colour company control
cook cool corner count country couple course cousin crazy cross crowd crown cup cut daddy
damage danger dangerous daughter day days dead deal dear death deep desert desire devil diary
die died dinner dirty doctor dog dogs door double dragon draw dream dreams dress drink drive
driver drop drug drugs dry duck dust early earth east eat edge egg empire empty end enemy energy
enter escape evil exit eye eyes face fact fair faith fake fall fallen false fame far farm fast
fat father fear feast feet field fight fighter fighting fill final fine finger fire first fish
fix flag flight floor flower flowers fly follow food fool foot force forest forever forget
forgotten forward free freedom fresh friday front frozen full future game games garden gate
ghost gift glass go god gods gold golden gone green ground group grow gun guns hair half hall
hand hands hang hard hate head hear heat heaven heavy hell help hidden hide hill hills hit
hold hole home honey hope horse hospital hot hotel house human hunt hunter hunting hurt husband
ice idea inside iron island job join journey judge jump jungle justice keep key kill killing
king kingdom kiss kitchen knife lady lake land large last late law lead learn leave left leg
legend letter liar lie lies lift light line lion lions listen live lives living lock lonely
lord lose lost loud lovely low luck lucky machine mad magic mail main major mark market marriage
married master match matter mean memory message middle midnight mind minute miss mission moment
money monday month moon morning mother mountain mouse mouth move mr mrs ms murder name narrow
nature near neighbor neighbour never news next nice nine noise normal north nose note number
ocean office officer open order outside pain paint paper parent parents park part party pass
past path pay peace perfect person phone picture piece pig place plan plane planet play player
point poison poor power present president pretty price prince princess prison private problem
promise proof public pull push queen question quiet race rain raise ready reason red remember
rest return rich ride right ring rise risk river road rock room rose round rule rules run
running safe sail salt sand save scene sea second secret secrets see sell send sense seven
shadow shadows shape share sharp ship shoot shop short shot side sign silence silent silver
simple sing single sister sisters sit six size skin sky sleep smile smoke snake snow soft
soldier soldiers son song songs sorry soul sound south speak special speed spirit split square
stand star stars start state station stay steal step stick stone stop storm strange stranger
street strong student study sun sunday sunshine sweet swim table tail talk tall taste teacher
team tear test theory thief third thousand throw tiger tiny tired today together tomorrow top
touch tough tower town toy toys track trade train trap treasure tree trees trip trouble truck
trust truth turn twelve twin twins two type uncle under understand until upon valley victory
voice vote wait wake walk wall want war warm warning wash watch water wave weak wealth weapon
wear weather wedding week welcome west wet wheel white whole wide wife wild wind window wine
wing wings winner wise wish witch wolf wolves woman wonder wood woods word words work worker
world worry write wrong yard yellow young youth zero dinosaur dinosaurs shark sharks whale
ocean oceans sea island islands jungle desert mountains snow space planet planets stars
future past present mother father son daughter brother sister wife husband baby babies
teacher doctor nurse lawyer soldier pilot chef cook artist writer painter singer dancer
cowboy cowboys pirates knights ninjas witch witches wizards
dragon dragons elf elves fairy fairies mermaid mermaids princess prince queen king emperor
god gods angel angels demon demons devil hell heaven paradise beast beasts creature creatures
horse horses dog dogs cat cats bird birds bear bears spider spiders snake snakes insect
wolf lion tiger monkey ape apes rat rats mouse mice pig chicken cow fish penguin penguins
car cars truck trucks train trains plane planes ship ships boat boats submarine rocket bike
gun guns sword swords bomb bombs money gold diamond diamonds treasure jewel
bank casino hotel restaurant prison jail hospital school church castle palace house home
city cities town village country farm forest woods lake river beach sea island road street
new york paris london tokyo rome berlin america england france japan korea china india
italy spain germany russia mexico texas california africa europe asia australia
dinner lunch breakfast food cooking wine beer coffee tea pizza chocolate cake candy
marriage wedding divorce affair revenge betrayal redemption survival escape rescue mission
quest journey road trip adventure chase race game games puzzle riddle secret conspiracy
politics political election president government war peace revolution rebellion army
soldiers battle battles fight fighting fights boxing wrestling racing surfing skating
nature environment climate weather storm rain fire flood earthquake volcano tornado
sun moon stars sky cloud clouds light darkness shadow night day morning midnight dawn dusk
memory memories dream dreams nightmare nightmares mind brain soul spirit ghost heart
loss grief hope faith fear anger joy friendship loneliness identity family childhood
growing old young older younger adult teenager teenagers student students class
crazy weird strange bizarre surreal quirky clever smart stupid silly dumb goofy witty
beautiful stunning gorgeous ugly slow slower gritty raw realistic grim bleak gloomy
happy ending endings cheerful bright colorful colourful calm quiet loud noisy
"""

# Subjects, people, places and moods a request describes ("a movie about an assassin", "set in an
# airport", "something twisted"); many are also single-word titles.
_TOPIC_WORDS = """
abduction accountant accused adaptation addicted addiction adoption adrift aftermath airport
alligator amateur ambulance amnesia amusement anaconda anatomy anonymous apocalypse arctic arena
armageddon arrival artist assassin assassins assignment assistant asylum attraction audition
awake awakening babysitter babysitting bachelor bachelorette ballerina balloon banana bandit
bandits banker barbecue barber barbershop basic battery beaches bean beats beaver believer
betrayal blackout blade blame blended blindness bliss blitz bloody bodyguard bomber bombshell
boogeyman bookshop border bounce bouncer bounty boxer brats breakdown breakthrough breathe
breathless breed brick bridesmaids bronze brutal bubble buried bully burlesque burnt butler
butter cabin cameraman campaign camping cannibal cannibals captain captive captivity cargo
carnage carnival cave celebration celebrity cell chained chamber champion champions chaos
charming chaser cherry chips choke chorus chronicle circus clan cleaner click client climax
clinical closet clown clowns clue clueless cocktail cocoon collateral collection collector
colony colors coma comet commando concert contact contagion contempt contract contractor
conversation conviction copycat core corruption countdown courier cousins coven crash crawl
creed creep crew criminal criminals crisis crossroads crow crush cube cult cure cursed curse
curve custody cyborg cyborgs daylight debt deception decline delicacy demolition demonic
denial dentist departed departures descent destroyer detention detour devils dictator diner
dirt disaster disasters discovery disturbing divide dolls doom doomsday doorman doors dope
doubt downfall drone drones dude duel eagle education elephant elephants encounter endless
enigma entity envy equalizer escort everest evidence evolution exam exorcism exorcist
experiment explorers express extinction extraction factory faculty fallout farewell fatal
faster fearless feather fences firefighters fireworks firm flashback flawless flipped float
focus following foreigner forger forsaken fortress founder fracture fragile frantic freaks
freaky frenzy frequency freshman fugitive fugitives funhouse fury gambler gambling gamer
general genius gentlemen getaway giant giants gifted glory goal goat grandma grandmother
grandpa gravity greedy grudge guard guardian guardians guest guilty gunman hacker hackers
hacking hangman hangover happiness hardware hater haunt haunted haunting havoc healer
heartbreak heartbreaker hitman holes honeymoon hook horde horns hostage hostages hostile host
hunger hunted hunters hurricane hustle hustler hypnotic hysteria idiots immigrant immigrants
immortal immortals impossible impostor incognito inferno influence informant inheritance
injustice insider insomnia instinct insult intern internship interpreter interview intimacy
intruder intruders invasion invincible invisible invitation jackal jacket jigsaw jobs joker
juice junior juror kidnap kidnapping kingpin knock lamb lawless ledge legion leopard lifeboat
lifeguard lighthouse limitless lobster lockout lodge loser losers lover lovers loving
machinist madness mama maniac mansion marine mask mayhem mechanic mercy messenger miracle
miracles mirror mirrors misery misfits missing mist monolith mortal motive mule mummy muse mute
myth naked nerve nest network nightmare nightmares nostalgia notebook notorious oblivion
obsessed obsession odyssey omen opera orphan orphans orphanage outbreak outcast outlaw outlaws
outsider outsiders overnight oxygen package pact pandemic panic paranoia passenger passengers
passion pianist piano pilot pirate poetry polar possession possessed predator predators prey
priest prisoner prisoners prodigy professional professor prom prophecy prophet proposal
protector psycho pulse punisher purge quarantine rage raid ransom reality realm rebels recruit
relic rent resistance respect retreat riot ritual robbery rogue rookie roommate ruins rush
ruthless sabotage sacrifice sadness saint salesman salvation savages scarecrow scream
screamers secretary security serenity servant shame shelter shine shining shooter siege signal
signs sinister siren sleepover sniper snowman society solo sorcerer species spell sphere
spotlight stalker stepfather stepmom stolen strangers stripes stronger submarine substitute
suburbia subway super superstar surveillance survivor survivors suspicion swarm sweetheart
switch tale taken teeth tenant terminal terrified thieves thirst tourist tourists tournament
traffic traitor trapped trash trial triangle tribe tunnel turbo twisted twister ultraviolet
underdog underdogs underground underwater underworld unknown unstoppable upgrade vacation
valentine vanishing vault vengeance venom verdict vigilante vikings villain virus visions visit
visitor visitors voices void waiting waitress warrior warriors watcher widow widows wilderness
wildlife witness wonderland worth wrestler yesterday back female male random rainy sunny
randomly weekday samurai wizard ninja mindbending
mind-bending slowburn twisty wholesome quirky offbeat bizarre trippy stylish atmospheric
"""

_BOUNDARY_WORDS = """
but and or with which that who is was were because so please too again though although than
for by from where when while if whatever maybe also instead rather lol except plus im its
"""

_CUE_PHRASES = {
    # phrase: evidence
    "like": 0.45,
    "similar to": 0.45,
    "more like": 0.45,
    "as good as": 0.45,
    "better than": 0.45,
    "worse than": 0.45,
    "compared to": 0.45,
    "directed": 0.45,
    "who directed": 0.45,
    "who is in": 0.45,
    "whos in": 0.45,
    "who was in": 0.45,
    "who stars in": 0.45,
    "cast of": 0.45,
    "director of": 0.45,
    "plot of": 0.45,
    "ending of": 0.45,
    "soundtrack of": 0.45,
    "sequel to": 0.45,
    "prequel to": 0.45,
    "remake of": 0.45,
    "fan of": 0.45,
    "fans of": 0.45,
    "about the movie": 0.45,
    "about the film": 0.45,
    "the movie": 0.45,
    "the film": 0.45,
    "tell me about": 0.45,
    "what about": 0.45,
    "how about": 0.45,
    "watched": 0.45,
    "rewatched": 0.45,
    "loved": 0.45,
    "liked": 0.45,
    "enjoyed": 0.45,
    "seen": 0.45,
    "saw": 0.45,
    "watch": 0.3,
    "rewatch": 0.3,
    "see": 0.3,
}
# "like" after these is the verb ("I'd like a comedy"), not the comparison.
_LIKE_VERB_SUBJECTS = """
i id we you they would do dont really also might wed youd theyd should feel feels felt
"""
# Words that may surround a title in a message that is "just the title".
_FILLER_WORDS = {"the", "movie", "film", "please"}
_ARTICLES = {"the", "a", "an"}
_NUMBERING_WORDS = {"part", "chapter", "vol", "volume", "episode"}


def _folded(words: str) -> frozenset[str]:
    return frozenset(w for word in words.split() for w in title_words(word))


_FUNCTION = _folded(_FUNCTION_WORDS)
_CHAT = _folded(_CHAT_WORDS)
_REQUEST = _folded(_REQUEST_WORDS) - _FUNCTION
_COMMON = (_folded(_COMMON_WORDS) | _folded(_TOPIC_WORDS)) - _FUNCTION - _REQUEST
_BOUNDARY = _folded(_BOUNDARY_WORDS)
_LIKE_SUBJECTS = _folded(_LIKE_VERB_SUBJECTS)
_CUES = {tuple(title_words(phrase)): weight for phrase, weight in _CUE_PHRASES.items()}
_MAX_CUE_WORDS = max(len(cue) for cue in _CUES)
_ENGLISH = _FUNCTION | _REQUEST | _COMMON

_EVIDENCE_WHOLE = 0.6
_EVIDENCE_WHOLE_REQUEST_WORD = 0.3
_EVIDENCE_QUOTED = 0.6
_EVIDENCE_CAPITALISED = 0.4
_EVIDENCE_YEAR = 0.45
_EVIDENCE_LIST = 0.35
_CUE_WEAKENED = 0.6

_QUALITY_EXACT = 1.0
_QUALITY_VARIANT = 0.95
_QUALITY_SERIES = 0.7
_QUALITY_UNIQUE_PREFIX = 0.8
_QUALITY_LEAD = 0.5
_QUALITY_UNIQUE_LEAD = 0.55
_QUALITY_YEAR_MISMATCH = 0.85
_QUALITY_OTHER_NUMBER = 0.8
_QUALITY_PER_EDIT = {0: 1.0, 1: 0.88, 2: 0.75}
_MAX_EDITS_PER_SPAN = 2
_FUZZY_SINGLE_WORD_SPECIFICITY = 0.3

_ENGLISH_SUFFIX = re.compile(r"..(?:ed|ing|ly|ness|less|ful|ous|ive|able|ible)$")
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+(?:['’`](?:[^\W_]|[\u0300-\u036f])+)*|&")
_QUOTES = "\"'“”‘’«»`"
_SENTENCE_END = re.compile(r"[.!?;:\n]")
_HARD_BREAK = re.compile(r"[,.!?;:()\[\]\"“”«»\n]")
_YEAR_GAP = re.compile(r"^[\s(\[,\-–]*$")


@lru_cache(maxsize=65536)
def word_weight(word: str) -> float:
    if len(word) <= 1 or word in _FUNCTION:
        return 0.0
    if word.isdigit():
        return 0.15
    singular = word[:-1] if word.endswith("s") and len(word) > 3 else word
    if word in _REQUEST or singular in _REQUEST:
        return 0.05
    if word in _COMMON or singular in _COMMON or word.removesuffix("es") in _COMMON:
        return 0.2
    if len(word) <= 3:
        return 0.45
    # An unlisted word built like ordinary English ("tangled", "breathless", "flawlessly") is
    # still likely to be a plain word in a request.
    return 0.4 if _ENGLISH_SUFFIX.search(word) else 0.9


def _is_rare(word: str) -> bool:
    return len(word) >= 3 and not word.isdigit() and word_weight(word) >= 0.45


def _fame(record: TitleRecord) -> float:
    """0..1 on a log scale: ~30,000 votes (or a TMDB popularity of ~1,000) is 1."""
    if record.vote_count:
        return min(1.0, math.log10(1 + record.vote_count) / 4.5)
    if record.popularity:
        return min(1.0, math.log10(1 + record.popularity) / 3.0)
    return 0.0


# --- Build-time structures -------------------------------------------------------------------


@dataclass(frozen=True)
class _Variant:
    words: tuple[str, ...]
    quality: float
    # Word counts after which a leading part of the title names a series ("harry potter",
    # "lord of the rings"): two words or more, or the part before a colon.
    series_cut: int | None


def _variants(title: str) -> list[_Variant]:
    words = tuple(title_words(title))
    if not words:
        return []
    main = tuple(title_words(re.split(r":| - ", title, maxsplit=1)[0]))
    cut = len(main) if 0 < len(main) < len(words) else None
    out = [_Variant(words, _QUALITY_EXACT, cut)]
    if len(words) > 1 and words[0] in _ARTICLES:
        out.append(_Variant(words[1:], _QUALITY_VARIANT, cut - 1 if cut and cut > 1 else None))
    numbered = tuple(
        w
        for i, w in enumerate(words)
        if not (w in _NUMBERING_WORDS and i + 1 < len(words) and words[i + 1].isdigit())
    )
    if numbered != words:
        out.append(_Variant(numbered, _QUALITY_VARIANT, None))
        if len(numbered) > 1 and numbered[0] in _ARTICLES:
            out.append(_Variant(numbered[1:], _QUALITY_VARIANT, None))
    # "A Silent Voice: The Movie" is asked for as "A Silent Voice".
    if cut and words[cut:] in {("the", "movie"), ("the", "film")}:
        out.append(_Variant(main, _QUALITY_VARIANT, None))
    return out


@dataclass(frozen=True)
class MessageWord:
    norm: str
    start: int
    end: int
    raw: str
    initial: bool  # first word of a sentence: its capital says nothing


@dataclass
class _Span:
    first: int
    last: int  # inclusive word indexes
    words: tuple[str, ...]  # the title-side words matched
    edits: int
    options: list[tuple[int, float]]  # (record index, quality before edits)


@dataclass(eq=False)
class _Candidate:
    first: int
    last: int
    record: int
    confidence: float
    year_word: int | None
    span: _Span


def message_words(text: str) -> list[MessageWord]:
    words: list[MessageWord] = []
    previous_end = 0
    for match in _WORD.finditer(text):
        raw = match.group()
        gap = text[previous_end : match.start()]
        initial = not words or bool(_SENTENCE_END.search(gap))
        for norm in title_words(raw):
            words.append(MessageWord(norm, match.start(), match.end(), raw, initial))
            initial = False
        previous_end = match.end()
    return words


def _year(word: MessageWord) -> int | None:
    if len(word.norm) == 4 and word.norm.isdigit() and 1870 <= int(word.norm) <= 2100:
        return int(word.norm)
    return None


class TitleLinker:
    """Finds catalog titles in free text. Build once (from_records / from_catalog), link often."""

    def __init__(self, records: Sequence[TitleRecord]) -> None:
        self._records = list(records)
        self._fame = [_fame(r) for r in self._records]
        exact: dict[str, dict[int, float]] = defaultdict(dict)
        compact: dict[str, dict[int, float]] = defaultdict(dict)
        series: dict[str, set[int]] = defaultdict(set)
        leads: dict[str, set[int]] = defaultdict(set)
        continuations: set[str] = set()
        vocabulary: dict[str, float] = {}
        max_words = 1
        for index, record in enumerate(self._records):
            titles = {record.title, record.original_title} - {""}
            for title in titles:
                for variant in _variants(title):
                    words = variant.words
                    quality = variant.quality if title == record.title else variant.quality * 0.97
                    key = " ".join(words)
                    exact[key][index] = max(exact[key].get(index, 0.0), quality)
                    if len(words) > 1:
                        joined = "".join(words)
                        compact[joined][index] = max(
                            compact[joined].get(index, 0.0), quality * _QUALITY_VARIANT
                        )
                    for size in range(1, len(words)):
                        prefix = " ".join(words[:size])
                        continuations.add(prefix)
                        # An article does not count towards the two words of a series name.
                        named = size - (words[0] in _ARTICLES)
                        if named >= 2 or size == variant.series_cut:
                            series[prefix].add(index)
                        elif named == 1 and words[0] not in _ARTICLES:
                            leads[prefix].add(index)
                    for word in words:
                        vocabulary[word] = max(vocabulary.get(word, 0.0), self._fame[index])
                    max_words = max(max_words, len(words))
        self._exact = dict(exact)
        self._compact = dict(compact)
        fame = self._fame
        # The best-known films first; a series name needs no more than a handful of choices.
        self._series = {
            key: (sorted(ids, key=lambda i: -fame[i])[:8], len(ids)) for key, ids in series.items()
        }
        # A first word alone stands for a title only when it is long and rare ("shawshank").
        self._leads = {
            key: (sorted(ids, key=lambda i: -fame[i])[:8], len(ids))
            for key, ids in leads.items()
            if len(key) >= 6 and word_weight(key) >= 0.9
        }
        self._continuations = continuations
        # Each word with the fame of the best-known title using it: ties between corrections
        # go to the word of the better-known film ("hary" → "harry", not "hairy").
        self._vocabulary = vocabulary
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in vocabulary:
            if len(word) >= 4 and word.isalpha():
                by_length[len(word)].append(word)
        self._by_length = dict(by_length)
        self._max_words = max_words
        self._corrections_cache: dict[str, tuple[tuple[str, int], ...]] = {}

    @classmethod
    def from_records(cls, records: Iterable[TitleRecord]) -> TitleLinker:
        seen: dict[int, TitleRecord] = {}
        for record in records:
            seen.setdefault(record.tmdb_id, record)
        return cls(list(seen.values()))

    @classmethod
    def from_catalog(cls) -> TitleLinker:
        from catalog.models import Movie

        rows = (
            Movie.objects.order_by()
            .values_list("tmdb_id", "title", "original_title", "year", "popularity", "vote_count")
            .iterator(chunk_size=5000)
        )
        return cls.from_records(
            TitleRecord(tmdb_id, title or "", original or "", year, popularity, votes)
            for tmdb_id, title, original, year, popularity, votes in rows
        )

    def __len__(self) -> int:
        return len(self._records)

    # --- Matching --------------------------------------------------------------------------

    def _corrections(self, word: str) -> tuple[tuple[str, int], ...]:
        """Vocabulary words one edit (two for long words) from an unknown word."""
        cached = self._corrections_cache.get(word)
        if cached is not None:
            return cached
        found: tuple[tuple[str, int], ...] = ()
        if (
            len(word) >= 4
            and word.isalpha()
            and word not in self._vocabulary
            and word not in _ENGLISH
        ):
            limit = 1 if len(word) <= 6 else 2
            choices = [
                w
                for size in range(len(word) - limit, len(word) + limit + 1)
                for w in self._by_length.get(size, ())
            ]
            hits = process.extract(
                word, choices, scorer=OSA.distance, score_cutoff=limit, limit=None
            )
            ranked = sorted(hits, key=lambda h: (h[1], -self._vocabulary[h[0]]))
            found = tuple(
                (match, int(distance))
                for match, distance, _ in ranked
                # An inflection of a known word is that word, not a typo of a title.
                if not _is_inflection(word, match)
            )[:3]
        if len(self._corrections_cache) > 50_000:
            self._corrections_cache.clear()
        self._corrections_cache[word] = found
        return found

    def _spans(self, words: list[MessageWord]) -> list[_Span]:
        spans: dict[tuple[int, int, tuple[str, ...]], _Span] = {}

        def add(first: int, last: int, key_words: tuple[str, ...], edits: int, options) -> None:
            found = spans.get((first, last, key_words))
            if found is None:
                spans[(first, last, key_words)] = _Span(first, last, key_words, edits, options)
            else:
                found.options.extend(options)

        count = len(words)
        for first in range(count):
            paths: list[tuple[tuple[str, ...], int]] = [((), 0)]
            for last in range(first, min(count, first + self._max_words)):
                options = ((words[last].norm, 0), *self._corrections(words[last].norm))
                extended: list[tuple[tuple[str, ...], int]] = []
                for path, path_edits in paths:
                    for word, edits in options:
                        total = path_edits + edits
                        if total > _MAX_EDITS_PER_SPAN:
                            continue
                        key_words = (*path, word)
                        key = " ".join(key_words)
                        hits = self._exact.get(key)
                        if hits:
                            add(first, last, key_words, total, list(hits.items()))
                        series = self._series.get(key)
                        if series and key_words[-1] not in _FUNCTION:
                            ids, size = series
                            quality = _QUALITY_UNIQUE_PREFIX if size == 1 else _QUALITY_SERIES
                            add(first, last, key_words, total, [(i, quality) for i in ids])
                        elif len(key_words) == 1 and not hits and (lead := self._leads.get(key)):
                            ids, size = lead
                            quality = _QUALITY_UNIQUE_LEAD if size == 1 else _QUALITY_LEAD
                            add(first, last, key_words, total, [(i, quality) for i in ids])
                        if key in self._continuations:
                            extended.append((key_words, total))
                if last - first < 3:
                    key_words = tuple(w.norm for w in words[first : last + 1])
                    hits = self._compact.get("".join(key_words))
                    if hits:
                        add(first, last, key_words, 0, list(hits.items()))
                paths = extended
                if not paths and last - first >= 2:
                    break
        return list(spans.values())

    # --- Confidence ------------------------------------------------------------------------

    def link(
        self,
        text: str,
        *,
        limit: int = 3,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> list[TitleLink]:
        """Films the text mentions, best first, at most `limit`, spans not overlapping."""
        if not text or limit <= 0 or not self._records:
            return []
        words = message_words(text)
        if not words:
            return []
        context = _Context(text, words)
        candidates = [
            c for span in self._spans(words) if (c := self._candidate(span, context)) is not None
        ]
        chosen = _choose(candidates, min_confidence)
        # "I loved Heat and Drive": a mention joined to an accepted one borrows its context.
        for _ in range(2):
            joined = []
            taken = {id(c) for c in chosen}
            for candidate in candidates:
                if id(candidate) in taken or not context.joined_to(candidate.first, chosen):
                    continue
                relinked = self._candidate(candidate.span, context, extra=_EVIDENCE_LIST)
                if relinked is not None:
                    joined.append(relinked)
            if not joined:
                break
            more = _choose([*chosen, *joined], min_confidence)
            if len(more) == len(chosen):
                break
            chosen = more
        # A year read as evidence for a film is not itself a mention of "1984" or "2001".
        years = {c.year_word for c in chosen if c.year_word is not None}
        chosen = [c for c in chosen if not (c.first == c.last and c.first in years)]
        chosen.sort(key=lambda c: (-c.confidence, c.first))
        links = []
        for candidate in chosen[:limit]:
            record = self._records[candidate.record]
            start, end = words[candidate.first].start, words[candidate.last].end
            links.append(
                TitleLink(
                    tmdb_id=record.tmdb_id,
                    title=record.title,
                    year=record.year,
                    mention=text[start:end],
                    start=start,
                    end=end,
                    confidence=round(candidate.confidence, 3),
                )
            )
        return links

    def _candidate(self, span: _Span, context: _Context, extra: float = 0.0) -> _Candidate | None:
        year, year_word = context.year_beside(span.first, span.last)
        qualities: dict[int, float] = {}
        for index, quality in span.options:
            qualities[index] = max(quality, qualities.get(index, 0.0))
        best: tuple | None = None
        for index, quality in qualities.items():
            record_year = self._records[index].year
            if year is None or record_year is None:
                year_rank = 0
            else:
                year_rank = 1 if abs(record_year - year) <= 1 else -1
            # A famous film whose title starts with the words beats an obscure exact title
            # ("lord of the rings"), but not a famous one ("star wars").
            rank = (year_rank, quality + self._fame[index], self._fame[index], -index)
            if best is None or rank > best:
                best = rank
        if best is None:
            return None
        year_rank, _, fame, negative_index = best
        index = -negative_index
        quality = qualities[index] * _QUALITY_PER_EDIT[span.edits]
        if year_rank < 0:
            quality *= _QUALITY_YEAR_MISMATCH
        if context.other_number_after(span.last, span.words):
            quality *= _QUALITY_OTHER_NUMBER

        specificity = _specificity(span.words, fame)
        single = span.first == span.last
        if single and span.edits:
            specificity = min(specificity, _FUZZY_SINGLE_WORD_SPECIFICITY)
        if single and context.inside_name(span.first):
            specificity *= 0.5

        # Request vocabulary alone ("love", "time travel") is what a film is like, not which.
        request_words = max(word_weight(w) for w in span.words) == 0.05
        evidence = extra
        if context.whole(span.first, span.last):
            if all(w in _CHAT or len(w) <= 1 for w in span.words):
                pass
            elif request_words:
                evidence += _EVIDENCE_WHOLE_REQUEST_WORD
            else:
                evidence += _EVIDENCE_WHOLE
        if context.quoted(span.first, span.last):
            evidence += _EVIDENCE_QUOTED
        if context.capitalised(span.first, span.last, span.words):
            evidence += _EVIDENCE_CAPITALISED
        cue = context.cue_before(span.first, span.words)
        if cue and (request_words or not context.boundary_after(span.last)):
            cue *= _CUE_WEAKENED
        evidence += cue
        if year_rank > 0:
            evidence += _EVIDENCE_YEAR
        confidence = quality * min(1.0, specificity + evidence)
        return _Candidate(
            span.first,
            span.last,
            index,
            confidence,
            year_word if year_rank > 0 else None,
            span,
        )


def _is_inflection(word: str, known: str) -> bool:
    return any(word == known + end for end in ("s", "es", "ed", "d", "ing", "er", "ers")) or any(
        known == word + end for end in ("s", "es")
    )


def _specificity(words: tuple[str, ...], fame: float) -> float:
    missing = 1.0
    for word in words:
        missing *= 1.0 - word_weight(word)
    specificity = 1.0 - missing
    if len(words) > 1:
        extra = sum(0.03 if word_weight(word) == 0 else 0.06 for word in words) - 0.06
        specificity += extra + 0.08 * fame
    return min(1.0, specificity)


def _choose(candidates: list[_Candidate], min_confidence: float) -> list[_Candidate]:
    ordered = sorted(
        (c for c in candidates if c.confidence >= min_confidence),
        # A longer mention contains the shorter one's reading ("lord of the rings" over "rings").
        key=lambda c: (-(c.confidence + 0.1 * (c.last - c.first)), c.first),
    )
    taken: list[_Candidate] = []
    films: set[int] = set()
    for candidate in ordered:
        if candidate.record in films:
            continue
        if any(candidate.first <= t.last and t.first <= candidate.last for t in taken):
            continue
        taken.append(candidate)
        films.add(candidate.record)
    return taken


class _Context:
    """What the message around a span says: cues, quotes, capitals, years, boundaries."""

    def __init__(self, text: str, words: list[MessageWord]) -> None:
        self.text = text
        self.words = words
        self.norms = [w.norm for w in words]
        letters = [c for c in text if c.isalpha()]
        self.all_caps = bool(letters) and all(c.isupper() for c in letters)
        # Prefix sums, so each span's questions cost O(span), not O(message).
        self._content = [0]  # words that are more than filler around a title
        self._cased = [0]  # words whose case tells something: not sentence-initial, alphabetic
        self._capitals = [0]
        for word in words:
            content = word.norm not in _FILLER_WORDS and _year(word) is None
            cased = not word.initial and word.raw[:1].isalpha() and len(word.raw) > 1
            self._content.append(self._content[-1] + content)
            self._cased.append(self._cased[-1] + cased)
            self._capitals.append(self._capitals[-1] + (cased and self._capital(word)))

    def gap_before(self, index: int) -> str:
        start = self.words[index - 1].end if index > 0 else 0
        return self.text[start : self.words[index].start]

    def gap_after(self, index: int) -> str:
        end = self.words[index + 1].start if index + 1 < len(self.words) else len(self.text)
        return self.text[self.words[index].end : end]

    def whole(self, first: int, last: int) -> bool:
        inside = self._content[last + 1] - self._content[first]
        return inside == self._content[-1]

    def quoted(self, first: int, last: int) -> bool:
        before = self.gap_before(first).rstrip()
        after = self.gap_after(last).lstrip()
        return bool(before) and before[-1] in _QUOTES and bool(after) and after[0] in _QUOTES

    def _capital(self, word: MessageWord) -> bool:
        return word.raw[:1].isupper()

    def capitalised(self, first: int, last: int, span_words: tuple[str, ...]) -> bool:
        if self.all_caps:
            return False
        inside = self.words[first : last + 1]
        content = [w for w, norm in zip(inside, span_words, strict=False) if word_weight(norm)]
        content = content or inside
        if not all(self._capital(w) or not w.raw[:1].isalpha() for w in content):
            return False
        if all(w.initial or not w.raw[:1].isalpha() for w in content):
            return False
        others = self._cased[-1] - (self._cased[last + 1] - self._cased[first])
        if not others:
            return False
        capitals = self._capitals[-1] - (self._capitals[last + 1] - self._capitals[first])
        return capitals / others <= 0.4

    def inside_name(self, index: int) -> bool:
        """A single word next to a rare or Capitalised word is likely part of a longer name."""
        for neighbour in (index - 1, index + 1):
            if not 0 <= neighbour < len(self.words):
                continue
            gap = self.gap_before(index) if neighbour < index else self.gap_after(index)
            if _HARD_BREAK.search(gap):
                continue
            word = self.words[neighbour]
            if _year(word) is not None or word.norm.isdigit():
                continue
            if _is_rare(word.norm):
                return True
            if (
                not self.all_caps
                and self._capital(word)
                and not word.initial
                and word.norm not in _FUNCTION
            ):
                return True
        return False

    def cue_before(self, first: int, span_words: tuple[str, ...]) -> float:
        end = first
        if end > 0 and self.norms[end - 1] == "the" and span_words[0] != "the":
            end -= 1
        if end > 0 and _HARD_BREAK.search(self.gap_before(end)):
            return 0.0
        best = 0.0
        for size in range(1, _MAX_CUE_WORDS + 1):
            if size > end:
                break
            phrase = tuple(self.norms[end - size : end])
            weight = _CUES.get(phrase)
            if weight is None:
                continue
            if phrase == ("like",) and end - 2 >= 0 and self.norms[end - 2] in _LIKE_SUBJECTS:
                continue
            best = max(best, weight)
        return best

    def boundary_after(self, last: int) -> bool:
        if last + 1 >= len(self.words):
            return True
        if _HARD_BREAK.search(self.gap_after(last)):
            return True
        following = self.words[last + 1]
        return following.norm in _BOUNDARY or _year(following) is not None

    def other_number_after(self, last: int, span_words: tuple[str, ...]) -> bool:
        """ "Rocky 2" when only "Rocky" matched: the user means another film of the series."""
        after = last + 1
        if after >= len(self.words) or _HARD_BREAK.search(self.gap_after(last)):
            return False
        word = self.words[after].norm
        return word.isdigit() and len(word) <= 2 and not span_words[-1].isdigit()

    def year_beside(self, first: int, last: int) -> tuple[int | None, int | None]:
        """A year written right after ("Dune 1984", "Dune (1984)", "Dune from 1984") or right
        before ("the 1978 Halloween") the span."""
        after = last + 1
        if after < len(self.words) and self.norms[after] in {"from", "in"}:
            after += 1
        if after < len(self.words) and _YEAR_GAP.match(self.gap_before(after)):
            year = _year(self.words[after])
            if year is not None:
                return year, after
        before = first - 1
        if before >= 0 and _YEAR_GAP.match(self.gap_after(before)):
            year = _year(self.words[before])
            if year is not None:
                return year, before
        return None, None

    def joined_to(self, first: int, chosen: list[_Candidate]) -> bool:
        if first == 0:
            return False
        ends = {c.last for c in chosen}
        if self.norms[first - 1] in {"and", "or", "nor"} and first - 2 in ends:
            return True
        return first - 1 in ends and "," in self.gap_before(first)


# --- The process-wide linker over the catalog --------------------------------------------------

_catalog_linker: CatalogDerived[TitleLinker] = CatalogDerived(TitleLinker.from_catalog)


def catalog_title_linker() -> TitleLinker:
    """The linker over the catalog, rebuilt when the catalog changes (catalog_cache)."""
    return _catalog_linker.get()


def clear_catalog_title_linker() -> None:
    """Forget the cached linker (tests; after a bulk import that should be seen at once)."""
    _catalog_linker.clear()
