"""The results page: one self-contained HTML file a researcher reads at a glance (``<reports>/index.html``).

Place in the flow: the last step, after the tables and figures (:mod:`vpbench.reporting.tables`,
:mod:`vpbench.reporting.figures`) and any comparison (``snakemake compare``). It reads what those wrote (each
table's Markdown and per-cell CSV, each figure's PNG, the compare outputs under ``<reports>/compare/``) and
recomputes nothing, so the page shows exactly the files beside it. What it shows, top to bottom:

* a banner: which configuration (smoke or paper), its description, which data (the smoke clips or the paper's
  datasets, where they were prepared), when the page was written;
* a summary: per table, how many reproduced cells are consistent with the paper, above it, below it, or not
  comparable (another resolution, the smoke data);
* every table with the paper's and the reproduced values on adjacent lines of each row, and each difference
  marked in words (consistent / above / below / not comparable), its notes folded under it;
* every figure inline (base64 PNG), under its title;
* the comparisons of new methods, tables and per-frame figures.

The page has no script and no external resource: it opens from disk, is archived as one file, and the
Snakemake report embeds it (``make report``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from vpbench.utils import atomic_write

#: the consistency of a cell (the tables' CSV) -> the word the page writes and its CSS class
VERDICT_WORDS = {"consistent": "consistent", "above": "above", "below": "below", "not comparable": "not comparable"}
#: the marks of the tables' Δ lines -> their word (vpbench.reporting.tables.CONSISTENCY_MARK)
MARK_WORDS = {"≈": "consistent", "↑": "above", "↓": "below"}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 2rem 3rem; color: #222; max-width: 110rem; }
.banner { position: sticky; top: 0; padding: .7rem 1rem; margin: 0 -2rem 1rem; color: #fff; z-index: 2; }
.banner.smoke { background: #b35900; } .banner.paper { background: #1f5f8b; }
.banner h1 { font-size: 1.2rem; margin: 0 0 .2rem; } .banner p { margin: 0; font-size: .85rem; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
h3 { margin: 1.6rem 0 .3rem; font-size: 1.05rem; }
p.caption { font-size: .85rem; color: #444; margin: .2rem 0 .5rem; }
table.results { border-collapse: collapse; font-size: .78rem; margin: .3rem 0; }
table.results th, table.results td { border: 1px solid #ddd; padding: .15rem .4rem; text-align: right; white-space: nowrap; }
table.results th { background: #f2f2f2; white-space: normal; min-width: 4rem; }
table.results th:nth-child(-n+2), table.results td.label, table.results td.what { text-align: left; }
table.results td.label { white-space: normal; min-width: 12rem; }
tr.paper td { color: #555; } tr.reproduced td { font-weight: 600; } tr.first td { border-top: 2px solid #999; }
td.consistent { background: #dff0d8; } td.above { background: #fbe3c8; } td.below { background: #f8d7da; }
td.notcomparable { background: #eee; color: #777; }
tr.difference td { font-size: .72rem; color: #333; } td.better { background: #dff0d8; } td.worse { background: #f8d7da; }
table.summary td, table.summary th { border: 1px solid #ddd; padding: .15rem .5rem; font-size: .8rem; }
.scroll { overflow-x: auto; }
figure { margin: .5rem 0 1.5rem; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #444; }
details { font-size: .78rem; color: #555; margin-bottom: .8rem; }
nav a { margin-right: .8rem; font-size: .85rem; }
"""


class PageError(ValueError):
    """The results page cannot be written (a table or figure it lists is missing); the message names the file."""


@dataclass
class MarkdownTable:
    """A table as ``vpbench render`` writes it in Markdown: title, caption, header, body lines and notes."""

    title: str
    caption: str
    header: list[str]
    body: list[list[str]]
    notes: list[str]


def _split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
    return [cell.strip().replace("\\|", "|") for cell in cells]


def read_markdown_tables(path: Path) -> list[MarkdownTable]:
    """The tables of a file written by :func:`vpbench.reporting.tables.to_markdown`: one, or one per ``## ``
    section (a compare table has one per protocol; the caption and notes go with the first and last)."""
    if not path.is_file():
        raise PageError(f"{path}: table not found (render it first: `vpbench render` or its Snakemake rule)")
    lines = path.read_text().splitlines()
    title = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("# ") else path.stem
    notes = [line[2:].strip() for line in lines if line.startswith("- ")]
    caption_lines: list[str] = []
    tables: list[MarkdownTable] = []
    heading, rows = "", []

    def close() -> None:
        if rows:
            name = f"{title}: {heading}" if heading else title
            tables.append(MarkdownTable(name, "", _split_row(rows[0]), [_split_row(r) for r in rows[2:]], []))

    for line in lines[1:]:
        if line.startswith("## "):
            close()
            heading, rows = line[3:].strip(), []
        elif line.startswith("|"):
            rows.append(line)
        elif line.strip() and not line.startswith("- ") and not tables and not rows and not heading:
            caption_lines.append(line.strip())
    close()
    if not tables:
        tables.append(MarkdownTable(title, "", [], [], []))
    tables[0].caption = " ".join(caption_lines)
    tables[-1].notes = notes
    return tables


def _verdict_class(text: str) -> str | None:
    """The verdict a Δ cell states ("+5.55 ↑" -> "above", "not comparable"), or None."""
    if "not comparable" in text:
        return "not comparable"
    for mark, word in MARK_WORDS.items():
        if text.endswith(mark):
            return word
    return None


def _cell_html(text: str, is_delta: bool) -> str:
    verdict = _verdict_class(text) if is_delta else None
    if verdict is None:
        return f"<td>{html.escape(text)}</td>"
    shown = text if verdict == "not comparable" else f"{text} {verdict}"
    return f'<td class="{verdict.replace(" ", "")}">{html.escape(shown)}</td>'


def _verdict_html(text: str) -> str:
    """A paired difference of a compare table, coloured by its verdict (better / worse / not distinguishable)."""
    verdict = next((v for v in ("better", "worse") if text.endswith(v)), "")
    return f'<td class="{verdict}">{html.escape(text)}</td>' if verdict else f"<td>{html.escape(text)}</td>"


def table_html(table: MarkdownTable, anchor: str) -> str:
    """One table: title, caption, the rows (paper / reproduced / Δ lines adjacent, each Δ marked in words), notes."""
    parts = [f'<h3 id="{anchor}">{html.escape(table.title)}</h3>']
    if table.caption:
        parts.append(f'<p class="caption">{html.escape(table.caption)}</p>')
    parts.append('<div class="scroll"><table class="results"><thead><tr>')
    parts += [f"<th>{html.escape(cell)}</th>" for cell in table.header]
    parts.append("</tr></thead><tbody>")
    previous = None
    for line in table.body:
        label, what = (line + ["", ""])[:2]
        kind = ("paper" if what.startswith("paper") else "delta" if what.startswith("Δ")
                else "difference" if "this row" in what else "reproduced")
        classes = [kind] + (["first"] if label != previous else [])
        previous = label
        cells = [f'<td class="label">{html.escape(label)}</td>', f'<td class="what">{html.escape(what)}</td>']
        cells += [_cell_html(text, kind == "delta") if kind != "difference" else _verdict_html(text) for text in line[2:]]
        parts.append(f'<tr class="{" ".join(classes)}">{"".join(cells)}</tr>')
    parts.append("</tbody></table></div>")
    if table.notes:
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in table.notes)
        parts.append(f"<details><summary>Notes</summary><ul>{notes}</ul></details>")
    return "\n".join(parts)


def figure_html(png: Path, title: str, caption: str, anchor: str) -> str:
    if not png.is_file():
        raise PageError(f"{png}: figure not found (render it first: `vpbench render` or its Snakemake rule)")
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<h3 id="{anchor}">{html.escape(title)}</h3><figure>'
            f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">{text}</figure>')


def consistency_counts(csv: Path) -> dict[str, int]:
    """Reproduced cells with a paper value, per consistency (the table's per-cell CSV)."""
    if not csv.is_file():
        return {}
    cells = pd.read_csv(csv, keep_default_na=True)
    marked = cells[cells["paper"].notna() & cells["reproduced"].notna()]
    counts = marked["consistency"].fillna("no interval").value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def banner_html(run: str, description: str, data: str) -> str:
    written = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    heading = ("SMOKE RUN: the pipeline on mini datasets; the numbers mean nothing" if run == "smoke"
               else "Paper configuration: the reproduction of DMVFN (CVPR 2023)")
    return (f'<div class="banner {run}" id="banner"><h1>{html.escape(heading)}</h1>'
            f"<p>Configuration: {html.escape(run)} &mdash; {html.escape(description)}</p>"
            f"<p>Data: {html.escape(data)} &middot; written {written}</p></div>")


def render_page(
    run: str, description: str, data: str, tables: Iterable[tuple[str, Path]], figures: Iterable[tuple[str, Path, str, str]],
    compare_dir: Path | None = None,
) -> str:
    """The page's HTML. ``tables``: (name, Markdown file; its CSV beside it); ``figures``: (name, PNG, title,
    caption); ``compare_dir``: where ``snakemake compare`` wrote its tables and figures (may be absent)."""
    tables, figures = list(tables), list(figures)
    compared = sorted(compare_dir.glob("*.md")) if compare_dir and compare_dir.is_dir() else []
    nav = [f'<a href="#summary">Summary</a>', '<a href="#tables">Tables</a>', '<a href="#figures">Figures</a>']
    if compared:
        nav.append('<a href="#compare">Comparisons</a>')
    body = [banner_html(run, description, data), f"<nav>{''.join(nav)}</nav>"]
    words = list(VERDICT_WORDS)
    summary = ['<h2 id="summary">Summary: reproduced vs paper</h2>',
               '<p class="caption">Reproduced cells that have a paper value, by how the paper\'s value lies against '
               "the reproduced 95% interval (widened by the table's tolerance): consistent (inside), above / below "
               "(the reproduction is higher / lower), not comparable (another resolution or the smoke data).</p>",
               '<table class="summary"><tr><th>table</th>' + "".join(f"<th>{w}</th>" for w in words) + "</tr>"]
    sections = ['<h2 id="tables">Tables</h2>']
    for name, md in tables:
        counts = consistency_counts(md.with_suffix(".csv"))
        summary.append(f'<tr><td><a href="#{name}">{html.escape(name)}</a></td>'
                       + "".join(f"<td>{counts.get(w, 0)}</td>" for w in words) + "</tr>")
        sections += [table_html(table, f"{name}-{i}" if i else name) for i, table in enumerate(read_markdown_tables(md))]
    summary.append("</table>")
    sections.append('<h2 id="figures">Figures</h2>')
    for name, png, title, caption in figures:
        sections.append(figure_html(png, title, caption, name))
    if compared:
        sections.append('<h2 id="compare">Comparisons of new methods</h2>')
        for md in compared:
            sections += [table_html(table, f"compare-{md.stem}-{i}") for i, table in enumerate(read_markdown_tables(md))]
            for png in sorted(compare_dir.glob(f"{md.stem}-steps-*.png")):
                protocol = png.stem.split("-steps-", 1)[1]
                sections.append(figure_html(png, f"{md.stem}: per-frame differences on {protocol}", "",
                                            f"compare-{png.stem}"))
    title = "vpbench results" + (" (smoke run)" if run == "smoke" else "")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body + summary + sections) + "\n</body></html>\n")


def data_description(config: Mapping[str, Any]) -> str:
    """Which data a configuration evaluates on, in words."""
    prepared = config["paths"]["prepared"]
    if config.get("raw_data") == "smoke":
        return (f"mini datasets built from the offline video clips of the pinned assets (vpbench smoke-data), "
                f"prepared under {prepared}")
    names = ", ".join(sorted(config["datasets"]))
    return f"the paper's datasets ({names}), prepared under {prepared}"


def write_page(plan: Any, out: str | Path, tables: Iterable[str] | None = None, figures: Iterable[str] | None = None) -> Path:
    """``out`` (``<reports>/index.html``) from the tables, figures (default: all of the plan's) and comparisons of
    ``plan``'s reports folder."""
    reports = Path(plan.paths.reports)
    chosen_tables = list(plan.artefacts.tables) if tables is None else list(tables)
    chosen_figures = list(plan.artefacts.figures) if figures is None else list(figures)
    tables = [(name, Path(plan.paths.table_files(name)[0])) for name in chosen_tables]
    figures = []
    for name in chosen_figures:
        spec = plan.artefacts.figures[name]
        figures.append((name, Path(plan.paths.figure_files(name)[0]), plan.artefacts.run_title(spec.get("title", name)),
                        plan.artefacts.run_caption(" ".join(str(spec.get("caption", "")).split()))))
    page = render_page(plan.artefacts.run, str(plan.config.get("description", "")), data_description(plan.config),
                       tables, figures, reports / "compare")
    out = Path(out)
    atomic_write(out, page)
    out.chmod(0o644)  # a page to open and share, like the tables beside it
    return out
