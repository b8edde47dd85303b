"""The documentation a clone of the project carries: its links lead somewhere inside it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_the_docs_cover_the_domain_architecture_specifications_and_operations():
    names = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert {"README.md", "domain.md", "architecture.md", "specifications.md", "operations.md",
            "reference/nuclides.md", "reference/specifications.md"} <= names


def test_every_relative_link_in_the_readme_and_docs_points_at_a_file_in_the_project():
    broken = []
    for page in markdown_files():
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if "../shared/" in target or not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_the_reference_facts_keep_their_published_sources():
    nuclides = (ROOT / "docs/reference/nuclides.md").read_text()
    specifications = (ROOT / "docs/reference/specifications.md").read_text()
    assert "Sources: ENSDF" in nuclides and "10.1186/s40658-021-00410-6" in nuclides
    assert "Hooijman et al., Pharmaceutics 2021" in specifications
