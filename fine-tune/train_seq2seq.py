"""Fine-tune a Flan-T5-style seq2seq model on request→intent pairs (all weights, Seq2SeqTrainer).

Source: the t5-family enrichment prompt exactly as the model service renders it for a seq2seq
model; target: pair.target() then EOS (kept in the labels; padding is -100). The output
directory is what the service loads: MODEL_GENERATOR=hf:<output-dir>.

    # a Hub checkpoint (HF_HUB_OFFLINE=0 to download it) or a local directory
    .venv/bin/python fine-tune/train_seq2seq.py --model google/flan-t5-small \\
        --output-dir var/fine-tune/flan-t5-small
    # a small T5 built from a config (random weights, no download): plumbing runs
    .venv/bin/python fine-tune/train_seq2seq.py --model-config '{"d_model": 128}' \\
        --tokenizer smollm2 --output-dir var/fine-tune/t5-tiny

Re-running with the same --output-dir resumes from its last checkpoint
(--overwrite-output-dir starts afresh). See fine-tune/README.md.
"""

from __future__ import annotations

# First: puts the repository on sys.path and sets the model service's process defaults
# (HF_HUB_OFFLINE=1 unless set) before transformers is imported.
import ft_common  # noqa: F401

# isort: split
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from ft_common import (
    DataArguments,
    LoopArguments,
    RunResult,
    args_record,
    build_split_examples,
    choose_family,
    configure_logging,
    load_failure,
    load_split,
    load_tokenizer,
    parse_args,
    prepare_output_dir,
    quiet_trainer,
    run_trainer,
    sample_generations,
    seed_everything,
    seq2seq_example,
    serving_renderer,
    stop_token_ids,
    trainer_data,
    training_arguments,
    write_summary,
)
from transformers import (
    AutoConfig,
    AutoModelForSeq2SeqLM,
    GenerationConfig,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
)

from model_service.prompts import t5

logger = logging.getLogger("fine_tune.seq2seq")

# Defaults for --model-config: a T5 small enough to train on 2 CPU cores in seconds.
SMALL_T5 = {
    "model_type": "t5",
    "d_model": 128,
    "d_kv": 32,
    "d_ff": 256,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "num_heads": 4,
    "feed_forward_proj": "gated-gelu",
    "tie_word_embeddings": True,  # T5 then scales the output: a sane initial loss
}


@dataclass
class Seq2SeqModelArguments:
    model: str = field(
        default="google/flan-t5-small",
        metadata={"help": "Hub id or local directory of a seq2seq checkpoint (Flan-T5, T5, ...)."},
    )
    model_config: str | None = field(
        default=None,
        metadata={
            "help": "Build a fresh model from a config instead: a JSON file or inline JSON "
            "object, over a small T5 (d_model 128, 2+2 layers). Needs --tokenizer."
        },
    )
    tokenizer: str | None = field(
        default=None,
        metadata={
            "help": "Tokenizer (directory, Hub id, .gguf file, or smollm2); default: --model."
        },
    )
    max_source_length: int | None = field(
        default=None,
        metadata={"help": "Skip pairs whose prompt is longer (default: the service's limit)."},
    )
    max_target_length: int = field(
        default=t5.MAX_TOKENS,
        metadata={"help": "Skip pairs whose answer+EOS is longer (the service's token budget)."},
    )
    sample: int = field(
        default=2, metadata={"help": "Generate for this many validation pairs at the end."}
    )


@dataclass
class Seq2SeqLoopArguments(LoopArguments):
    learning_rate: float = 3e-4
    num_train_epochs: float = 5.0


def build_model(model_args: Seq2SeqModelArguments) -> tuple[Any, Any]:
    """(model, tokenizer): a pretrained checkpoint, or a fresh model from --model-config."""
    if model_args.model_config:
        if not model_args.tokenizer:
            raise SystemExit("--model-config needs --tokenizer (a fresh model has none)")
        tokenizer = load_tokenizer(model_args.tokenizer)
        text = model_args.model_config.strip()
        overrides = json.loads(text if text.startswith("{") else Path(text).read_text())
        settings = {**SMALL_T5, **overrides}
        _complete_special_tokens(tokenizer)
        settings.setdefault("vocab_size", len(tokenizer))
        settings.setdefault("pad_token_id", tokenizer.pad_token_id)
        settings.setdefault("eos_token_id", tokenizer.eos_token_id)
        settings.setdefault("decoder_start_token_id", settings["pad_token_id"])
        config = AutoConfig.for_model(settings.pop("model_type"), **settings)
        model = AutoModelForSeq2SeqLM.from_config(config)
        model.generation_config = GenerationConfig.from_model_config(config)
        return model, tokenizer
    tokenizer = load_tokenizer(model_args.tokenizer or model_args.model)
    try:
        config = AutoConfig.from_pretrained(model_args.model)
        if not config.is_encoder_decoder:
            raise SystemExit(
                f"{model_args.model} is a causal model: fine-tune it with train_lora.py"
            )
        model = AutoModelForSeq2SeqLM.from_pretrained(model_args.model, dtype=torch.float32)
    except SystemExit:
        raise
    except Exception as exc:
        raise load_failure(model_args.model, exc) from exc
    _complete_special_tokens(tokenizer)
    return model, tokenizer


def _complete_special_tokens(tokenizer: Any) -> None:
    """EOS (a BERT-style tokenizer's [SEP] ends a sequence) and PAD (EOS if none); saved with
    the tokenizer, so the service stops at the same EOS."""
    if tokenizer.eos_token_id is None:
        if tokenizer.sep_token_id is None:
            raise SystemExit("the tokenizer has neither an EOS nor a SEP token to end answers")
        tokenizer.eos_token = tokenizer.sep_token
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token


def train(
    model_args: Seq2SeqModelArguments,
    data_args: DataArguments,
    loop_args: LoopArguments,
    callbacks: Sequence[Any] = (),
) -> RunResult:
    """Train, save model + tokenizer to output_dir, write the summary; what main() runs."""
    out = loop_args.require_output_dir()
    seed_everything(loop_args.seed)
    resume = prepare_output_dir(loop_args)
    model, tokenizer = build_model(model_args)
    # The service prompts every encoder-decoder as family "t5".
    family = choose_family(data_args.family, out, model.config)
    renderer = serving_renderer(model, tokenizer, out.name)
    eos_id = model.config.eos_token_id
    eos_id = eos_id if isinstance(eos_id, int) else tokenizer.eos_token_id
    if eos_id not in stop_token_ids(model, tokenizer):
        raise SystemExit(f"EOS id {eos_id} is not a token the service stops at")
    split = load_split(data_args, loop_args.seed)

    def make(pair: Any) -> Any:
        return seq2seq_example(
            renderer,
            tokenizer,
            pair,
            eos_id,
            max_source_length=model_args.max_source_length or renderer.context_length - 1,
            max_target_length=model_args.max_target_length,
        )

    train_set, validation_set = build_split_examples(make, split, family)
    args = training_arguments_seq2seq(loop_args, has_validation=bool(validation_set))
    trainer = Seq2SeqTrainer(
        model=model,
        args=args,
        **trainer_data(train_set, validation_set, tokenizer),
        callbacks=list(callbacks),
    )
    quiet_trainer(trainer, out)
    wall = run_trainer(trainer, resume)
    trainer.save_model(str(out))  # weights, config, generation config and the tokenizer
    summary = write_summary(
        out,
        script="train_seq2seq.py",
        model=f"config {model_args.model_config}" if model_args.model_config else model_args.model,
        family=family,
        train_examples=len(train_set),
        validation_examples=len(validation_set),
        dropped_held_out=split.dropped_held_out,
        global_step=trainer.state.global_step,
        wall_time_s=round(wall, 1),
        serve=f"MODEL_GENERATOR=hf:{out}",
        args=args_record(model_args, data_args, loop_args),
    )
    samples = sample_generations(out, split.validation[: model_args.sample], family)
    return RunResult(out, out, family, summary, samples)


def training_arguments_seq2seq(loop_args: LoopArguments, *, has_validation: bool) -> Any:
    return training_arguments(
        loop_args,
        has_validation=has_validation,
        cls=Seq2SeqTrainingArguments,
        predict_with_generate=False,
        use_cpu=not torch.cuda.is_available(),
    )


def main(argv: Sequence[str] | None = None) -> RunResult:
    configure_logging()
    model_args, data_args, loop_args = parse_args(
        (Seq2SeqModelArguments, DataArguments, Seq2SeqLoopArguments), argv
    )
    result = train(model_args, data_args, loop_args)
    print(f"saved {result.serve_dir}: serve it with MODEL_GENERATOR=hf:{result.serve_dir}")
    return result


if __name__ == "__main__":
    main()
