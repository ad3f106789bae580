"""TweetEval and XLM-T UMSAB: line-aligned {split}_text.txt and {split}_labels.txt (single classification).

Quirks handled: the UMSAB files have no terminator on their last line; some TweetEval hate tweets are
empty lines, which are kept because dropping them would shift the alignment with the labels file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlt.data.files import malformed
from xlt.data.readers.tatoeba import read_aligned_lines


def read_tweet_classification(
    text_path: Path, labels_path: Path, *, directory_ids: bool = False
) -> list[dict[str, Any]]:
    """One row per tweet; labels are the integer class ids of the task's mapping.txt (0/1/2 for UMSAB).

    The id is the line index; with directory_ids it is '<directory>-<index>', so that the rows of several
    directories in one split (TweetEval stance's five targets) keep distinct ids."""
    prefix = f"{text_path.parent.name}-" if directory_ids else ""
    examples = []
    for index, (text, raw) in enumerate(read_aligned_lines(text_path, labels_path)):
        label = raw.strip()
        if not (label.isascii() and label.isdigit()):
            raise malformed(labels_path, index + 1, f"label {raw!r} is not a non-negative integer")
        examples.append({"id": f"{prefix}{index}", "text": text, "label": int(label)})
    return examples
