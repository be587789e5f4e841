"""vpbench: the engine every method shares (training, evaluation, metrics, complexity, reports, CLI)."""

__version__ = "0.1.0"
