"""Where every file of the pipeline lives: one function per kind of file, each derived from an experiment id.

The rule files, the commands and the tests ask here; nothing else spells a results or reports path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class Paths:
    """The file layout under the config's ``paths:`` (raw, prepared, results, reports)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @property
    def results(self) -> str:
        return self.config["paths"]["results"]

    @property
    def reports(self) -> str:
        return self.config["paths"]["reports"]

    def raw_dir(self, dataset: str) -> str:
        return f"{self.config['paths']['raw']}/{self.config['datasets'][dataset].get('raw', dataset)}"

    def prepared_dir(self, dataset: str) -> str:
        return f"{self.config['paths']['prepared']}/{dataset}"

    def spec_file(self, experiment: str) -> str:
        return f"{self.results}/specs/{experiment}.json"

    def checkpoint_file(self, experiment: str) -> str:
        return f"{self.results}/checkpoints/{experiment}/final.pt"

    def score_file(self, experiment: str, protocol: str) -> str:
        return f"{self.results}/scores/{experiment}/{protocol}.parquet"

    def complexity_file(self, experiment: str, protocol: str) -> str:
        return f"{self.results}/complexity/{experiment}/{protocol}.json"

    def predictions_file(self, experiment: str, protocol: str) -> str:
        return f"{self.results}/predictions/{experiment}/{protocol}.npz"

    def table_files(self, table: str) -> list[str]:
        return [f"{self.reports}/tables/{table}.{ext}" for ext in ("md", "csv", "tex")]

    def figure_files(self, figure: str) -> list[str]:
        return [f"{self.reports}/figures/{figure}.{ext}" for ext in ("png", "pdf")]

    def compare_files(self, name: str, protocols: Iterable[str]) -> list[str]:
        """``<reports>/compare/<method name>.{md,csv,tex}`` and its per-step difference figures (one per protocol)."""
        files = [f"{self.reports}/compare/{name}.{ext}" for ext in ("md", "csv", "tex")]
        for protocol in protocols:
            files += [f"{self.reports}/compare/{name}-steps-{protocol}.{ext}" for ext in ("png", "pdf")]
        return files
