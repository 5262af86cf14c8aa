"""The conduct detector: compiles a rule pack and its lexicons, scans transcripts, returns findings.

Two rule kinds:

``phrase``
    A finding for each segment of an allowed speaker (``speakers``, by default the collector only)
    where one of the rule's lexicons matches, unless the match is negated (``negation``) or the
    segment also matches one of the rule's ``unless`` lexicons (the accurate statements a pack wants
    left alone). ``context = "third_party"`` further requires that the collector is talking to a
    third party: the nearest other speaker before the segment (or, when the collector opens, after
    it) is ``third_party``. One finding per rule and segment, at the first non-negated match.
``opening_required``
    A finding (``segment_index`` null) when one of the rule's ``groups`` (each a list of lexicons)
    matches none of the collector's first ``turns`` turns. ``requires_speaker`` limits the rule to
    transcripts in which that speaker talks (the debtor's identity and purpose are not stated to a
    neighbour), and a transcript without any collector speech has nothing to check. Opening turns
    that match one of the rule's ``unless`` lexicons (not negated) do not count: an impersonator's
    false identity ("我是法院的法官") is no identification.

Negation (``negation``): ``"prefix"`` looks for a negation cue of the segment's language in the few
characters (Chinese) or words (English) before the match, within its clause; ``"span"`` also inside
the match itself ("我们不是警察", "we are not the police"); ``"none"`` for phrases whose negation is
the offence ("不会放过你").

Normalisation (:func:`normalise`, once per segment, before any rule): full-width letters, digits and
spaces to ASCII, curly apostrophes and quotes to straight ones, traditional Chinese characters to
simplified ones (``lexicons/zh_hant.toml``), English contractions written without their apostrophe
("dont", "youre") in text that has none, the spaces an ASR engine leaves inside Chinese words
("录 音", "还 款") removed, other runs of whitespace collapsed. The lexicons are written against the
normalised text and match case-insensitively. Evidence is quoted from the normalised text.
"""

from __future__ import annotations

import re
import re._constants as _sre_constants
import re._parser as _sre_parser
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKS_DIR = HERE / "packs"
LEXICONS_DIR = HERE / "lexicons"

CATEGORIES: tuple[str, ...] = (
    "threat",
    "abuse",
    "impersonation",
    "false_consequence",
    "third_party_disclosure",
    "induce_borrowing",
    "missing_identification",
    "missing_recording_notice",
    "private_payment",
    "missing_debt_collector_disclosure",
)
SEVERITIES: frozenset[str] = frozenset({"critical", "major", "minor"})
SPEAKERS: frozenset[str] = frozenset({"collector", "customer", "third_party"})
LANGUAGES: frozenset[str] = frozenset({"zh", "en"})
CHANNELS: frozenset[str] = frozenset({"call", "visit"})
NEGATION_MODES: frozenset[str] = frozenset({"prefix", "span", "none"})
KINDS: frozenset[str] = frozenset({"phrase", "opening_required"})

_CLAUSE_END = re.compile(r"[，。！？；：,.!?;:\n]")
_WORD = re.compile(r"[A-Za-z']+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# spaces inside Chinese: between two CJK characters, or between a CJK character and a digit
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}0-9])|(?<=[0-9])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s{2,}")
# English contractions an ASR engine writes without the apostrophe ("dont", "youre"): only the
# unambiguous ones (not "were", "ill", "lets", "its", "hell", "well")
_BARE_CONTRACTIONS = {
    w.replace("'", ""): w
    for w in [
        "don't",
        "doesn't",
        "didn't",
        "can't",
        "won't",
        "wouldn't",
        "shouldn't",
        "couldn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "haven't",
        "hasn't",
        "ain't",
        "you're",
        "you'll",
        "you've",
        "they're",
        "they'll",
        "they've",
        "i'm",
        "i've",
        "we've",
        "that's",
        "what's",
        "who's",
        "there's",
    ]
}
_BARE = re.compile(
    r"\b(" + "|".join(sorted(_BARE_CONTRACTIONS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def _apostrophe(m: re.Match[str]) -> str:
    word = m.group(0)
    fixed = _BARE_CONTRACTIONS[word.lower()]
    return fixed.upper() if word.isupper() else fixed if word.islower() else fixed.capitalize()


def _translation_table(directory: Path = LEXICONS_DIR) -> dict[int, str]:
    table: dict[int, str] = {}
    # full-width ASCII letters and digits (not the punctuation, which the clause rules read as Chinese)
    for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)):
        for code in range(lo, hi + 1):
            table[code] = chr(code - 0xFEE0)
    table[0x3000] = table[0x00A0] = " "  # ideographic and no-break spaces
    for code in (0x2018, 0x2019, 0x2032, 0xFF07):  # ‘ ’ ′ ＇
        table[code] = "'"
    for code in (0x201C, 0x201D, 0xFF02):
        table[code] = '"'
    path = directory / "zh_hant.toml"
    data = _load_toml(path)
    traditional = "".join(str(data.get("traditional", "")).split())
    simplified = "".join(str(data.get("simplified", "")).split())
    if not traditional or len(traditional) != len(simplified):
        raise PackError(f"{path}: 'traditional' and 'simplified' must be non-empty and of the same length")
    for t, z in zip(traditional, simplified, strict=True):
        table[ord(t)] = z
    return table


_TABLE: dict[int, str] | None = None


def normalise(text: str) -> str:
    """The text the lexicons match: see the module's docstring."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _translation_table()
    text = text.translate(_TABLE)
    if text.isascii():
        if "'" not in text:
            text = _BARE.sub(_apostrophe, text)
    elif " " in text or "\t" in text or "\n" in text:
        text = _CJK_SPACE.sub("", text)
    if "  " in text or "\t" in text or "\n" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


class PackError(ValueError):
    """A pack or lexicon file that cannot be used: names the file, the rule and the reason."""


class TranscriptError(ValueError):
    """A malformed transcript: names the field and the reason (the caller adds file and line)."""

    def __init__(self, field_name: str | None, reason: str) -> None:
        super().__init__(f"field {field_name!r}: {reason}" if field_name else reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Segment:
    speaker: str
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Transcript:
    transcript_id: str
    language: str
    channel: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Finding:
    category: str
    segment_index: int | None
    rule_id: str
    evidence: str
    severity: str = "major"

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "segment_index": self.segment_index,
            "rule_id": self.rule_id,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Negation:
    cues: re.Pattern[str]
    window: int  # characters (zh) or words (en) before the match
    conditionals: re.Pattern[str] | None = None  # markers of a condition, whose cues do not count
    # a clause that opens as a suggestion in the form of a negative question ("can't your parents
    # lend you…", "你不是还有别的卡吗"): its cues do not negate
    rhetorical: re.Pattern[str] | None = None
    # phrases that hold a cue and negate nothing ("不是我吓唬你", "I'm not kidding"): cues inside them
    # do not count
    idioms: re.Pattern[str] | None = None


@dataclass
class Rule:
    id: str
    category: str
    severity: str
    kind: str
    explanation: dict[str, str]
    speakers: frozenset[str] = frozenset({"collector"})
    channels: frozenset[str] = CHANNELS
    negation: str = "prefix"
    context: str | None = None
    requires_speaker: str | None = None
    turns: int = 2
    # language -> compiled alternation of the rule's lexicons
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    # language -> the patterns of the rule's lexicons, in order (see Prefilter)
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    unless: dict[str, re.Pattern[str]] = field(default_factory=dict)
    # opening_required: per language, one pattern per group, with the group's name
    groups: dict[str, list[tuple[str, re.Pattern[str]]]] = field(default_factory=dict)


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise PackError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path}: not valid TOML: {exc}") from exc


def load_lexicons(language: str, directory: Path = LEXICONS_DIR) -> tuple[dict[str, list[str]], Negation]:
    """Named pattern lists of one language and its negation cues (``[_negation]``)."""
    path = directory / f"{language}.toml"
    data = _load_toml(path)
    neg = data.pop("_negation", None)
    if not isinstance(neg, dict) or not isinstance(neg.get("cues"), list) or not neg["cues"]:
        raise PackError(f"{path}: [_negation] needs a non-empty list 'cues'")
    cue_text = "|".join(f"(?:{c})" for c in neg["cues"])
    if language == "en":
        cue_text = rf"\b(?:{cue_text})\b"
    try:
        cues = re.compile(cue_text, re.IGNORECASE)
    except re.error as exc:
        raise PackError(f"{path}: [_negation] cues: bad pattern: {exc}") from exc
    lexicons: dict[str, list[str]] = {}
    for name, body in data.items():
        patterns = body.get("patterns") if isinstance(body, dict) else None
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
            raise PackError(f"{path}: lexicon {name!r} needs a non-empty list of strings 'patterns'")
        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise PackError(f"{path}: lexicon {name!r}: bad pattern {p!r}: {exc}") from exc
        lexicons[name] = patterns
    conditionals = None
    if neg.get("conditionals"):
        text = "|".join(f"(?:{c})" for c in neg["conditionals"])
        conditionals = re.compile(rf"\b(?:{text})\b" if language == "en" else text, re.IGNORECASE)
    rhetorical = None
    if neg.get("rhetorical"):
        text = "|".join(f"(?:{c})" for c in neg["rhetorical"])
        try:
            rhetorical = re.compile(rf"\s*(?:{text})", re.IGNORECASE)
        except re.error as exc:
            raise PackError(f"{path}: [_negation] rhetorical: bad pattern: {exc}") from exc
    idioms = None
    if neg.get("idioms"):
        text = "|".join(f"(?:{c})" for c in neg["idioms"])
        try:
            idioms = re.compile(rf"\b(?:{text})\b" if language == "en" else text, re.IGNORECASE)
        except re.error as exc:
            raise PackError(f"{path}: [_negation] idioms: bad pattern: {exc}") from exc
    return lexicons, Negation(
        cues=cues,
        window=int(neg.get("window", 6)),
        conditionals=conditionals,
        rhetorical=rhetorical,
        idioms=idioms,
    )


def _compile(
    names: Sequence[str], lexicons: Mapping[str, list[str]], where: str, language: str
) -> re.Pattern[str]:
    parts: list[str] = []
    for name in names:
        if name not in lexicons:
            raise PackError(f"{where}: lexicon {name!r} is not in lexicons/{language}.toml")
        parts.extend(lexicons[name])
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


_MAX_EXPANSION = 64
_REPEATS = (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT, _sre_constants.POSSESSIVE_REPEAT)


def _expand(items: Any) -> set[str] | None:
    """All the strings a literal-only piece of a parsed pattern matches (None if not literal-only
    or too many)."""
    out = {""}
    for op, av in items:
        if op is _sre_constants.LITERAL:
            choices = {chr(av)}
        elif op is _sre_constants.IN and all(o is _sre_constants.LITERAL for o, _ in av):
            choices = {chr(c) for _, c in av}
        elif op is _sre_constants.SUBPATTERN:
            sub = _expand(av[3])
            if sub is None:
                return None
            choices = sub
        elif op is _sre_constants.BRANCH:
            choices = set()
            for branch in av[1]:
                sub = _expand(branch)
                if sub is None:
                    return None
                choices |= sub
        else:
            return None
        if len(out) * len(choices) > _MAX_EXPANSION:
            return None
        out = {a + b for a in out for b in choices}
    return out


# single characters too common in speech to be worth a prefilter
_COMMON = frozenset("你您我他她它的是了在有不这那就要会们个也都和说去来到吗吧啊呢人一上下给把被让还")


def _score(candidate: set[str]) -> tuple[int, int]:
    # long enough to be selective (three characters; one uncommon Chinese character is), then few
    shortest = min(len(c) for c in candidate)
    if shortest == 1 and any(c in _COMMON for c in candidate):
        shortest = 0
    return (min(shortest, 3), -len(candidate))


def _required(items: Any) -> set[str] | None:
    """A set of strings one of which every match of the parsed pattern contains (None: unknown)."""
    candidates: list[set[str]] = []
    run = {""}
    for item in items:
        expanded = _expand([item])
        if expanded is not None and len(run) * len(expanded) <= _MAX_EXPANSION:
            run = {a + b for a in run for b in expanded}
            continue
        if min(len(r) for r in run) > 0:
            candidates.append(run)
        run = {""}
        op, av = item
        sub: set[str] | None = None
        if op is _sre_constants.SUBPATTERN:
            sub = _required(av[3])
        elif op is _sre_constants.ATOMIC_GROUP:
            sub = _required(av)
        elif op in _REPEATS and av[0] >= 1:
            sub = _required(av[2])
        elif op is _sre_constants.BRANCH:
            sub = set()
            for branch in av[1]:
                b = _required(branch)
                if b is None:
                    sub = None
                    break
                sub |= b
        if sub:
            candidates.append(sub)
    if min(len(r) for r in run) > 0:
        candidates.append(run)
    candidates = [c for c in candidates if c and min(len(x) for x in c) > 0]
    return max(candidates, key=_score) if candidates else None


def _literals(pattern: str) -> frozenset[str] | None:
    """Lower-case literals one of which every match of ``pattern`` contains; None when there is no
    such literal (the pattern is then always tried)."""
    required = _required(_sre_parser.parse(pattern, re.IGNORECASE))
    return None if required is None else frozenset(r.lower() for r in required)


def _trie_pattern(words: Sequence[str]) -> str:
    """An alternation of ``words`` (none a prefix of another) as a trie, so that the engine follows
    one branch per character instead of trying every word at every position."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items())]
        if len(branches) <= 1:
            return "".join(branches)
        return "(?:" + "|".join(branches) + ")"

    return emit(trie)


_CACHE_LIMIT = 100_000  # sets of literals kept per prefilter
Alternative = tuple[int, int]  # (rule index, index of the pattern among the rule's alternatives)


def _by_rule(alternatives: Iterable[Alternative]) -> dict[int, tuple[int, ...]]:
    grouped: dict[int, set[int]] = {}
    for r, k in alternatives:
        grouped.setdefault(r, set()).add(k)
    return {r: tuple(sorted(ks)) for r, ks in grouped.items()}


@dataclass
class Prefilter:
    """The phrase rules of one language, scanned in two steps. First one pass over the segment's
    lower-cased text for the literals of all their patterns (an alternation of literals, none
    containing another, written as a trie so that the engine follows one branch per character);
    each hit names the patterns that can match. Then each rule runs only the alternation of those of
    its patterns (compiled once per combination and kept): the same first match as the rule's whole
    alternation, since a pattern whose literal is absent cannot match."""

    pattern: re.Pattern[str] | None
    hits: dict[str, dict[int, tuple[int, ...]]]  # literal -> rule index -> indexes of its patterns
    always: dict[int, tuple[int, ...]]  # patterns without a literal
    alternatives: dict[int, list[str]]  # rule index -> its patterns
    compiled: dict[tuple[int, tuple[int, ...]], re.Pattern[str]] = field(default_factory=dict)
    cache: dict[tuple[str, ...], dict[int, tuple[int, ...]]] = field(default_factory=dict)

    @classmethod
    def build(cls, alternatives: dict[int, list[str]]) -> Prefilter:
        literals = {(r, k): _literals(p) for r, pats in alternatives.items() for k, p in enumerate(pats)}
        always = _by_rule(a for a, lits in literals.items() if lits is None)
        everything = {lit for lits in literals.values() if lits for lit in lits}

        def inner(lit: str) -> set[str]:
            return {lit[i:j] for i in range(len(lit)) for j in range(i + 1, len(lit) + 1)}

        minimal = {lit for lit in everything if not (inner(lit) - {lit}) & everything}
        found: dict[str, set[Alternative]] = {m: set() for m in minimal}
        for a, lits in literals.items():
            for lit in lits or ():
                for m in inner(lit) & minimal:
                    found[m].add(a)
        hits = {m: _by_rule(a) for m, a in found.items()}
        ordered = sorted(minimal, key=lambda x: (-len(x), x))
        pattern = re.compile(_trie_pattern(ordered)) if ordered else None
        return cls(pattern, hits, always, alternatives)

    def candidates(self, text: str) -> dict[int, tuple[int, ...]]:
        """Rule index -> the indexes of its patterns that can match ``text`` (rules that cannot are
        absent). Kept per set of literals found: speech repeats its phrases."""
        found: tuple[str, ...] = ()
        if self.pattern is not None:
            low = text.lower()
            search = self.pattern.search
            m = search(low)
            if m is not None:
                hits = set()
                while m is not None:
                    hits.add(m.group(0))
                    m = search(low, m.start() + 1)
                found = tuple(sorted(hits))
        cached = self.cache.get(found)
        if cached is None:
            grouped: dict[int, set[int]] = {r: set(ks) for r, ks in self.always.items()}
            for lit in found:
                for r, ks in self.hits[lit].items():
                    grouped.setdefault(r, set()).update(ks)
            cached = {r: tuple(sorted(ks)) for r, ks in grouped.items()}
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
            self.cache[found] = cached
        return cached

    def rule_pattern(self, rule_index: int, ks: tuple[int, ...]) -> re.Pattern[str]:
        key = (rule_index, ks)
        compiled = self.compiled.get(key)
        if compiled is None:
            pats = self.alternatives[rule_index]
            compiled = self.compiled[key] = re.compile("|".join(f"(?:{pats[k]})" for k in ks), re.IGNORECASE)
        return compiled


def _str_set(value: Any, allowed: frozenset[str], where: str, key: str) -> frozenset[str]:
    if not isinstance(value, list) or not value or not set(value) <= allowed:
        raise PackError(f"{where}: {key!r} must be a non-empty list out of {sorted(allowed)}")
    return frozenset(value)


@dataclass
class Detector:
    pack_id: str
    version: str
    rules: list[Rule]
    negations: dict[str, Negation]
    prefilters: dict[str, Prefilter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for language in self.negations:
            self.prefilters[language] = Prefilter.build(
                {
                    i: r.alternatives[language]
                    for i, r in enumerate(self.rules)
                    if r.kind == "phrase" and language in r.alternatives
                }
            )

    @property
    def categories(self) -> tuple[str, ...]:
        seen = {r.category for r in self.rules}
        return tuple(c for c in CATEGORIES if c in seen)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    # -- scanning -------------------------------------------------------------------------------------

    def scan(self, transcript: Transcript) -> list[Finding]:
        findings: list[Finding] = []
        segments = transcript.segments
        texts = [normalise(s.text) for s in segments]
        language = transcript.language
        negation = self.negations[language]
        contexts = _addressees(segments)
        speakers_present = {s.speaker for s in segments}
        prefilter = self.prefilters[language]
        candidates: list[dict[int, tuple[int, ...]] | None] = [None] * len(segments)
        for rule_index, rule in enumerate(self.rules):
            if transcript.channel not in rule.channels:
                continue
            if rule.kind == "phrase":
                pattern = rule.patterns.get(language)
                if pattern is None:
                    continue
                unless = rule.unless.get(language)
                for index, seg in enumerate(segments):
                    if seg.speaker not in rule.speakers:
                        continue
                    if rule.context is not None and contexts[index] != rule.context:
                        continue
                    text = texts[index]
                    possible = candidates[index]
                    if possible is None:
                        possible = candidates[index] = prefilter.candidates(text)
                    ks = possible.get(rule_index)
                    if ks is None:
                        continue
                    if unless is not None and unless.search(text):
                        continue
                    narrowed = prefilter.rule_pattern(rule_index, ks)
                    evidence = _first_match(narrowed, text, rule.negation, negation, language)
                    if evidence is not None:
                        findings.append(Finding(rule.category, index, rule.id, evidence, rule.severity))
            else:
                if "collector" not in speakers_present:
                    continue
                if rule.requires_speaker is not None and rule.requires_speaker not in speakers_present:
                    continue
                opening = [t for s, t in zip(segments, texts, strict=True) if s.speaker == "collector"][
                    : rule.turns
                ]
                unless = rule.unless.get(language)
                if unless is not None:  # a false identity does not identify (我是法院的法官)
                    opening = [
                        t for t in opening if _first_match(unless, t, "span", negation, language) is None
                    ]
                for name, group in rule.groups.get(language, []):
                    # a negated statement ("本次通话不录音", "I'm not a debt collector") states nothing
                    if not any(
                        _first_match(group, t, rule.negation, negation, language) is not None for t in opening
                    ):
                        findings.append(
                            Finding(
                                rule.category,
                                None,
                                rule.id,
                                f"{name} not stated in the collector's first {rule.turns} turns",
                                rule.severity,
                            )
                        )
                        break
        findings.sort(key=lambda f: (-1 if f.segment_index is None else f.segment_index, f.rule_id))
        return findings

    def scan_json(self, transcript: Transcript) -> dict[str, Any]:
        return {
            "transcript_id": transcript.transcript_id,
            "findings": [f.as_json() for f in self.scan(transcript)],
        }


def _addressees(segments: Sequence[Segment]) -> list[str | None]:
    """For each segment, whom the collector talks to: the nearest non-collector speaker before it
    or, when there is none (the collector opens), the first one after it."""
    n = len(segments)
    result: list[str | None] = [None] * n
    last: str | None = None
    for i, s in enumerate(segments):
        result[i] = last
        if s.speaker != "collector":
            last = s.speaker
    nxt: str | None = None
    for i in range(n - 1, -1, -1):
        if result[i] is None:
            result[i] = nxt
        if segments[i].speaker != "collector":
            nxt = segments[i].speaker
    return result


def _negated(text: str, start: int, end: int, mode: str, negation: Negation, language: str) -> bool:
    """A negation cue in the window before the match (within its clause) or, in ``span`` mode,
    inside it; a cue that sits in a condition ("if you don't pay …", "你要是没有钱…") negates the
    condition, not the match."""
    if mode == "none":
        return False
    clause_start = 0
    for m in _CLAUSE_END.finditer(text, 0, start):
        clause_start = m.end()
    if language == "en":
        starts = [w.start() for w in _WORD.finditer(text, clause_start, start)]
        window_start = starts[-negation.window] if len(starts) >= negation.window else clause_start
    else:
        window_start = max(clause_start, start - negation.window)
    limit = end if mode == "span" else start
    rhetorical_end = -1
    if negation.rhetorical is not None:
        r = negation.rhetorical.match(text, clause_start)
        if r is not None:
            rhetorical_end = r.end()
    idioms = (
        [(i.start(), i.end()) for i in negation.idioms.finditer(text, clause_start, limit)]
        if negation.idioms is not None
        else []
    )
    for cue in negation.cues.finditer(text, window_start, limit):
        if cue.start() < rhetorical_end:
            continue
        if any(a <= cue.start() and cue.end() <= b for a, b in idioms):
            continue
        if negation.conditionals is None or not negation.conditionals.search(text, clause_start, cue.start()):
            return True
    return False


def _first_match(
    pattern: re.Pattern[str], text: str, mode: str, negation: Negation, language: str
) -> str | None:
    """The first match that is not negated; after a negated match the search resumes one character
    after its start, so that a long negated match does not hide a shorter one inside it."""
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return None
        if not _negated(text, m.start(), m.end(), mode, negation, language):
            return m.group(0)
        pos = m.start() + 1


# -- loading ------------------------------------------------------------------------------------------


def load_detector(pack: str | Path, lexicons_dir: Path = LEXICONS_DIR) -> Detector:
    """The detector of a pack: ``"CN"``/``"US"`` (the shipped packs) or the path of a pack file."""
    path = (
        Path(pack)
        if isinstance(pack, Path) or str(pack).endswith(".toml")
        else PACKS_DIR / f"{str(pack).lower()}.toml"
    )
    data = _load_toml(path)
    meta = data.get("pack")
    if not isinstance(meta, dict) or not meta.get("id") or not meta.get("version"):
        raise PackError(f"{path}: [pack] needs 'id' and 'version'")
    languages = meta.get("languages", ["zh", "en"])
    if not isinstance(languages, list) or not set(languages) <= LANGUAGES:
        raise PackError(f"{path}: [pack] languages must be a list out of {sorted(LANGUAGES)}")
    loaded = {lang: load_lexicons(lang, lexicons_dir) for lang in languages}
    rules: list[Rule] = []
    ids: set[str] = set()
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PackError(f"{path}: no [[rules]]")
    for raw in raw_rules:
        rid = raw.get("id")
        where = f"{path}: rule {rid!r}"
        if not isinstance(rid, str) or not rid:
            raise PackError(f"{path}: a rule without an id")
        if rid in ids:
            raise PackError(f"{where}: duplicate id")
        ids.add(rid)
        if raw.get("enabled", True) is False:
            continue
        category, severity, kind = raw.get("category"), raw.get("severity"), raw.get("kind", "phrase")
        if category not in CATEGORIES:
            raise PackError(f"{where}: category must be one of {list(CATEGORIES)}")
        if severity not in SEVERITIES:
            raise PackError(f"{where}: severity must be one of {sorted(SEVERITIES)}")
        if kind not in KINDS:
            raise PackError(f"{where}: kind must be one of {sorted(KINDS)}")
        explanation = raw.get("explanation")
        if not isinstance(explanation, dict) or not explanation.get("zh-Hans") or not explanation.get("en"):
            raise PackError(f"{where}: [rules.explanation] needs 'zh-Hans' and 'en'")
        rule = Rule(
            id=rid,
            category=category,
            severity=severity,
            kind=kind,
            explanation={"zh-Hans": explanation["zh-Hans"], "en": explanation["en"]},
            speakers=_str_set(raw.get("speakers", ["collector"]), SPEAKERS, where, "speakers"),
            channels=_str_set(raw.get("channels", sorted(CHANNELS)), CHANNELS, where, "channels"),
            negation=raw.get("negation", "prefix" if kind == "phrase" else "none"),
            context=raw.get("context"),
            requires_speaker=raw.get("requires_speaker"),
            turns=int(raw.get("turns", 2)),
        )
        if rule.negation not in NEGATION_MODES:
            raise PackError(f"{where}: negation must be one of {sorted(NEGATION_MODES)}")
        if rule.context not in (None, *SPEAKERS) or rule.requires_speaker not in (None, *SPEAKERS):
            raise PackError(f"{where}: context / requires_speaker must be a speaker")
        if rule.turns < 1:
            raise PackError(f"{where}: turns must be at least 1")
        for lang in languages:
            lexicons, _ = loaded[lang]
            if kind == "phrase":
                names = raw.get("lexicons")
                if not isinstance(names, list) or not names:
                    raise PackError(f"{where}: a phrase rule needs 'lexicons'")
                rule.patterns[lang] = _compile(names, lexicons, where, lang)
                rule.alternatives[lang] = [p for name in names for p in lexicons[name]]
            else:
                groups = raw.get("groups")
                if not isinstance(groups, dict) or not groups:
                    raise PackError(
                        f"{where}: an opening_required rule needs [rules.groups] name = [lexicons]"
                    )
                rule.groups[lang] = [
                    (name, _compile(names, lexicons, where, lang)) for name, names in groups.items()
                ]
            if raw.get("unless"):
                rule.unless[lang] = _compile(raw["unless"], lexicons, where, lang)
        rules.append(rule)
    return Detector(
        pack_id=str(meta["id"]),
        version=str(meta["version"]),
        rules=rules,
        negations={lang: neg for lang, (_, neg) in loaded.items()},
    )


# -- input --------------------------------------------------------------------------------------------


def _require(obj: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], prefix: str = "") -> Any:
    if key not in obj:
        raise TranscriptError(prefix + key, "missing")
    value = obj[key]
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise TranscriptError(prefix + key, f"wrong type {type(value).__name__}")
    return value


def parse_transcript(obj: Any) -> Transcript:
    """A :class:`Transcript` from one decoded JSON line; :class:`TranscriptError` names the field."""
    if not isinstance(obj, dict):
        raise TranscriptError(None, "a line must be a JSON object")
    tid = _require(obj, "transcript_id", (str, int))
    language = _require(obj, "language", str)
    if language not in LANGUAGES:
        raise TranscriptError("language", f"{language!r} is not one of {sorted(LANGUAGES)}")
    channel = _require(obj, "channel", str)
    if channel not in CHANNELS:
        raise TranscriptError("channel", f"{channel!r} is not one of {sorted(CHANNELS)}")
    raw_segments = _require(obj, "segments", list)
    segments: list[Segment] = []
    for i, raw in enumerate(raw_segments):
        prefix = f"segments[{i}]."
        if not isinstance(raw, dict):
            raise TranscriptError(f"segments[{i}]", "must be an object")
        speaker = _require(raw, "speaker", str, prefix)
        if speaker not in SPEAKERS:
            raise TranscriptError(prefix + "speaker", f"{speaker!r} is not one of {sorted(SPEAKERS)}")
        start = float(_require(raw, "start_s", (int, float), prefix))
        end = float(_require(raw, "end_s", (int, float), prefix))
        if end < start:
            raise TranscriptError(prefix + "end_s", "before start_s")
        segments.append(Segment(speaker, start, end, _require(raw, "text", str, prefix)))
    return Transcript(str(tid), language, channel, tuple(segments))


def scan_all(detector: Detector, transcripts: Iterable[Transcript]) -> Iterable[dict[str, Any]]:
    for t in transcripts:
        yield detector.scan_json(t)
