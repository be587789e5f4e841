"""Evaluation protocols: which prepared frames are context and which are targets, at which resolution.

Each protocol is registered with its dataset (``data_prep.catalog.<dataset>``); ``PROTOCOLS`` is the registry
(:class:`vpbench.registry.Registry`, read-only here) and ``get_protocol`` looks one up (see
:class:`data_prep.registry.EvalProtocol`).
"""

from __future__ import annotations

from data_prep.registry import PROTOCOLS, EvalProtocol, get_protocol

__all__ = ["EvalProtocol", "PROTOCOLS", "get_protocol"]
