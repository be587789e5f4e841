"""Training-loader throughput against a GPU's appetite: the config's recipes, per codec, per loader worker.

``python -m vpbench.benchmarks.loader [--config FILE] [--codecs raw,tiled-zstd,encoded] [--out results/benchmarks/loader.json]``

A temporary Cityscapes tree of natural 2048x1024 frames (``vpbench.benchmarks.natural``) is prepared at the real
size, 1024x512, once per codec. Every recipe of the config (the paper's: frame triplets, 224 crops, batch 64,
paper augmentation; the official code's: 30-frame clips, 256 crops, official augmentation) then reads clips in
one process (= one DataLoader worker, one torch thread): items plus the collation of a batch. Reported per
recipe and codec: clips/s per worker, and the workers one GPU needs to feed 20 and 40 optimiser steps/s at the
recipe's batch (a recipe that steps once per consecutive triplet of a clip needs fewer clips per step).
Where raw and tiled-zstd are both timed, each recipe also gets what tiled-zstd costs per crop over raw, what the
0.5x goal allows per crop, and, timed alone on the same tree, the codec's whole crop read and its zstd
decompression stage (the floor that no filter or copy saving can go below).
``--prepared DIR`` reads an existing tree instead (its own codec only).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import default_collate

from data_prep.codecs import CODECS, RAW, TILED_ZSTD
from data_prep.datasets import TrainClips, open_prepared
from vpbench.argtypes import POSITIVE_FLOAT, POSITIVE_INT
from vpbench.utils import atomic_write

#: optimiser steps per second of one GPU that the worker counts are given for
STEP_RATES = (20, 40)
#: the goal of the compressed codec, as a fraction of raw's clips/s at the paper's recipe
CLIPS_RATIO_GOAL = 0.5
DATASET = "cityscapes"
WINDOW = 3  # two context frames and the target


def recipe_loads(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What each recipe of the config asks of the loader: items of ``clip_length`` frames, ``crop``, ``batch``."""
    from vpbench.training.recipes import default_clip_length, get_recipe

    loads = {}
    for name, entry in config["recipes"].items():
        recipe = get_recipe(entry.get("recipe", "paper"))
        clip_length = int(entry.get("clip_length") or default_clip_length(recipe, DATASET, WINDOW))
        steps_per_item = 1 if recipe.triplets == "one_per_clip" else clip_length - WINDOW + 1
        loads[name] = {"recipe": recipe.name, "clip_length": clip_length, "crop": int(entry.get("crop") or recipe.crop),
                       "batch_size": int(entry.get("batch_size", recipe.batch_size)), "augmentation": recipe.augmentation,
                       "steps_per_batch": steps_per_item}
    return loads


def clips_per_second(dataset: TrainClips, batch_size: int, seconds: float) -> float:
    """Items read and collated into batches for about ``seconds`` (at least one batch); the items' rate."""
    count, epoch, start = 0, 0, time.perf_counter()
    while count == 0 or time.perf_counter() - start < seconds:
        dataset.set_epoch(epoch)
        batch = []
        for index in range(len(dataset)):
            batch.append(dataset[index])
            if len(batch) == batch_size:
                default_collate(batch)
                count, batch = count + len(batch), []
                if time.perf_counter() - start >= seconds:
                    break
        if batch:
            default_collate(batch)
            count += len(batch)
        epoch += 1
    return count / (time.perf_counter() - start)


def crop_read_ms(root: Path, crop: int, count: int = 1500, seed: int = 0) -> dict[str, float]:
    """Mean ms of one ``tiled-zstd`` crop read at uniform random places, whole (``crop``, as the loader calls it)
    and its zstd decompression alone (``zstd_stage``: the tiles' bytes gathered beforehand); best of 3 passes."""
    import imagecodecs

    store = open_prepared(root).split("train").frames
    rng = np.random.default_rng(seed)
    places = []
    for _ in range(count):
        row = int(rng.integers(len(store)))
        height, width = int(store.height[row]), int(store.width[row])
        places.append((row, int(rng.integers(0, height - crop + 1)), int(rng.integers(0, width - crop + 1))))
    runs = [store.compressed_tiles(row, top, left, crop, crop) for row, top, left in places]

    def best_ms(read: Callable[[], None]) -> float:
        passes = []
        for _ in range(3):
            start = time.perf_counter()
            read()
            passes.append(time.perf_counter() - start)
        return round(min(passes) / count * 1e3, 3)

    def crops() -> None:
        for row, top, left in places:  # each result dropped at once, as the loader's copy into its clip does
            store.crop(row, top, left, crop, crop)

    def zstd_stage() -> None:
        for parts in runs:
            imagecodecs.zstd_decode(b"".join(parts))

    return {"crop": best_ms(crops), "zstd_stage": best_ms(zstd_stage)}


def crop_costs(rates: dict[str, float], load: dict[str, Any], read_ms: dict[str, float]) -> dict[str, float]:
    """tiled-zstd's ms per crop over raw in the loader, what the goal's rate allows, and the timed read stages."""
    over_raw = (1 / rates[TILED_ZSTD] - 1 / rates[RAW]) * 1e3 / load["clip_length"]
    allowed = (1 / (CLIPS_RATIO_GOAL * rates[RAW]) - 1 / rates[RAW]) * 1e3 / load["clip_length"]
    return {"over_raw_in_loader": round(over_raw, 3), "allowed_by_goal": round(allowed, 3),
            "whole_read": read_ms["crop"], "zstd_stage": read_ms["zstd_stage"]}


def workers_needed(clips_per_s: float, load: dict[str, Any]) -> dict[str, int]:
    return {str(rate): math.ceil(rate * load["batch_size"] / load["steps_per_batch"] / clips_per_s) for rate in STEP_RATES}


def prepare_trees(work: Path, codecs: tuple[str, ...], sequences: int) -> dict[str, Path]:
    from data_prep.preprocess import available_cores, prepare
    from vpbench.benchmarks.natural import write_cityscapes_tree

    raw = write_cityscapes_tree(work / "raw", sequences)
    trees = {}
    for codec in codecs:
        prepare(DATASET, raw, work / f"prepared-{codec}", subset=True, splits=("train",), codec=codec,
                jobs=available_cores())
        trees[codec] = work / f"prepared-{codec}"
    return trees


def run(trees: dict[str, Path], config: dict[str, Any], seconds: float) -> dict[str, object]:
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    loads = recipe_loads(config)
    codecs: dict[str, dict[str, object]] = {}
    for codec, root in trees.items():
        split = open_prepared(root).split("train")
        frames = int(split.info["frames"])
        codecs[codec] = {"bytes_per_frame": round(int(split.info["files"]["frames.bin"]["bytes"]) / frames),
                         "frame_size": [int(split.frames.height[0]), int(split.frames.width[0])]}
    if RAW in codecs:
        for entry in codecs.values():
            entry["bytes_ratio_vs_raw"] = round(entry["bytes_per_frame"] / codecs[RAW]["bytes_per_frame"], 3)  # type: ignore[operator]
    recipes: dict[str, dict[str, Any]] = {}
    for name, load in loads.items():
        rates, workers = {}, {}
        for codec, root in trees.items():
            dataset = TrainClips(root, load["clip_length"], load["crop"], augmentation=load["augmentation"], seed=0)
            rates[codec] = round(clips_per_second(dataset, load["batch_size"], seconds), 1)
            workers[codec] = workers_needed(rates[codec], load)
        recipes[name] = {**load, "clips_per_s_per_worker": rates, "workers_per_gpu": workers}
        if RAW in rates and TILED_ZSTD in rates:
            recipes[name]["tiled_zstd_vs_raw_clips"] = round(rates[TILED_ZSTD] / rates[RAW], 3)
            recipes[name]["tiled_zstd_ms_per_crop"] = crop_costs(rates, load, crop_read_ms(trees[TILED_ZSTD], load["crop"]))
    return {
        "dataset": DATASET,
        "codecs": codecs,
        "recipes": recipes,
        "step_rates": list(STEP_RATES),
        "clips_ratio_goal": CLIPS_RATIO_GOAL,
        "loadavg": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "machine": platform.processor() or platform.machine(),
        "note": "one process = one DataLoader worker (items + collation, no inter-process transfer); natural frames "
                "from the bundled clips; page cache warm",
    }


def summary(result: dict[str, Any]) -> str:
    lines = [f"load average {result['loadavg']['before']} -> {result['loadavg']['after']}"]
    for codec, entry in result["codecs"].items():
        ratio = f" ({entry['bytes_ratio_vs_raw']}x raw)" if "bytes_ratio_vs_raw" in entry else ""
        lines.append(f"{codec}: {entry['bytes_per_frame']:,} B per {entry['frame_size'][0]}x{entry['frame_size'][1]} frame{ratio}")
    for name, entry in result["recipes"].items():
        per_codec = ", ".join(
            f"{codec} {rate} (workers per GPU at {'/'.join(map(str, STEP_RATES))} steps/s: "
            f"{'/'.join(str(n) for n in entry['workers_per_gpu'][codec].values())})"
            for codec, rate in entry["clips_per_s_per_worker"].items()
        )
        ratio = f"; tiled-zstd/raw {entry['tiled_zstd_vs_raw_clips']}" if "tiled_zstd_vs_raw_clips" in entry else ""
        lines.append(f"recipe {name} ({entry['clip_length']}-frame clips, {entry['crop']} crops, batch {entry['batch_size']}): "
                     f"clips/s per worker {per_codec}{ratio}")
        if "tiled_zstd_ms_per_crop" in entry:
            ms = entry["tiled_zstd_ms_per_crop"]
            lines.append(f"  tiled-zstd ms per {entry['crop']} crop: {ms['over_raw_in_loader']} over raw in the loader "
                         f"({ms['allowed_by_goal']} allowed at {CLIPS_RATIO_GOAL}x raw's rate); the read alone "
                         f"{ms['whole_read']}, of which zstd decompression {ms['zstd_stage']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from vpbench.pipeline.config import load_config

    parser = argparse.ArgumentParser(prog="python -m vpbench.benchmarks.loader", description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", help="pipeline config(s) whose recipes are timed (default config/config.yaml)")
    parser.add_argument("--codecs", default=",".join((RAW, TILED_ZSTD, "encoded")), help=f"comma-separated, of {CODECS}")
    parser.add_argument("--prepared", type=Path, help="an existing prepared tree with a train split (instead of natural frames)")
    parser.add_argument("--sequences", type=POSITIVE_INT, default=4, help="30-frame natural snippets to prepare")
    parser.add_argument("--seconds", type=POSITIVE_FLOAT, default=3.0, help="time per recipe and codec")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks/loader.json"))
    args = parser.parse_args(argv)
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        if args.prepared:
            trees = {open_prepared(args.prepared).split("train").info["codec"]: args.prepared}
        else:
            trees = prepare_trees(Path(tmp), tuple(args.codecs.split(",")), args.sequences)
        result = run(trees, config, args.seconds)
    print(summary(result))
    atomic_write(args.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
