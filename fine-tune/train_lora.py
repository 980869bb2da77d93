"""LoRA fine-tuning of a causal chat model on request→intent pairs (peft + Trainer).

The prompt is the model service's enrichment prompt for the model's family, rendered with the
model's chat template exactly as the service renders it; the assistant's answer is
pair.target() and the end-of-turn token. Loss only on the answer: prompt tokens and padding are
-100, the closing end-of-turn/EOS token is kept (it is what teaches the model to stop).

LoRA goes on every attention and MLP projection of every decoder layer by default, found from
the model itself (Llama/Qwen/Mistral: q/k/v/o_proj and gate/up/down_proj; GPT-2: c_attn, c_proj,
c_fc; ...). At the end the adapter is saved to <output-dir>/adapter and, with --merge (default),
the merged full weights to <output-dir>/merged, which the service loads with no code change:
MODEL_GENERATOR=hf:<output-dir>/merged.

    .venv/bin/python fine-tune/train_lora.py --model smollm2 --output-dir var/fine-tune/smollm2-lora
    .venv/bin/python fine-tune/train_lora.py --model Qwen/Qwen2.5-0.5B-Instruct \\
        --output-dir var/fine-tune/qwen-lora            # HF_HUB_OFFLINE=0 to download
    .venv/bin/python fine-tune/train_lora.py --merge-only var/fine-tune/smollm2-lora/adapter

The prompt family is the one the service will pick for <output-dir>/merged, which it reads from
the path: keep "smollm" or "qwen" in the output directory's name for those families' prompts.
"""

from __future__ import annotations

# First: puts the repository on sys.path and sets the model service's process defaults
# (HF_HUB_OFFLINE=1 unless set) before transformers is imported.
import ft_common  # noqa: F401

# isort: split
import inspect
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from ft_common import (
    IGNORE_INDEX,
    DataArguments,
    LoopArguments,
    RunResult,
    args_record,
    build_split_examples,
    causal_example,
    choose_family,
    configure_logging,
    load_config,
    load_failure,
    load_split,
    load_tokenizer,
    parse_args,
    parse_layers,
    prepare_output_dir,
    quiet_trainer,
    resolve_source,
    run_trainer,
    sample_generations,
    seed_everything,
    serving_family,
    serving_renderer,
    stop_token_ids,
    trainer_data,
    training_arguments,
    write_summary,
)
from torch import nn
from transformers import AutoModelForCausalLM, Trainer
from transformers.pytorch_utils import Conv1D

from model_service.prompts import for_family

logger = logging.getLogger("fine_tune.lora")

BASE_RECORD = "marquee_base.json"  # in the adapter directory: how to load its base model again
MAX_LENGTH = 2048  # default cap on prompt + answer tokens (the model's own limit if lower)
# Linear layers inside decoder layers that are not projections: MoE routers.
NOT_PROJECTIONS = {"gate", "router", "classifier"}


@dataclass
class LoraModelArguments:
    model: str = field(
        default="smollm2",
        metadata={
            "help": "Causal chat model: Hub id, local directory, a .gguf file (dequantized by "
            "transformers), or smollm2 (the packaged SmolLM2-135M-Instruct GGUF)."
        },
    )
    gguf_file: str | None = field(
        default=None, metadata={"help": "GGUF file name inside the --model directory."}
    )
    target_modules: list[str] | None = field(
        default=None,
        metadata={
            "help": "Module names to adapt (default: every attention and MLP projection found "
            "in the decoder layers)."
        },
    )
    layers: str = field(
        default="all", metadata={"help": "Decoder layers to adapt: all, or e.g. 0-5,10 / -4--1."}
    )
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    load_in_4bit: bool = field(
        default=False, metadata={"help": "QLoRA: load the base in 4 bits (CUDA + bitsandbytes)."}
    )
    max_length: int | None = field(
        default=None,
        metadata={"help": f"Skip longer pairs (default: min(model limit, {MAX_LENGTH}))."},
    )
    share_prefix: bool = field(
        default=True,
        metadata={
            "help": "Run the prompt prefix a batch shares (system prompt, few-shot examples) "
            "once per batch instead of once per row: same loss, several times faster."
        },
    )
    merge: bool = field(
        default=True, metadata={"help": "Also save merged full weights to <output-dir>/merged."}
    )
    merged_dtype: str = field(
        default="auto",
        metadata={"help": "dtype of the merged weights: auto (the base's), float32, bfloat16."},
    )
    merge_only: str | None = field(
        default=None,
        metadata={
            "help": "Do not train: merge this adapter directory into its base and save "
            "<output-dir>/merged (default output-dir: the adapter's parent)."
        },
    )
    sample: int = field(
        default=2, metadata={"help": "Generate for this many validation pairs at the end."}
    )


@dataclass
class LoraLoopArguments(LoopArguments):
    learning_rate: float = 2e-4
    num_train_epochs: float = 2.0


# -- where LoRA goes ---------------------------------------------------------------------------
def decoder_layers(model: Any) -> tuple[str, nn.ModuleList]:
    """(name, modules) of the model's stack of decoder layers."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else None
    count = getattr(config or model.config, "num_hidden_layers", None)
    stacks = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.ModuleList) and len(module) > 0
    ]
    matching = [s for s in stacks if count is None or len(s[1]) == count]
    if not matching:
        raise SystemExit(f"found no stack of {count} decoder layers in {type(model).__name__}")
    return min(matching, key=lambda s: s[0].count("."))


def _is_projection(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear | Conv1D)  # Conv1D: GPT-2's linear layers


def discover_target_modules(model: Any) -> list[str]:
    """Names of the linear layers in the decoder layers, in order of appearance: the attention
    and MLP projections (routers of mixture-of-experts layers excluded)."""
    _, layers = decoder_layers(model)
    names: dict[str, None] = {}
    for layer in layers:
        for name, module in layer.named_modules():
            leaf = name.rsplit(".", 1)[-1]
            if name and _is_projection(module) and leaf not in NOT_PROJECTIONS:
                names[leaf] = None
    if not names:
        raise SystemExit("found no linear projections in the decoder layers: pass --target-modules")
    return list(names)


def lora_target_pattern(model: Any, names: Sequence[str], layer_spec: str) -> tuple[str, list[int]]:
    """A regular expression peft matches (fullmatch) against module names: `names` inside the
    chosen decoder layers only."""
    stack, layers = decoder_layers(model)
    chosen = parse_layers(layer_spec, len(layers))
    pattern = (
        rf"{re.escape(stack)}\.({'|'.join(map(str, chosen))})\.(?:.*\.)?"
        rf"({'|'.join(map(re.escape, names))})"
    )
    return pattern, chosen


def apply_lora(model: Any, args: LoraModelArguments) -> Any:
    from peft import LoraConfig, get_peft_model

    names = args.target_modules or discover_target_modules(model)
    pattern, chosen = lora_target_pattern(model, names, args.layers)
    # GPT-2-style Conv1D layers store their weight transposed.
    conv1d = any(
        isinstance(module, Conv1D) and re.fullmatch(pattern, name)
        for name, module in model.named_modules()
    )
    config = LoraConfig(
        fan_in_fan_out=conv1d,
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=pattern,
        task_type="CAUSAL_LM",
        bias="none",
    )
    peft_model = get_peft_model(model, config)
    adapted = lora_modules(peft_model)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in peft_model.parameters())
    print(
        f"LoRA r={args.lora_r} alpha={args.lora_alpha} on {len(adapted)} modules "
        f"({', '.join(names)}) in {len(chosen)} layers; trainable {trainable:,} of {total:,} "
        f"parameters ({100 * trainable / total:.2f}%)",
        flush=True,
    )
    if not adapted:
        raise SystemExit(f"no module matched --target-modules {names}")
    return peft_model


def lora_modules(model: Any) -> list[str]:
    from peft.tuners.lora import LoraLayer

    return [name for name, module in model.named_modules() if isinstance(module, LoraLayer)]


# -- loading -----------------------------------------------------------------------------------
def load_base(args: LoraModelArguments, *, for_training: bool = True) -> tuple[Any, Any, str]:
    """(model, tokenizer, model id) in float32 on CPU (bf16/fp16 on CUDA), or 4-bit."""
    source, gguf = resolve_source(args.model, args.gguf_file)
    extra: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
    cuda = torch.cuda.is_available()
    if args.load_in_4bit and for_training:
        if not cuda:
            raise SystemExit(
                "--load-in-4bit needs a CUDA GPU (bitsandbytes 4-bit kernels); this machine "
                "has none. Drop the flag: on CPU the model trains in float32."
            )
        if gguf:
            raise SystemExit("--load-in-4bit applies to Hub/local checkpoints, not GGUF files")
        from transformers import BitsAndBytesConfig

        extra["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
        )
    if gguf:
        # Plain float weights: the GGUF blocks dequantized once, at load. (Left packed, as
        # transformers does when the `kernels` package is installed, they cannot be trained,
        # and the model is marked quantized: the Trainer refuses it, save_pretrained too.)
        from transformers import GgufConfig

        extra["quantization_config"] = GgufConfig(gguf_file=gguf, dequantize=True)
    dtype = torch.float32
    if cuda:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    tokenizer = load_tokenizer(args.model, args.gguf_file)
    config = load_config(args.model, args.gguf_file)
    try:
        if config.is_encoder_decoder:
            raise SystemExit(f"{args.model} is a seq2seq model: fine-tune it with train_seq2seq.py")
        model = AutoModelForCausalLM.from_pretrained(source, config=config, dtype=dtype, **extra)
    except SystemExit:
        raise
    except Exception as exc:
        raise load_failure(args.model, exc) from exc
    if cuda and not args.load_in_4bit:  # bitsandbytes places 4-bit weights itself
        model.to("cuda")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model_id = Path(gguf).stem if gguf else Path(source).name
    return model, tokenizer, model_id


# -- the shared prompt prefix -------------------------------------------------------------------
def shared_prefix_length(batch: dict[str, torch.Tensor]) -> int:
    """How many leading tokens every row of the batch has in common, stopping one token before
    the first labelled position (the prefix's last token predicts nothing that is scored)."""
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    if ids.shape[0] < 2:
        return 0
    same = (ids == ids[:1]).all(dim=0) & mask.bool().all(dim=0)
    common = int(same.long().cumprod(dim=0).sum())
    labelled = (labels != IGNORE_INDEX).long()
    first_label = int(labelled.argmax(dim=1).min()) if labelled.any() else ids.shape[1]
    return max(0, min(common, first_label - 1))


class PrefixSharingTrainer(Trainer):
    """A Trainer that computes the prompt prefix its batch shares once, not once per row.

    Every enrichment prompt of a family starts with the same system prompt (and, for SmolLM,
    the same few-shot turns): ~280 of ~350 tokens for SmolLM, ~600 of ~630 for Qwen. The prefix
    runs as a batch of one with its key/value cache kept in the autograd graph; the cache is
    repeated over the batch and the rows' own tokens run on top of it. The loss and gradients
    are those of the full sequences (tested), for a fraction of the compute. LoRA dropout then
    draws one mask for the shared prefix instead of one per row.
    """

    def __init__(self, *args: Any, share_prefix: bool = True, min_prefix: int = 8, **kw: Any):
        super().__init__(*args, **kw)
        self.share_prefix = share_prefix
        self.min_prefix = min_prefix
        self.prefix_tokens_saved = 0

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        if self.share_prefix:
            split = shared_prefix_length(inputs)
            if split >= self.min_prefix:
                shared = with_shared_prefix(model, inputs, split)
                if shared is not None:
                    self.prefix_tokens_saved += split * (inputs["input_ids"].shape[0] - 1)
                    inputs = shared
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


def _accepts(model: nn.Module, name: str) -> bool:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return name in inspect.signature(base.forward).parameters


def with_shared_prefix(
    model: nn.Module, inputs: dict[str, torch.Tensor], split: int
) -> dict[str, Any] | None:
    """The batch as (cache of the shared prefix, the rows' remaining tokens), or None when the
    model's cache cannot be shared (then the full rows are used)."""
    ids = inputs["input_ids"]
    extra = {"logits_to_keep": 1} if _accepts(model, "logits_to_keep") else {}
    prefix = model(
        input_ids=ids[:1, :split],
        attention_mask=inputs["attention_mask"][:1, :split],
        use_cache=True,
        **extra,
    )
    cache = getattr(prefix, "past_key_values", None)
    if cache is None or not hasattr(cache, "batch_repeat_interleave"):
        return None
    cache.batch_repeat_interleave(ids.shape[0])
    return {
        "input_ids": ids[:, split:],
        "attention_mask": inputs["attention_mask"],  # prefix + rows: the keys attended to
        "labels": inputs["labels"][:, split:],
        "past_key_values": cache,
        "use_cache": True,
    }


# -- saving and merging --------------------------------------------------------------------------
def _merged_dtype(name: str, config: Any) -> torch.dtype:
    if name == "auto":
        dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        return dtype if isinstance(dtype, torch.dtype) else torch.float32
    return getattr(torch, name)


def save_merged(model: Any, tokenizer: Any, merged_dir: Path, dtype_name: str) -> Path:
    """Fold the LoRA weights into the base weights and save a plain transformers checkpoint."""
    merged = model.merge_and_unload()
    dtype = _merged_dtype(dtype_name, merged.config)
    merged = merged.to(dtype=dtype, device="cpu")
    merged.config.use_cache = True
    merged.save_pretrained(str(merged_dir))
    tokenizer.save_pretrained(str(merged_dir))
    return merged_dir


def merge_adapter(
    adapter_dir: Path | str, output_dir: Path | str | None = None, merged_dtype: str = "auto"
) -> Path:
    """Merge a saved adapter into its base model (loaded again, in full precision) and save
    <output_dir>/merged (default output_dir: the adapter's parent). What --merge-only runs; the
    same as, with peft directly:

        base = AutoModelForCausalLM.from_pretrained(BASE, gguf_file=GGUF, dtype=torch.float32)
        model = PeftModel.from_pretrained(base, ADAPTER_DIR).merge_and_unload()
        model.save_pretrained(OUT); AutoTokenizer.from_pretrained(ADAPTER_DIR).save_pretrained(OUT)
    """
    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    out = Path(output_dir) if output_dir else adapter_dir.parent
    record_path = adapter_dir / BASE_RECORD
    if record_path.exists():
        record = json.loads(record_path.read_text())
    else:  # an adapter from elsewhere: peft records its base
        config = json.loads((adapter_dir / "adapter_config.json").read_text())
        record = {"model": config["base_model_name_or_path"], "gguf_file": None, "family": None}
    base_args = LoraModelArguments(model=record["model"], gguf_file=record.get("gguf_file"))
    base, _, _ = load_base(base_args, for_training=False)
    base = base.to(dtype=torch.float32, device="cpu")
    model = PeftModel.from_pretrained(base, str(adapter_dir))
    tokenizer = load_tokenizer(str(adapter_dir))
    merged_dir = out / "merged"
    family = serving_family(merged_dir, base.config)
    if record.get("family") and family != record["family"]:
        logger.warning(
            "the adapter was trained with the %r prompts, but the service will prompt %s as "
            "%r (from its path): put %r in the output directory's name",
            record["family"],
            merged_dir,
            family,
            record["family"],
        )
    save_merged(model, tokenizer, merged_dir, merged_dtype)
    print(f"merged {adapter_dir} into {merged_dir}: MODEL_GENERATOR=hf:{merged_dir}", flush=True)
    return merged_dir


# -- training ----------------------------------------------------------------------------------
def train(
    model_args: LoraModelArguments,
    data_args: DataArguments,
    loop_args: LoopArguments,
    callbacks: Sequence[Any] = (),
) -> RunResult:
    """Train the adapter, save it (and the merged model), write the summary; main() runs it."""
    out = loop_args.require_output_dir()
    seed_everything(loop_args.seed)
    resume = prepare_output_dir(loop_args)
    load_started = time.monotonic()
    model, tokenizer, model_id = load_base(model_args)
    print(f"loaded {model_id} in {time.monotonic() - load_started:.1f} s", flush=True)
    family = choose_family(data_args.family, out / "merged", model.config)
    renderer = serving_renderer(model, tokenizer, model_id)
    if not renderer.has_chat_template:
        logger.warning("%s has no chat template: training on plain transcripts", model_id)
    stops = stop_token_ids(model, tokenizer)
    max_length = model_args.max_length or min(renderer.context_length, MAX_LENGTH)
    max_answer = for_family(family).MAX_TOKENS  # the service's budget for the answer
    split = load_split(data_args, loop_args.seed)

    def make(pair: Any) -> Any:
        return causal_example(
            renderer,
            tokenizer,
            pair,
            family,
            stops,
            max_length=max_length,
            max_answer_tokens=max_answer,
        )

    train_set, validation_set = build_split_examples(make, split, family)
    if model_args.load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    model = apply_lora(model, model_args)
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    args = training_arguments(
        loop_args,
        has_validation=bool(validation_set),
        use_cpu=not cuda,
        bf16=bf16,
        fp16=cuda and not bf16,
    )
    trainer = PrefixSharingTrainer(
        model=model,
        args=args,
        **trainer_data(train_set, validation_set, tokenizer),
        callbacks=list(callbacks),
        share_prefix=model_args.share_prefix,
    )
    quiet_trainer(trainer, out)
    wall = run_trainer(trainer, resume)

    adapter_dir = out / "adapter"
    model.save_pretrained(str(adapter_dir))
    tokenizer.save_pretrained(str(adapter_dir))
    (adapter_dir / BASE_RECORD).write_text(
        json.dumps(
            {
                "model": model_args.model,
                "gguf_file": model_args.gguf_file,
                "family": family,
                "target_modules": model.peft_config["default"].target_modules,
            },
            indent=2,
        )
        + "\n"
    )
    serve_dir: Path | None = None
    if model_args.merge:
        if model_args.load_in_4bit:  # merge into full-precision weights, not 4-bit ones
            serve_dir = merge_adapter(adapter_dir, out, model_args.merged_dtype)
        else:
            serve_dir = save_merged(model, tokenizer, out / "merged", model_args.merged_dtype)
    summary = write_summary(
        out,
        script="train_lora.py",
        model=model_args.model,
        family=family,
        train_examples=len(train_set),
        validation_examples=len(validation_set),
        dropped_held_out=split.dropped_held_out,
        global_step=trainer.state.global_step,
        wall_time_s=round(wall, 1),
        prefix_tokens_saved=trainer.prefix_tokens_saved,
        adapter=str(adapter_dir),
        serve=f"MODEL_GENERATOR=hf:{serve_dir}" if serve_dir else None,
        args=args_record(model_args, data_args, loop_args),
    )
    samples = (
        sample_generations(serve_dir, split.validation[: model_args.sample], family)
        if serve_dir
        else []
    )
    return RunResult(out, serve_dir, family, summary, samples, adapter_dir=adapter_dir)


def main(argv: Sequence[str] | None = None) -> RunResult | Path:
    configure_logging()
    model_args, data_args, loop_args = parse_args(
        (LoraModelArguments, DataArguments, LoraLoopArguments), argv
    )
    if model_args.merge_only:
        return merge_adapter(model_args.merge_only, loop_args.output_dir, model_args.merged_dtype)
    result = train(model_args, data_args, loop_args)
    if result.serve_dir:
        print(f"saved {result.serve_dir}: serve it with MODEL_GENERATOR=hf:{result.serve_dir}")
    print(f"adapter: {result.adapter_dir}")
    return result


if __name__ == "__main__":
    main()
