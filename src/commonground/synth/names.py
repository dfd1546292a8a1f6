"""Names: vocabularies, weighted draws by community, sex and birth cohort, and the ways they go wrong.

Names are held as indices into two vocabularies (given and family), so a person's name is two
integers until a file is written. Family-name frequencies are long-tailed on purpose: a few
names are very common and thousands are rare, so linkage has to weigh agreement by frequency.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from commonground.contracts.feeds import FEEDS
from commonground.contracts.values import ValueProblem, parse_cell
from commonground.synth import namedata as nd
from commonground.synth.arrays import FloatArray, IntArray, ObjArray, ints, texts

GROUPS = ("british", "south_asian", "east_european", "african")
GROUP_SHARES = (0.84, 0.08, 0.04, 0.04)
"""Share of households by the community their names come from (a rough English town)."""

TAIL_SHARE = 0.40
"""Share of British family names drawn from the composed long tail rather than the common list."""

_NAME_COLUMN = FEEDS["ed_attendances"].column("given_name")

_KEYBOARD = {
    "a": "qswz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}


@dataclass(frozen=True)
class Pool:
    """A weighted list of vocabulary indices."""

    index: IntArray
    cum: FloatArray

    def draw(self, rng: np.random.Generator, n: int) -> IntArray:
        if n == 0:
            return ints()
        pos = np.minimum(np.searchsorted(self.cum, rng.random(n), side="right"), len(self.index) - 1)
        return self.index[pos]


def _pool(index: IntArray, weights: FloatArray) -> Pool:
    cum = np.cumsum(weights / weights.sum())
    cum[-1] = 1.0
    return Pool(index=index, cum=cum)


def _zipf(n: int, offset: float, exponent: float = 1.0) -> FloatArray:
    return np.asarray(1.0 / (np.arange(n) + offset) ** exponent, dtype=np.float64)


def ascii_fold(name: str) -> str:
    """The name as a system without accents would hold it (Siân -> Sian, Łukasz -> Lukasz)."""
    swapped = name.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", swapped) if not unicodedata.combining(c))


@dataclass(frozen=True)
class NameBook:
    """The vocabularies and weighted pools of one synthetic area."""

    given: ObjArray
    family: ObjArray
    given_pools: dict[tuple[int, int, int], Pool]  # (group, sex, cohort) -> pool
    family_pools: tuple[Pool, ...]  # by group
    variant_ptr: IntArray  # CSR of nickname variants by given index
    variant_idx: IntArray
    given_ascii: ObjArray
    family_ascii: ObjArray

    def draw_given(self, rng: np.random.Generator, group: IntArray, sex: IntArray, birth_year: IntArray) -> IntArray:
        """A given name for each person, by community, sex (0 female, 1 male) and birth cohort."""
        cohort = np.searchsorted(np.asarray(nd.COHORT_BOUNDS), birth_year, side="right")
        cohort = np.minimum(cohort, len(nd.COHORT_BOUNDS) - 1)
        out = np.zeros(len(group), dtype=np.int64)
        for (g, s, c), pool in self.given_pools.items():
            mask = (group == g) & (sex == s)
            if g == 0:  # British names follow the birth cohort; the other lists do not
                mask &= cohort == c
            n = int(mask.sum())
            if n:
                out[mask] = pool.draw(rng, n)
        return out

    def draw_family(self, rng: np.random.Generator, group: IntArray) -> IntArray:
        """A family name for each household or person, by community."""
        out = np.zeros(len(group), dtype=np.int64)
        for g, pool in enumerate(self.family_pools):
            mask = group == g
            n = int(mask.sum())
            if n:
                out[mask] = pool.draw(rng, n)
        return out

    def has_variants(self, given: IntArray) -> IntArray:
        """How many nicknames or alternative spellings each given name has."""
        return self.variant_ptr[given + 1] - self.variant_ptr[given]


def build_namebook(rng: np.random.Generator) -> NameBook:
    """The area's name vocabularies. The long tail of family names depends on the seed."""
    given_lists: list[tuple[int, int, int, tuple[str, ...]]] = []
    for c, (female, male) in enumerate(zip(nd.BRITISH_FEMALE, nd.BRITISH_MALE, strict=True)):
        given_lists += [(0, 0, c, female), (0, 1, c, male)]
    for g, female, male in (
        (1, nd.SOUTH_ASIAN_FEMALE, nd.SOUTH_ASIAN_MALE),
        (2, nd.EAST_EUROPEAN_FEMALE, nd.EAST_EUROPEAN_MALE),
        (3, nd.AFRICAN_FEMALE, nd.AFRICAN_MALE),
    ):
        given_lists += [(g, 0, 0, female), (g, 1, 0, male)]
    words: dict[str, int] = {}
    for *_, names in given_lists:
        for name in names:
            words.setdefault(name, len(words))
    for name, variants in nd.NICKNAMES.items():
        for v in (name, *variants):
            words.setdefault(v, len(words))
    given = texts(list(words))
    given_pools = {
        (g, s, c): _pool(ints([words[n] for n in names]), _zipf(len(names), 4.0)) for g, s, c, names in given_lists
    }
    ptr = [0]
    flat: list[int] = []
    for name in words:
        flat += [words[v] for v in nd.NICKNAMES.get(name, ())]
        ptr.append(len(flat))

    family_words, family_pools = _family_vocab(rng)
    family = texts(family_words)
    return NameBook(
        given=given,
        family=family,
        given_pools=given_pools,
        family_pools=family_pools,
        variant_ptr=ints(ptr),
        variant_idx=ints(flat),
        given_ascii=texts([ascii_fold(n) for n in given]),
        family_ascii=texts([ascii_fold(n) for n in family]),
    )


def _family_vocab(rng: np.random.Generator) -> tuple[list[str], tuple[Pool, ...]]:
    words: dict[str, int] = {}

    def add(names: list[str] | tuple[str, ...]) -> IntArray:
        return ints([words.setdefault(n, len(words)) for n in names])

    british = add(nd.BRITISH_FAMILY)
    composed = [p + s for p in nd.TAIL_PREFIXES for s in nd.TAIL_SUFFIXES]
    composed = [n for n in composed if n not in words]
    rng.shuffle(composed)
    top = list(nd.BRITISH_FAMILY[:60])
    pairs = rng.choice(len(top), size=(150, 2))
    barrelled = [f"{top[a]}-{top[b]}" for a, b in pairs.tolist() if a != b]
    tail = add(list(dict.fromkeys(composed + barrelled)))
    w_common = _zipf(len(british), 15.0)
    w_tail = _zipf(len(tail), 30.0, 1.1)
    weights = np.concatenate([w_common / w_common.sum() * (1 - TAIL_SHARE), w_tail / w_tail.sum() * TAIL_SHARE])
    pools = [_pool(np.concatenate([british, tail]), weights)]
    for names in (nd.SOUTH_ASIAN_FAMILY, nd.EAST_EUROPEAN_FAMILY, nd.AFRICAN_FAMILY):
        idx = add(names)
        pools.append(_pool(idx, _zipf(len(idx), 3.0)))
    return list(words), tuple(pools)


def is_valid_name(name: str) -> bool:
    """Whether a name passes the contract's NAME check."""
    try:
        parse_cell(name, _NAME_COLUMN)
    except ValueProblem:
        return False
    return True


def typo(name: str, u: float, v: float) -> str:
    """One keying error in a name (insert, delete, substitute or transpose a letter).

    ``u`` and ``v`` are uniform draws in [0, 1). Only letters are touched, and the result is
    always a valid name (or the name unchanged when no error fits).
    """
    letters = [i for i, c in enumerate(name) if c.isalpha() and c.isascii()]
    if len(letters) < 2:
        return name
    kind = int(u * 4)
    i = letters[1 + int(v * (len(letters) - 1))]  # never the first letter: people rarely get it wrong
    c = name[i]
    near = _KEYBOARD.get(c.lower(), "e")
    sub = near[int(v * 997) % len(near)]
    sub = sub.upper() if c.isupper() else sub
    if kind == 0:
        out = name[:i] + sub + name[i:]
    elif kind == 1:
        out = name[:i] + name[i + 1 :]
    elif kind == 2:
        out = name[:i] + sub + name[i + 1 :]
    else:
        j = i - 1 if (i - 1 in letters and i > 1) else i
        out = name[:j] + name[i] + name[j] + name[i + 1 :] if j != i else name[:i] + sub + name[i + 1 :]
    return out if out != name and is_valid_name(out) else name
