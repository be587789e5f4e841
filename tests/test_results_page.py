"""The results page (vpbench.reporting.page): every table and figure of a run on one self-contained page.

The browser test renders the page in headless Chromium and checks, in the laid-out page, that every table and
every figure is visible (a box with a size, images decoded), not only present in the HTML. It runs where the
`chromium` binary is (`make test-report` installs it; `make test` skips it otherwise). Set VPBENCH_SCREENSHOT=<png>
to keep the screenshot it takes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_pipeline_render import world  # noqa: F401 - the fixture: a smoke plan with synthetic score files
from vpbench.reporting.page import render_page, write_page

CHROMIUM = next((path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None)


#: one table and one figure of each kind that matters for the layout (all of them would take a minute to render)
TABLES = ("table1", "table4", "table8")
FIGURES = ("fig1", "fig5")


@pytest.fixture(scope="module")
def page(world) -> tuple[Path, int, int]:  # noqa: F811
    """Tables and figures of the smoke plan rendered from the synthetic scores, then the page: (path, tables, figures)."""
    from vpbench.reporting.figures import render_figure
    from vpbench.reporting.tables import render_table

    plan, _ = world
    reports = Path(plan.paths.reports)
    for name in TABLES:
        render_table(plan.table_plan(name), reports / "tables", ROOT)
    for name in FIGURES:
        render_figure(plan.figure_plan(name), reports / "figures", ROOT)
    return write_page(plan, reports / "index.html", tables=TABLES, figures=FIGURES), len(TABLES), len(FIGURES)


def test_page_holds_every_table_and_figure_with_the_run_named(page) -> None:
    path, n_tables, n_figures = page
    text = path.read_text()
    assert text.count('<table class="results">') == n_tables
    assert text.count('<img alt=') == n_figures and "src=\"http" not in text  # inline: nothing to fetch
    assert 'class="banner smoke"' in text and "SMOKE RUN" in text and "mini datasets" in text
    assert text.count("[SMOKE RUN]") >= n_tables + n_figures  # every title says smoke
    assert 'class="notcomparable"' in text  # smoke cells beside the paper's


def test_page_marks_each_difference_in_words(tmp_path: Path) -> None:
    table = tmp_path / "table9.md"
    table.write_text("# Table 9\n\nCaption.\n\n| Row | Values | KITTI MS-SSIM t+1 | KITTI LPIPS t+1 |\n|---|---|---:|---:|\n"
                     "| DMVFN | paper | 88.06 | 10.70 |\n| DMVFN | reproduced (retrained) | 88.10 ± 0.20 | 12.00 ± 0.30 |\n"
                     "| DMVFN | Δ reproduced − paper | +0.04 ≈ | +1.30 ↑ |\n\n- a note\n")
    html = render_page("paper", "full run", "the paper's datasets", [("table9", table)], [])
    assert 'class="banner paper"' in html and "Configuration: paper" in html
    assert '<td class="consistent">+0.04 ≈ consistent</td>' in html and '<td class="above">+1.30 ↑ above</td>' in html
    assert '<tr class="paper first">' in html and "<li>a note</li>" in html


VISIBILITY_PROBE = """
<script>
window.addEventListener('load', () => {
  const shown = (el) => { const box = el.getBoundingClientRect(); const style = getComputedStyle(el);
    return box.width > 50 && box.height > 20 && style.display !== 'none' && style.visibility !== 'hidden'
      && parseFloat(style.opacity) > 0; };
  const tables = [...document.querySelectorAll('table.results')];
  const images = [...document.querySelectorAll('figure img')];
  const report = {tables: tables.length, tables_shown: tables.filter(shown).length,
    rows_shown: tables.map(t => [...t.querySelectorAll('tbody tr')].filter(shown).length),
    images: images.length, images_shown: images.filter(i => shown(i) && i.complete && i.naturalWidth > 0).length,
    banner: shown(document.getElementById('banner'))};
  const out = document.createElement('pre'); out.id = 'visibility'; out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>
"""


def _chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=10000", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium binary (`make test-report` installs it)")
def test_tables_and_figures_are_visible_in_headless_chromium(page, tmp_path: Path) -> None:
    path, n_tables, n_figures = page
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", VISIBILITY_PROBE + "</body>"))
    result = _chromium("--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="visibility">(.*?)</pre>', result.stdout)
    assert found, result.stderr[-2000:]
    report = json.loads(found.group(1).replace("&quot;", '"'))
    assert report["banner"]
    assert report["tables"] == report["tables_shown"] == n_tables
    assert all(rows > 0 for rows in report["rows_shown"])
    assert report["images"] == report["images_shown"] == n_figures
    # the first screen as a researcher sees it: a screenshot with more than a blank page in it
    shot = Path(os.environ.get("VPBENCH_SCREENSHOT") or tmp_path / "page.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    result = _chromium(f"--screenshot={shot}", "--window-size=1400,1000", path.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000, result.stderr[-2000:]
