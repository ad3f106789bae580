"""The upstream-format readers by the names task files use (`reader: xnli-tsv`).

A reader reads one file, or one file with the partner files it needs (a Tatoeba pair's English side, a
TweetEval text file's labels file, the dev ids MRPC's train leaves out, the pool files XQuAD-R's questions
are searched in, as many as the task lists). Its options are the reader
function's parameters after the files, so a task file can pass exactly what the function takes and a
misspelt option is caught when the task loads, not when a stage reads the data.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from xlt.core.errors import did_you_mean
from xlt.data.readers.bucc import read_bucc
from xlt.data.readers.conll import read_conll2003, read_conllu_upos, read_masakhaner, read_panx
from xlt.data.readers.copa import read_copa_jsonl
from xlt.data.readers.glue import read_cola, read_mrpc, read_mrpc_train, read_rte, read_sst2
from xlt.data.readers.semrel import read_semrel_csv
from xlt.data.readers.sick import read_sick_entailment, read_sick_relatedness
from xlt.data.readers.squad import read_squad_json
from xlt.data.readers.sts import read_stsb_multi, read_stsbenchmark
from xlt.data.readers.tatoeba import read_tatoeba
from xlt.data.readers.tweet import read_tweet_classification
from xlt.data.readers.xquad_r import read_xquad_r
from xlt.data.readers.xtreme_pairs import read_pawsx_tsv, read_xnli_tsv

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class NamedReader:
    """A reader function and how many paths one call takes (the file first, then its partners); None: the
    file and any number of partners (a function `read(path, *partners, option=...)`)."""

    read: Callable[..., Rows]
    files: int | None = 1

    @cached_property
    def _parameters(self) -> list[inspect.Parameter]:
        """The function's parameters after its paths: its options."""
        parameters = list(inspect.signature(self.read).parameters.values())
        if self.files is None:
            return [p for p in parameters if p.kind == inspect.Parameter.KEYWORD_ONLY]
        return parameters[self.files :]

    @cached_property
    def options(self) -> dict[str, bool]:
        """Option name -> whether it must be given."""
        return {p.name: p.default is inspect.Parameter.empty for p in self._parameters}

    @cached_property
    def _defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self._parameters if p.default is not inspect.Parameter.empty}

    def problems(self, name: str, options: Mapping[str, Any]) -> list[str]:
        """What is wrong with the options a task file gives this reader."""
        found = []
        for option, value in options.items():
            if option not in self.options:
                takes = ", ".join(self.options) or "no options"
                found.append(
                    f"reader '{name}' has no option '{option}'{did_you_mean(option, self.options)} "
                    f"(it takes: {takes})"
                )
            elif isinstance(self._defaults.get(option), bool) and not isinstance(value, bool):
                found.append(f"reader '{name}': option '{option}' is true or false, not {value!r}")
        found.extend(
            f"reader '{name}' needs the option '{option}'"
            for option, required in self.options.items()
            if required and option not in options
        )
        return found

    def __call__(self, paths: list[Path], options: Mapping[str, Any]) -> Rows:
        return self.read(*paths, **options)


READERS: Mapping[str, NamedReader] = {
    "stsbenchmark-tsv": NamedReader(read_stsbenchmark),
    "stsb-multi-csv": NamedReader(read_stsb_multi),
    "semrel-csv": NamedReader(read_semrel_csv),
    "sick-relatedness": NamedReader(read_sick_relatedness),
    "sick-entailment": NamedReader(read_sick_entailment),
    "cola-tsv": NamedReader(read_cola),
    "sst2-tsv": NamedReader(read_sst2),
    "rte-tsv": NamedReader(read_rte),
    "mrpc-tsv": NamedReader(read_mrpc),
    "mrpc-train": NamedReader(read_mrpc_train, files=2),
    "tweet-lines": NamedReader(read_tweet_classification, files=2),
    "conll2003": NamedReader(read_conll2003),
    "masakhaner": NamedReader(read_masakhaner),
    "panx-tsv": NamedReader(read_panx),
    "conllu-upos": NamedReader(read_conllu_upos),
    "copa-jsonl": NamedReader(read_copa_jsonl),
    "squad-json": NamedReader(read_squad_json),
    "xnli-tsv": NamedReader(read_xnli_tsv),
    "pawsx-tsv": NamedReader(read_pawsx_tsv),
    "tatoeba-pair": NamedReader(read_tatoeba, files=2),
    "xquad-r": NamedReader(read_xquad_r, files=None),
    "bucc-mining": NamedReader(read_bucc, files=3),
}


def reader_problem(name: str) -> str | None:
    """None for a known reader name, else the one-line problem with a did-you-mean."""
    if name in READERS:
        return None
    return f"unknown reader '{name}'{did_you_mean(name, READERS)} (readers: {', '.join(READERS)})"
