"""BUCC 2018 bitext mining in XTREME's layout: `<src>-<tgt>.<split>.<src>` and `<src>-<tgt>.<split>.<tgt>`
with one `id<TAB>sentence` line per sentence, and `<src>-<tgt>.<split>.gold` with `src-id<TAB>tgt-id` lines.

The source sentences are the queries (the scored items) and the target sentences the candidates; a source
sentence's relevant candidates are its gold translations, and most sentences have none. Mining itself is
symmetric (`xlt.metrics.retrieval.mine_bitext`): the roles only say which side's sentences are the items.
The language of a side is its file's last suffix (`.zh`, `.en`). A line is split at its first TAB; lines are
split on '\\n' only (see `read_lines`), and a repeated id or a gold id that is in neither file is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.data.files import malformed
from xlt.data.readers.tatoeba import read_lines
from xlt.data.schema import CANDIDATE, QUERY


def _id_lines(path: Path) -> list[tuple[str, str]]:
    """(id, text) per non-blank line."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        identifier, tab, text = line.partition("\t")
        if not tab or not identifier.strip():
            raise malformed(path, number, "expected 'id<TAB>text'")
        if identifier in seen:
            raise malformed(path, number, f"id {identifier} occurs twice")
        seen.add(identifier)
        found.append((identifier, text))
    return found


def read_bucc(source: Path, target: Path, gold: Path) -> list[dict[str, Any]]:
    """Source sentences as queries with their gold translations, target sentences as candidates."""
    sources, targets = _id_lines(source), _id_lines(target)
    source_ids, target_ids = {i for i, _ in sources}, {i for i, _ in targets}
    partners: dict[str, list[str]] = {}
    for number, line in enumerate(read_lines(gold), start=1):
        if not line.strip():
            continue
        pair = line.split("\t")
        if len(pair) != 2:
            raise malformed(gold, number, "expected 'source-id<TAB>target-id'")
        for identifier, ids, side in ((pair[0], source_ids, source), (pair[1], target_ids, target)):
            if identifier not in ids:
                raise malformed(gold, number, f"{identifier} is not an id of {side.name}")
        if pair[1] not in partners.setdefault(pair[0], []):
            partners[pair[0]].append(pair[1])
    source_language, target_language = source.suffix.lstrip("."), target.suffix.lstrip(".")
    return [
        {"id": i, "role": QUERY, "language": source_language, "text": text, "relevant": partners.get(i, [])}
        for i, text in sources
    ] + [
        {"id": i, "role": CANDIDATE, "language": target_language, "text": text, "relevant": []}
        for i, text in targets
    ]
