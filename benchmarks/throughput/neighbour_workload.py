"""One timed piece of a stage, run in its own process by `bench_neighbour.py`: xlt fine-tunes me5-small on
STS-B pairs for `--steps` steps, then embeds `--sentences` stsb-multi test sentences. Prints one JSON line:
the seconds of each part, torch's threads at the end and how often the thread governor changed them."""

from __future__ import annotations

import argparse
import json
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sentences", type=int, default=512)
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    from xlt.core.settings import resolve_data_dir
    from xlt.models import threads
    from xlt.models.sentence import SentenceEncoder
    from xlt.tasks.registry import get_task
    from xlt.training.config import TrainingConfig
    from xlt.training.kinds import make_kind
    from xlt.training.loop import fit

    hf_logging.set_verbosity_error()
    data_dir = resolve_data_dir()
    stsb = get_task("stsb")
    train, dev = stsb.load(data_dir, "train", "en"), stsb.load(data_dir, "dev", "en")
    sentences = list(get_task("stsb-multi").load(data_dir, "test", "de")["sentence1"])[: args.sentences]
    encoder = SentenceEncoder("me5-small")
    config = TrainingConfig(
        max_steps=args.steps,
        train_limit=args.steps * 16,
        batch_size=16,
        max_length=64,
        evaluations=1,
        dev_limit=8,
        loss="cosine_mse",
    )
    kind = make_kind(encoder, stsb, config)
    governor = threads.governor()
    start = time.perf_counter()
    fit(kind, train, dev, config, 0, stage="neighbour-bench")
    trained = time.perf_counter()
    encoder.encode(sentences, batch_size=64)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "train_seconds": trained - start,
                "encode_seconds": done - trained,
                "threads_at_end": torch.get_num_threads(),
                "governor": governor.enabled,
                "thread_changes": governor.changes,
            }
        )
    )


if __name__ == "__main__":
    main()
