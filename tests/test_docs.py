"""The project's documents: sources cite only files that the repository holds.

Comments, docstrings and documents point into ``docs/``; a reference to a document kept
elsewhere (a planning note, a ticket number, a section sign of someone else's text) means
nothing to a reader of the repository, so it is refused here. Every ``docs/…`` path named
must exist, and a section named beside it (``docs/domain.md, *Mediation*``) must be a
heading of that document.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from safecomm_core import parse_command

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"

#: Text files whose words people read: sources, documents, settings, scripts.
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".css", ""}

#: Directories that hold no project text (environments, build output); besides these, every
#: hidden directory but ``.ci`` (git's own, tools' caches, hypothesis's examples).
SKIPPED_DIRS = {"venv", "__pycache__", "build", "dist", "node_modules"}

#: References to documents outside the repository, each with why it is refused. The
#: patterns are written so that this file does not match them itself.
OUTSIDE = {
    "a planning document by its name": re.compile(r"\bplan[-]en\b|\bseed/"),
    "a sibling folder of shared notes": re.compile(r"\.\./shared|/shared/[a-z]+\.md"),
    "a ticket number": re.compile(r"\bissue\s+#?\d+", re.IGNORECASE),
    "a numbered section of another text": re.compile(r"§\s*\d"),
    # Inside docs/ the documents link to each other by bare name; elsewhere the name must
    # say where it is.
    "a design or domain document not under docs/": re.compile(r"(?<![\w/])(?:design|domain)\.md"),
}

#: A path into docs/, optionally followed by the section it points at: ``, *Heading*``.
DOCS_PATH = re.compile(r"(?<![\w/.])docs/([\w./-]+?\.(?:md|png|svg))(?:,\s+\*([^*]+)\*)?")

#: A relative Markdown link between documents of docs/: ``[text](name.md#anchor)``.
RELATIVE_LINK = re.compile(r"\]\(([\w.-]+\.md)(?:#([\w-]+))?\)")


def _skipped(directory: str) -> bool:
    hidden = directory.startswith(".") and directory != ".ci"
    return hidden or directory in SKIPPED_DIRS or directory.endswith(".egg-info")


def project_files() -> list[Path]:
    """Every text file of the repository (not the environment, the caches or git's own)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))  # never descend into them
        found += [
            Path(folder, name)
            for name in files
            if name != ".git" and Path(name).suffix in TEXT_SUFFIXES
        ]
    return sorted(found)


def headings(document: Path) -> set[str]:
    """The titles of a Markdown document's headings."""
    text = document.read_text(encoding="utf-8")
    return {m[1].strip() for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, flags=re.M)}


def anchor(title: str) -> str:
    """The anchor a heading gets on the usual Markdown hosts (lower case, dashes)."""
    kept = re.sub(r"[^\w\- ]", "", title.lower())
    return kept.replace(" ", "-")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


FILES = project_files()


def test_the_scan_sees_the_sources_and_the_documents() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert {"pyproject.toml", "README.md", "safecomm_core/__init__.py"} <= names
    assert {"docs/README.md", "docs/architecture.md", "docs/domain.md", "docs/howto.md"} <= names
    assert not any(n.startswith(".venv/") for n in names)


def test_no_reference_to_a_document_outside_the_repository() -> None:
    found = []
    for path in FILES:
        text = path.read_text(encoding="utf-8", errors="replace")
        in_docs = path.is_relative_to(DOCS)
        found += [
            f"{path.relative_to(ROOT)}:{_line(text, m.start())}: {why}: {m[0]!r}"
            for why, pattern in OUTSIDE.items()
            if not (in_docs and why.startswith("a design or domain"))
            for m in pattern.finditer(text)
        ]
    assert not found, "\n".join(found)


def test_docs_paths_named_exist() -> None:
    wrong = []
    for path in FILES:
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in DOCS_PATH.finditer(text):
            target, section = DOCS / m[1], m[2]
            where = f"{path.relative_to(ROOT)}:{_line(text, m.start())}"
            if not target.is_file():
                wrong.append(f"{where}: docs/{m[1]} does not exist")
            elif section is not None and " ".join(section.split()) not in headings(target):
                wrong.append(f"{where}: docs/{m[1]} has no section {section!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("document", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_links_between_documents_resolve(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    wrong = []
    for m in RELATIVE_LINK.finditer(text):
        target = DOCS / m[1]
        if not target.is_file():
            wrong.append(f"{document.name}: link to missing {m[1]}")
        elif m[2] is not None and m[2] not in {anchor(h) for h in headings(target)}:
            wrong.append(f"{document.name}: {m[1]} has no heading for #{m[2]}")
    assert not wrong, "\n".join(wrong)


def test_commands_shown_in_the_documents_parse() -> None:
    shown = [
        json.loads(block)
        for document in sorted(DOCS.glob("*.md"))
        for block in re.findall(r"```json\n(.+?)\n```", document.read_text(encoding="utf-8"), re.S)
    ]
    commands = [c for c in shown if isinstance(c, dict) and {"type", "command_id"} <= c.keys()]
    assert commands
    for data in commands:
        assert data["type"] == parse_command(data).TYPE


def test_the_checks_catch_what_they_are_for() -> None:
    # The patterns above are only as good as what they match: hold them to examples.
    def refused(line: str) -> list[str]:
        return [why for why, pattern in OUTSIDE.items() if pattern.search(line)]

    assert refused("see " + "plan" + "-en.md")
    assert refused("(Issue " + "12)")
    assert refused("(design \u00a74.5)")
    assert refused("../" + "shared/notes.md")
    assert refused("as " + "domain" + ".md says")
    assert not refused("see docs/" + "domain" + ".md, *Mediation*")
    assert not refused("人民调解法 Art. 33; an issue with the store")
    m = DOCS_PATH.search("(docs/architecture.md,\n    *Two times*)")
    assert m is not None
    assert (m[1], m[2]) == ("architecture.md", "Two times")
    assert anchor("The event-log boundary") == "the-event-log-boundary"
