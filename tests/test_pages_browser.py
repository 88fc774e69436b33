"""The HTML pages in a real browser: Debian's chromium driven by Playwright (setup.sh
installs it; nothing is downloaded). Keys and buttons move one step, the caption and
the highlighted code line match the step, no console errors, no network requests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import graphc as gc
from graphc.teach.steps import frames, stepper, write_steps

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
NEURON_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not "
                       "installed (apt-get install chromium; setup.sh test does it)"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def open_page(browser):
    """A page that records console errors and every request; checks them at the end."""
    pages = []

    def open_(url: str):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.errors, page.requests = [], []
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("request", lambda r: page.requests.append(r.url))
        page.goto(url)
        pages.append((page, url))
        return page

    yield open_
    for page, url in pages:
        assert page.errors == []
        assert page.requests == [url]  # the page itself, nothing else
        page.close()


@pytest.fixture(scope="module")
def neuron_page(tmp_path_factory):
    g = gc.load(ROOT / "examples" / "neuron.gc")
    out = tmp_path_factory.mktemp("steps")
    write_steps(g, NEURON_AT, out)
    return (out / "index.html").as_uri(), [c for c, _ in frames(g, NEURON_AT)]


def shown(page, root=".graphc-steps") -> tuple[int, str, list[str]]:
    """(step number, visible caption, highlighted code lines) of one stepper."""
    r = page.locator(root)
    count = r.locator(".count").inner_text()
    assert count.startswith("step ")
    caption = r.locator(".frame:not([hidden]) figcaption")
    assert caption.count() == 1
    lines = [t.strip() for t in r.locator(".code .line.now").all_inner_texts()]
    return int(count.split()[1]), caption.inner_text(), lines


def test_keys_and_buttons_move_one_step(open_page, neuron_page):
    url, captions = neuron_page
    page = open_page(url)
    assert shown(page)[0] == 1
    moves = [("key", "ArrowRight", 2), ("key", " ", 3), ("click", "next", 4),
             ("key", " ", 5),  # Space on the focused ▶ presses it once: one step
             ("click", "prev", 4), ("key", " ", 3),  # ... and on ◀, one step back
             ("key", "ArrowLeft", 2), ("key", "End", len(captions)),
             ("key", "ArrowRight", len(captions)), ("click", "first", 1),
             ("key", "ArrowLeft", 1), ("click", "last", len(captions)), ("key", "Home", 1)]
    for kind, what, want in moves:
        if kind == "key":
            page.keyboard.press(what)
        else:
            page.click(f".graphc-steps button[data-go={what}]")
        step, caption, _ = shown(page)
        assert step == want, (kind, what)
        assert caption == captions[step - 1]


def test_each_caption_shows_once_and_the_code_follows(open_page, neuron_page):
    url, captions = neuron_page
    page = open_page(url)
    for i, caption in enumerate(captions):
        step, text, lines = shown(page)
        assert (step, text) == (i + 1, caption)
        # the caption is above the picture, not drawn in it again
        assert caption not in page.locator(".frame:not([hidden]) svg").text_content()
        if caption.startswith("forward: "):
            node = caption.split()[1]
            assert lines and lines[-1].startswith(f"{node} = "), (caption, lines)
        elif caption.startswith("the inputs"):
            assert lines == ["def value_and_grad(w0, x0, w1, x1, w2):"]
        elif caption.startswith("done"):
            assert lines[-1].startswith("return f, {")
        elif caption.startswith("backward: ∂f/∂"):  # the adjoint it pushes is computed
            assert lines and any(" = " in ln and "_bar" in ln.split(" = ")[0]
                                 for ln in lines), (caption, lines)
        page.keyboard.press("ArrowRight")


def test_buttons_have_labels_and_drawn_icons(open_page, neuron_page):
    page = open_page(neuron_page[0])
    buttons = page.locator(".graphc-steps nav button")
    assert buttons.count() == 4
    for i in range(4):
        b = buttons.nth(i)
        assert b.get_attribute("aria-label") and b.get_attribute("title")
        assert b.inner_text().strip() in ("first", "back", "next", "last")
        icon = b.locator(".icon i").first.bounding_box()  # drawn, not a font's glyph
        assert icon is not None and icon["width"] > 1 and icon["height"] > 1


def test_two_steppers_in_one_notebook_step_on_their_own(open_page, tmp_path):
    colah, at = gc.load(ROOT / "examples" / "colah.gc"), {"a": 2, "b": 1}
    one, two = stepper(colah, at)._repr_html_(), stepper(colah, at)._repr_html_()
    path = tmp_path / "notebook.html"
    # as Jupyter shows outputs: one after the other in one document; the second is
    # added later and its script run by eval (no document.currentScript), as classic
    # Jupyter does
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    f'<div id="out1">{one}</div><div id="out2"></div></body></html>',
                    encoding="utf-8")
    page = open_page(path.as_uri())
    page.evaluate("""(html) => {
        const out = document.getElementById("out2");
        out.innerHTML = html;
        out.querySelectorAll("script").forEach((s) => window.eval(s.textContent));
    }""", two)
    first, second = "#out1 .graphc-steps", "#out2 .graphc-steps"
    page.click(f"{second} button[data-go=next]")
    page.click(f"{second} button[data-go=next]")
    assert shown(page, first)[0] == 1 and shown(page, second)[0] == 3
    page.click(f"{first} button[data-go=last]")
    assert shown(page, first)[0] == 9 and shown(page, second)[0] == 3
    page.keyboard.press("ArrowLeft")  # the focused stepper's keys: not the page's
    assert shown(page, first)[0] == 8 and shown(page, second)[0] == 3


SMALLEST_TEXT = """() => {
    const svg = document.querySelector(".frame:not([hidden]) svg");
    let least = Infinity;
    for (const t of svg.querySelectorAll("text")) {
        const m = t.getScreenCTM();  // the text's units to screen pixels, viewBox included
        least = Math.min(least, parseFloat(t.getAttribute("font-size")) * Math.hypot(m.a, m.b));
    }
    return least;
}"""


@pytest.mark.parametrize("name, at, least, gain", [
    ("neuron", NEURON_AT, 10.0, 2.5),  # 3.9 px before, 10.8 now
    pytest.param("black_scholes", {"S": 100, "K": 100, "T": 1, "r": 0.05, "sigma": 0.2},
                 6.5, 2.5, marks=pytest.mark.slow),  # 43 frames, twice; 2.3 px, 6.9 now
    ("colah", {"a": 2, "b": 1}, 13.0, 1.0),  # narrower than the column: as it was, 13.3
])
def test_a_wide_graphs_frames_stay_readable_in_the_column(open_page, tmp_path, monkeypatch,
                                                          name, at, least, gain):
    """The smallest text of a frame as a 1400 x 900 window shows the stepper, in pixels
    (its font size times the scale the page draws it at, as tests/test_slide_fit.py reads
    a slide): a picture wider than the column of frames shrinks to fit it, so a wide
    graph's frames take the slide style's compact labels, in the direction that shows
    them larger. Before, with ``COLUMN`` out of reach, every frame had the full labels."""
    import graphc.teach.steps as steps_mod

    g, seen = gc.load(ROOT / "examples" / f"{name}.gc"), []
    for column in (float("inf"), steps_mod.COLUMN):
        monkeypatch.setattr(steps_mod, "COLUMN", column)
        out = tmp_path / str(column)
        write_steps(g, at, out)
        page = open_page((out / "index.html").as_uri())
        page.click("button[data-go=last]")  # every frame has the one canvas
        seen.append(page.evaluate(SMALLEST_TEXT))
    before, after = seen
    assert after >= least
    assert after == pytest.approx(before) if gain == 1 else after >= gain * before


@pytest.fixture(scope="module")
def exercises(tmp_path_factory):
    from graphc.teach.exercise import exercise

    g, out = gc.load(ROOT / "examples" / "neuron.gc"), tmp_path_factory.mktemp("exercise")
    for hide in ("adjoints", "derivatives"):
        exercise(g, NEURON_AT, hide).save(out / f"{hide}.html")
    return out


def rows(page) -> list[tuple[str, str]]:
    return [(t.split(" =")[0], page.locator("tr[data-want]").nth(i).get_attribute("data-want"))
            for i, t in enumerate(page.locator("tr[data-want] th").all_inner_texts())]


@pytest.mark.parametrize("hide", ["adjoints", "derivatives"])
def test_exercise_checks_answers_against_graphc(open_page, exercises, hide):
    from graphc.ir.numbering import teaching
    from graphc.teach.render import full_scene

    g, _ = teaching(gc.load(ROOT / "examples" / "neuron.gc"))  # t1, t2, ... as the page's
    full = full_scene(g, NEURON_AT, "f")
    want = {f"∂f/∂{n}": v for n, v in full.second.items() if n != "f"} if hide == "adjoints" \
        else {f"∂{v}/∂{a}": d for (a, v, _), d in full.edge_values.items()}
    page = open_page((exercises / f"{hide}.html").as_uri())
    asked = rows(page)
    assert sorted(q for q, _ in asked) == sorted(want)
    # the picture gives nothing away: no adjoint but the seed, or no edge's number
    picture = page.locator("svg").first.text_content()
    assert ("∂f/∂w0" not in picture) if hide == "adjoints" else ("= ?" in picture)
    inputs = page.locator("tr[data-want] input")
    answers = [f"{float(want[q]):.4g}" for q, _ in asked]
    answers[0] = f"({answers[0]}) * 2 + 1"  # arithmetic counts; this one is wrong
    if len(answers) > 1:
        answers[1] = "import('x')"  # not arithmetic: refused, never run
    for i, text in enumerate(answers):
        inputs.nth(i).fill(text)
    inputs.nth(0).press("Enter")
    verdicts = page.locator(".verdict").all_inner_texts()
    wrong_first = float(want[asked[0][0]]) * 2 + 1 != float(want[asked[0][0]])
    assert verdicts[0] == ("not yet" if wrong_first else "right")
    assert verdicts[1] == "not a number"
    assert verdicts[2:] == ["right"] * (len(answers) - 2)
    assert page.locator(".score").inner_text() == \
        f"{len(answers) - 2 + (not wrong_first)} of {len(answers)} right"
    page.locator(".reveal").nth(2).click()
    assert page.locator(".how").nth(2).is_visible()
    assert page.locator(".how").nth(2).inner_text().endswith(answers[2])


def test_two_exercises_in_one_notebook_check_on_their_own(open_page, tmp_path):
    from graphc.teach.exercise import exercise

    g = gc.load(ROOT / "examples" / "colah.gc")
    parts = [exercise(g, {"a": 2, "b": 1}, hide)._repr_html_()
             for hide in ("adjoints", "derivatives")]
    path = tmp_path / "notebook.html"
    path.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    + "".join(f'<div id="out{i}">{p}</div>' for i, p in enumerate(parts))
                    + "</body></html>", encoding="utf-8")
    page = open_page(path.as_uri())
    page.locator("#out1 tr[data-want] input").first.fill("1")  # ∂c/∂a = 1
    page.click("#out1 button.check")
    assert page.locator("#out1 .score").inner_text() == "1 of 5 right"
    assert page.locator("#out0 .score").inner_text() == ""
