"""Indonesian personal names, normalised so that spellings of one name compare equal.

Registries write the same person as "H. MUHAMMAD  Rizki, S.Pd.", "Muhamad Rizki" or
"M. Rizki". `name_key()` drops titles and punctuation, folds case and spacing, maps the usual
spelling variants to one form and rewrites the pre-1972 spelling (oe, dj, tj) to today's. The
key is used to flag likely duplicates for a person to review; it never merges anyone.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Academic, religious and courtesy titles, written without dots or spaces (after folding).
# Degrees (S.Pd., M.Si., A.Md.) come after the name, honorifics (H., Hj., Drs., Ir.) before.
_TITLES = frozenset(
    [
        "h",
        "hj",
        "haji",
        "hajjah",
        "kh",
        "kyai",
        "kiai",
        "ust",
        "ustadz",
        "ustad",
        "ustadzah",
        "drs",
        "dra",
        "dr",
        "ir",
        "prof",
        "tn",
        "ny",
        "nn",
        "sdr",
        "sdri",
        "bpk",
        "bp",
        "ibu",
        "pak",
        "alm",
        "almh",
        "almarhum",
        "almarhumah",
        "spd",
        "spdi",
        "spdsd",
        "sag",
        "sag",
        "sh",
        "she",
        "sei",
        "se",
        "sip",
        "sk",
        "sikom",
        "skom",
        "st",
        "sth",
        "sp",
        "spt",
        "spsi",
        "ssos",
        "sos",
        "ssi",
        "ss",
        "sn",
        "sked",
        "skep",
        "skm",
        "sfarm",
        "sgz",
        "sst",
        "shut",
        "ssy",
        "sds",
        "stp",
        "sth",
        "ns",
        "ners",
        "apt",
        "mpd",
        "mpdi",
        "msi",
        "msc",
        "mm",
        "mh",
        "mag",
        "mt",
        "mkes",
        "mkom",
        "mkn",
        "ma",
        "mba",
        "mpsi",
        "ma",
        "amd",
        "amdkep",
        "amdkeb",
        "amdkes",
        "amdpd",
        "ama",
        "ampd",
    ]
)

# Spelling variants of common name parts -> one canonical spelling.
_VARIANTS = {
    **dict.fromkeys(
        [
            "m",
            "muh",
            "moh",
            "mhd",
            "mhmd",
            "moch",
            "mochamad",
            "mochammad",
            "mochamat",
            "mohamad",
            "mohammad",
            "mohamed",
            "mohammed",
            "muhamad",
            "muhammad",
            "muhamat",
            "muhammed",
            "muchamad",
            "muchammad",
            "muhamed",
            "mukhamad",
            "mukhammad",
        ],
        "muhammad",
    ),
    **dict.fromkeys(["ahmad", "achmad", "akhmad", "ahmat", "achmat", "akhmat", "amad"], "ahmad"),
    **dict.fromkeys(["abd", "abdul", "abdoel"], "abdul"),
    **dict.fromkeys(["siti", "sitti", "sity"], "siti"),
    **dict.fromkeys(["nur", "noor", "nuur"], "nur"),
    **dict.fromkeys(["yusuf", "yusup", "jusuf", "joesoef"], "yusuf"),
}

_SPLIT = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """Lower case ASCII letters and spaces only (accents removed, punctuation to spaces)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _SPLIT.sub(" ", text).strip()


def _old_spelling(word: str) -> str:
    # Ejaan Soewandi (before 1972): oe -> u, dj -> j, tj -> c, nj -> ny, sj -> sy, ch -> kh.
    return (
        word.replace("oe", "u")
        .replace("dj", "j")
        .replace("tj", "c")
        .replace("nj", "ny")
        .replace("sj", "sy")
        .replace("ch", "kh")
    )


@functools.lru_cache(maxsize=1 << 16)  # the same names recur all through a registry
def name_key(name: str) -> str:
    """The normalised form of a name; '' when nothing but titles is left.

    "H. Muhamad  Rizki, S.Pd." -> "muhammad rizki"; "Moch. Soekarno" -> "muhammad sukarno".
    """
    words = []
    for token in re.split(r"[\s,;/]+", name):
        folded = fold(token)
        # "S.Pd.I" folds to "s pd i": judge the token as a whole before its parts.
        if not folded or folded.replace(" ", "") in _TITLES:
            continue
        for word in folded.split():
            if word in _TITLES:
                continue
            word = _VARIANTS.get(word, word)
            modern = _old_spelling(word)
            words.append(_VARIANTS.get(modern, modern))
    return " ".join(words)


def search_terms(query: str) -> list[str]:
    """The words of a name query in the same normalised form as `name_key()`."""
    return [w for w in name_key(query).split() if w]
