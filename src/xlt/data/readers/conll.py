"""Token tagging: CoNLL-2003, MasakhaNER 1.0/2.0 and PAN-X (IOB2 NER), and Universal Dependencies CoNLL-U
(UPOS).

Quirks handled: CoNLL-2003 has 4 space-separated columns and -DOCSTART- lines, which are not sentences;
MasakhaNER has 'token tag' lines and a BOM at the start of luo/train.txt (removed by read_text); PAN-X (in
XTREME's layout) has 'token<TAB>tag' lines with no language prefix on the tokens. The NER
readers keep only the entity types both sides share (PER, ORG, LOC): CoNLL's MISC and MasakhaNER's DATE have
no counterpart on the other side and become O. CoNLL-U multi-word token ranges (3-4) and empty nodes (5.1)
are skipped, so the rows hold the syntactic words, which are what the UPOS tags annotate.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from xlt.data.files import malformed, read_text

SHARED_ENTITY_TYPES = ("PER", "ORG", "LOC")
UPOS_TAGS = frozenset(
    {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT"}
    | {"SCONJ", "SYM", "VERB", "X"}
)
_DOCSTART = "-DOCSTART-"


def keep_entity_types(tag: str, entity_types: Collection[str] = SHARED_ENTITY_TYPES) -> str:
    """An IOB2 tag unchanged if its entity type is kept, else O (e.g. B-MISC -> O, I-DATE -> O)."""
    if tag == "O":
        return tag
    return tag if tag[2:] in entity_types else "O"


def _is_iob2(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


def _sentences(path: Path) -> Iterator[list[tuple[int, str]]]:
    """Blank-line-separated blocks of (line number, line)."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _read_iob(
    path: Path, columns: int, entity_types: Collection[str] | None, separator: str = " "
) -> list[dict[str, Any]]:
    """Columns split by `separator`, the token first and the NER tag last; None keeps every entity type."""
    examples: list[dict[str, Any]] = []
    for block in _sentences(path):
        tokens, tags = [], []
        for line, text in block:
            if text.startswith(_DOCSTART):
                continue
            fields = text.split(separator)
            if len(fields) != columns:
                kind = "TAB" if separator == "\t" else "space"
                raise malformed(
                    path, line, f"expected {columns} {kind}-separated columns, found {len(fields)}"
                )
            tag = fields[-1]
            if not _is_iob2(tag):
                raise malformed(path, line, f"tag {tag!r} is not an IOB2 tag (O, B-TYPE or I-TYPE)")
            tokens.append(fields[0])
            tags.append(tag if entity_types is None else keep_entity_types(tag, entity_types))
        if tokens:
            examples.append({"id": str(len(examples)), "tokens": tokens, "tags": tags})
    return examples


def read_conll2003(
    path: Path, *, entity_types: Collection[str] | None = SHARED_ENTITY_TYPES
) -> list[dict[str, Any]]:
    """token, POS, chunk, NER per line; -DOCSTART- lines dropped; MISC -> O unless entity_types says else."""
    return _read_iob(path, 4, entity_types)


def read_masakhaner(
    path: Path, *, entity_types: Collection[str] | None = SHARED_ENTITY_TYPES
) -> list[dict[str, Any]]:
    """'token tag' per line (MasakhaNER 1.0 and 2.0); DATE -> O unless entity_types says else."""
    return _read_iob(path, 2, entity_types)


def read_panx(
    path: Path, *, entity_types: Collection[str] | None = SHARED_ENTITY_TYPES
) -> list[dict[str, Any]]:
    """'token<TAB>tag' per line (PAN-X / WikiANN as XTREME lays it out: PER, ORG and LOC only)."""
    return _read_iob(path, 2, entity_types, separator="\t")


def read_conllu_upos(path: Path) -> list[dict[str, Any]]:
    """Syntactic words and their UPOS tags; the id is the sentence's sent_id, else its index in the file."""
    examples: list[dict[str, Any]] = []
    for block in _sentences(path):
        sent_id = None
        tokens, tags = [], []
        for line, text in block:
            if text.startswith("#"):
                key, separator, value = text[1:].partition("=")
                if separator and key.strip() == "sent_id":
                    sent_id = value.strip()
                continue
            fields = text.split("\t")
            if len(fields) != 10:
                raise malformed(path, line, f"expected 10 TAB-separated CoNLL-U columns, found {len(fields)}")
            word_id, form, upos = fields[0], fields[1], fields[3]
            if "-" in word_id or "." in word_id:
                continue
            if not word_id.isdigit():
                raise malformed(
                    path, line, f"ID {word_id!r} is not a word index, range (3-4) or empty node (5.1)"
                )
            if upos not in UPOS_TAGS:
                raise malformed(path, line, f"UPOS {upos!r} is not a Universal POS tag")
            tokens.append(form)
            tags.append(upos)
        if not tokens:
            raise malformed(path, block[0][0], "sentence has no word lines")
        examples.append({"id": sent_id or str(len(examples)), "tokens": tokens, "tags": tags})
    return examples
