"""summary.html renders in headless Chromium with every chart visible.

Each chart draws its bars in colors no other part of the page uses (categories, their
tinted subcategories, outcomes, cost), so counting those exact pixel colors in the
screenshot proves each chart region was drawn, not blank.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.charts import (
    OUTCOME_COLORS,
    RUN_COST_COLOR,
    category_color,
    subcategory_color,
)
from tracejury.aggregate.synthetic import generate
from tracejury.rundir import RunDir

CHROMIUM = next(
    (
        p
        for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
        if p and Path(p).exists()
    ),
    None,
)
MIN_PIXELS = 400  # a bar of a few hundred pixels at least; anti-aliased edges do not count

# A headless Chromium run takes seconds.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium not installed (apt-get install chromium; .ci/run does)"
    ),
]
Image = pytest.importorskip(
    "PIL.Image", reason="Pillow decodes the screenshot (pip install pillow)"
)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return (int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16))


def screenshot(html: Path, png: Path, profile: Path) -> None:
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1280,2000",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert png.exists(), (
        f"no screenshot (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-500:]}"
    )


def test_summary_html_renders_with_visible_charts(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    generate(rd, traces=150, perspectives=("triage", "efficiency"), tasks=12, seed=11)
    summary = aggregate_run(rd.path).summary
    png = tmp_path / "summary.png"
    screenshot(rd.summary_html, png, tmp_path / "profile")

    with Image.open(png) as img:
        assert img.size == (1280, 2000)
        colors = img.convert("RGB").getcolors(maxcolors=1 << 24) or []
    pixels: Counter[tuple[int, int, int]] = Counter({rgb: n for n, rgb in colors})

    assert len(pixels) > 200, "the page looks blank"

    def count(colors: set[str]) -> int:
        return sum(pixels[_rgb(c)] for c in colors)

    categories = {category_color(c) for c in summary.by_category}
    subcategories = {subcategory_color(c) for c in summary.by_subcategory}
    outcomes = {OUTCOME_COLORS[o] for o in ("passed", "failed", "error")}
    assert count(categories) >= MIN_PIXELS * len(categories) // 2, "category chart not drawn"
    assert count(subcategories) >= MIN_PIXELS, "subcategory chart not drawn"
    assert count(outcomes) >= MIN_PIXELS * 3, "outcome-by-task chart not drawn"
    assert count({RUN_COST_COLOR}) >= MIN_PIXELS, "cost chart not drawn"
    for o in ("passed", "failed", "error"):
        assert pixels[_rgb(OUTCOME_COLORS[o])] >= 50, f"no '{o}' segment visible"
