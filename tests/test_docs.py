"""The docs do not rot: embedded pictures exist, are the ones make_pictures.py draws,
and show what the current code draws; the README starts with its two commands."""

from __future__ import annotations

import importlib.util
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import graphc as gc

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMG = DOCS / "img"
README = ROOT / "README.md"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
_LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")


def generator_sources() -> str:
    """The scripts that may write into docs/img besides make_pictures.py."""
    return "\n".join(f.read_text(encoding="utf-8") for d in ("benchmarks", "examples")
                     for f in sorted((ROOT / d).glob("*.py")))


def markdown_files() -> list[Path]:
    return sorted(DOCS.glob("*.md")) + ([README] if README.exists() else [])


def links(md: Path, images: bool) -> list[str]:
    """Relative link targets in ``md`` (images only, or other links only)."""
    text = md.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    return [target.split("#")[0] for bang, target in _LINK.findall(text)
            if bool(bang) == images and not re.match(r"[a-z]+:", target)
            and target.split("#")[0]]


def make_pictures():
    spec = importlib.util.spec_from_file_location("make_pictures", DOCS / "make_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pictures() -> dict:
    return make_pictures().pictures()


def test_docs_embed_pictures():
    embedded = [t for md in markdown_files() for t in links(md, images=True)]
    assert any("img/" in t for t in embedded), "the teaching guide shows no pictures"


@pytest.mark.parametrize("md", markdown_files(), ids=lambda p: p.name)
def test_every_embedded_picture_exists(md):
    for target in links(md, images=True):
        path = (md.parent / target).resolve()
        assert path.is_file(), f"{md.name}: ![...]({target}) is missing"
        assert path.stat().st_size > 0


RELATIVE_LINKS = [(md, t) for md in markdown_files() for t in links(md, images=False)]


@pytest.mark.parametrize("md, target", RELATIVE_LINKS,
                         ids=[f"{md.name}:{t}" for md, t in RELATIVE_LINKS])
def test_every_relative_link_exists(md, target, request):
    assert (md.parent / target).exists(), f"{md.name}: [...]({target}) is missing"


def test_make_pictures_names_match_docs_img(pictures):
    made = set(pictures)
    on_disk = {p.name for p in IMG.iterdir() if p.suffix == ".svg"}
    assert made <= on_disk, f"not generated yet: {sorted(made - on_disk)}"
    # every other picture there must come from a benchmark or example that writes it
    others = generator_sources()
    strays = {name for name in on_disk - made if name not in others}
    assert not strays, f"pictures nothing generates: {sorted(strays)}"


def test_every_picture_in_the_guide_is_generated(pictures):
    embedded = {Path(t).name for md in markdown_files() for t in links(md, images=True)
                if "img/" in t}
    others = generator_sources()
    assert {n for n in embedded if n not in others} <= set(pictures)


def _texts(svg: bytes) -> list[str]:
    return sorted("".join(t.itertext()) for t in ET.fromstring(svg).iter(SVG_TEXT))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")
@pytest.mark.parametrize("name", sorted(make_pictures().pictures()))
def test_committed_pictures_are_not_stale(pictures, name):
    from graphc.teach.render import pipe

    g, kwargs = pictures[name]
    fresh = _texts(pipe(gc.render(g, **kwargs), "svg"))
    committed = _texts((IMG / name).read_bytes())
    assert committed == fresh, f"{name}: rerun python docs/make_pictures.py"


def test_committed_steps_page_is_not_stale():
    from graphc.teach.steps import frames

    index = DOCS / "steps" / "index.html"
    if not index.exists():
        pytest.skip("docs/steps has not been generated")
    mp = make_pictures()
    captions = [c for c, _ in frames(gc.load(ROOT / "examples" / "colah.gc"), mp.COLAH_AT)]
    html = index.read_text(encoding="utf-8")
    assert re.findall(r"<figcaption>(.*?)</figcaption>", html) == captions
    assert len(list((DOCS / "steps").glob("frame_*.svg"))) == len(captions)


# ---- README ------------------------------------------------------------------------

def readme_commands() -> list[str]:
    if not README.exists():
        pytest.skip("README.md does not exist yet")
    text = README.read_text(encoding="utf-8")
    m = re.search(r"```[^\n]*\n(.*?)```", text, re.S)
    assert m, "README.md has no code block"
    assert text.index(m.group(0)) < 200, "the commands are not among the first lines"
    return [line.strip() for line in m.group(1).splitlines() if line.strip()]


def test_readme_starts_with_two_commands():
    commands = readme_commands()
    assert len(commands) == 2, commands
    main, tests = commands
    assert "setup.sh" in main and "demo" in main
    assert "setup.sh" in tests and "pytest" in tests
    assert (ROOT / "setup.sh").is_file()


def test_ci_runs_the_readme_test_command():
    tests = readme_commands()[1]
    ci = ROOT / ".ci" / "run"
    assert ci.is_file()
    assert tests in ci.read_text(encoding="utf-8")


def test_the_readmes_emitted_code_is_what_graphc_emits():
    golden = (ROOT / "tests" / "golden" / "colah_grad.py").read_text(encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    shown = text.split("```python\ndef value_and_grad(a, b):")[1].split("```")[0]
    assert "def value_and_grad(a, b):" + shown in golden
