"""The files of each split and language as a task file may write them, made explicit before validation.

A split's files are a mapping of language to entries (a bare path, a mapping with `path`, or a list of
either), or a pattern block `{pattern, languages, codes}` whose `{lang}` placeholder is filled in with each
language and whose `{code}` placeholder with the language's name in the upstream layout (e.g. a UMSAB
directory), so a 112-language task stays one readable line per split. A top-level `languages:` keeps only
some languages of some splits, which is how a task that includes another narrows it without re-listing
files.
"""

from __future__ import annotations

from typing import Any

from xlt.core.errors import did_you_mean

PATTERN_KEYS = ("pattern", "languages", "codes")


def language_key(code: Any) -> Any:
    """YAML 1.1 reads the Norwegian code `no` as false; every other value is left for validation."""
    return "no" if code is False else code


def normalise_files(value: Any) -> Any:
    """Every split's files as {language: [entry mapping, ...]}; malformed parts are left for validation."""
    if not isinstance(value, dict):
        return value
    return {split: _split_files(split, files) for split, files in value.items()}


def _split_files(split: Any, files: Any) -> Any:
    if not isinstance(files, dict):
        return files
    if "pattern" in files:
        return _expand(split, files)
    return {language_key(language): _entries(entries) for language, entries in files.items()}


def _entries(entries: Any) -> list[Any]:
    return [{"path": entry} if isinstance(entry, str) else entry for entry in _listed(entries)]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _expand(split: Any, block: dict[str, Any]) -> dict[Any, list[Any]]:
    unknown = [key for key in block if key not in PATTERN_KEYS]
    if unknown:
        raise ValueError(
            f"files.{split}: a pattern block takes {', '.join(PATTERN_KEYS)}, not '{unknown[0]}'"
            f"{did_you_mean(str(unknown[0]), PATTERN_KEYS)}"
        )
    codes = block.get("codes") or {}
    if not isinstance(codes, dict):
        raise ValueError(f"files.{split}.codes: give a mapping of language to its code in the file paths")
    codes = {language_key(language): code for language, code in codes.items()}
    languages = [language_key(language) for language in _listed(block.get("languages", list(codes)))]
    if not languages:
        raise ValueError(f"files.{split}.languages: list the languages the pattern is filled in for")
    templates = _entries(block["pattern"])
    return {
        language: [_fill(entry, str(language), str(codes.get(language, language))) for entry in templates]
        for language in languages
    }


def _fill(template: Any, language: str, code: str) -> Any:
    """A pattern entry with {lang} and {code} replaced in its path and partner paths."""
    if not isinstance(template, dict):
        return template

    def put(text: Any) -> Any:
        return text.replace("{lang}", language).replace("{code}", code) if isinstance(text, str) else text

    filled = {**template, "path": put(template.get("path"))}
    if isinstance(template.get("partners"), list):
        filled["partners"] = [put(partner) for partner in template["partners"]]
    return filled


def normalise_languages(languages: Any) -> Any:
    """`languages:` as {split: [language, ...]}, a single language written bare."""
    if not isinstance(languages, dict):
        raise ValueError("languages: give the languages kept per split, e.g. {test: [de, sw]}")
    return {split: [language_key(code) for code in _listed(codes)] for split, codes in languages.items()}


def restrict(files: Any, languages: dict[Any, list[Any]]) -> Any:
    """The normalised files with only the languages `languages` keeps, per split and in its order."""
    if not isinstance(files, dict):
        return files
    kept = dict(files)
    for split, chosen in languages.items():
        available = files.get(split)
        if not isinstance(available, dict):
            raise ValueError(f"languages.{split}: the task has no {split} files")
        for language in chosen:
            if language not in available:
                raise ValueError(
                    f"languages.{split}: '{language}' is not a {split} language of the task"
                    f"{did_you_mean(str(language), [str(code) for code in available])} "
                    f"(it has: {', '.join(str(code) for code in available)})"
                )
        kept[split] = {language: available[language] for language in chosen}
    return kept
