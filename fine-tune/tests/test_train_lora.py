"""train_lora.py on a tiny Llama built from a config, with SmolLM2's real tokenizer and chat
template (from the packaged GGUF): targets, labels, the shared prefix, training, resume, merge,
and serving the merged weights through the model service's transformers generator."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import torch
from ft_common import (
    IGNORE_INDEX,
    DataArguments,
    ExampleDataset,
    PadCollator,
    causal_example,
    load_tokenizer,
    parse_args,
    read_loss_log,
    serving_renderer,
    stop_token_ids,
    training_arguments,
    training_losses,
)
from qa_format import Pair, write_pairs
from safetensors.torch import load_file
from train_lora import (
    LoraLoopArguments,
    LoraModelArguments,
    PrefixSharingTrainer,
    apply_lora,
    discover_target_modules,
    lora_modules,
    main,
    merge_adapter,
    shared_prefix_length,
    train,
)
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    TrainerCallback,
)

from model_service.generators.base import ChatMessage, SamplingParams, join_text
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
IM_END = "<|im_end|>"


@pytest.fixture(scope="module")
def tokenizer():
    try:
        # SmolLM2's tokenizer and chat template, read from the packaged GGUF (~4 s).
        return load_tokenizer("smollm2")
    except SystemExit as exc:
        pytest.skip(str(exc))


def tiny_llama(tokenizer) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        # At the usual std 0.02, a 32-wide random base's (tied) output embeddings hold every
        # logit near 0, whatever an adapter does: the loss could not fall below ~10.
        model.model.embed_tokens.weight.normal_(std=0.3)
    return model


@pytest.fixture(scope="module")
def base_dir(tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "tiny-llama"
    tiny_llama(tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pairs") / "train.jsonl"
    write_pairs(PAIRS, path)
    return path


def argv(base_dir: Path, pairs_file: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--model",
        str(base_dir),
        "--train-file",
        str(pairs_file),
        "--output-dir",
        str(out),
        "--validation-fraction",
        "0",
        "--per-device-train-batch-size",
        "4",
        "--learning-rate",
        "2e-2",
        "--lora-r",
        "8",
        "--lora-alpha",
        "16",
        "--logging-steps",
        "1",
        "--seed",
        "11",
        "--sample",
        "0",
        *extra,
    ]


# -- where LoRA goes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            LlamaForCausalLM(
                LlamaConfig(
                    vocab_size=64,
                    hidden_size=16,
                    intermediate_size=32,
                    num_hidden_layers=3,
                    num_attention_heads=2,
                    num_key_value_heads=1,
                )
            ),
            ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        ),
        (
            Qwen2ForCausalLM(
                Qwen2Config(
                    vocab_size=64,
                    hidden_size=16,
                    intermediate_size=32,
                    num_hidden_layers=3,
                    num_attention_heads=2,
                    num_key_value_heads=1,
                )
            ),
            ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        ),
        (
            GPT2LMHeadModel(GPT2Config(vocab_size=64, n_embd=16, n_layer=3, n_head=2)),
            ["c_attn", "c_proj", "c_fc"],  # c_proj twice a layer: attention and MLP
        ),
    ],
    ids=["llama", "qwen2", "gpt2"],
)
def test_targets_every_attention_and_mlp_projection_of_every_layer(model, expected):
    assert discover_target_modules(model) == expected
    per_layer = [
        name
        for name, module in model.named_modules()
        if ".0." in name and name.rsplit(".", 1)[-1] in expected
    ]

    adapted = lora_modules(apply_lora(model, LoraModelArguments()))

    assert len(per_layer) == (4 if "c_attn" in expected else 7)
    assert len(adapted) == 3 * len(per_layer)  # all of them, in each of the 3 layers
    assert not any("lm_head" in name or "embed" in name or "wte" in name for name in adapted)


def test_layers_and_target_modules_narrow_it(tokenizer):
    model = tiny_llama(tokenizer)
    args = LoraModelArguments(layers="-1", target_modules=["q_proj", "v_proj"])

    adapted = lora_modules(apply_lora(model, args))

    assert sorted(adapted) == [
        "base_model.model.model.layers.1.self_attn.q_proj",
        "base_model.model.model.layers.1.self_attn.v_proj",
    ]


def test_4bit_without_cuda_is_a_clear_error(base_dir):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(SystemExit, match="needs a CUDA GPU"):
        from train_lora import load_base

        load_base(LoraModelArguments(model=str(base_dir), load_in_4bit=True))


# -- labels ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendering(tokenizer):
    model = tiny_llama(tokenizer)
    return (
        model,
        serving_renderer(model, tokenizer, "SmolLM2-tiny"),
        stop_token_ids(model, tokenizer),
    )


def example(rendering, tokenizer, pair, family="smollm"):
    _, renderer, stops = rendering
    return causal_example(
        renderer, tokenizer, pair, family, stops, max_length=2048, max_answer_tokens=128
    )


@pytest.mark.parametrize("family", ["smollm", "chat"])
def test_loss_only_on_the_answer_and_its_end_of_turn_token(rendering, tokenizer, family):
    _, renderer, _ = rendering
    pair = PAIRS[3]
    row = example(rendering, tokenizer, pair, family)
    prompt = renderer._prompt_ids(pair.prompt(family))  # exactly what the service will send

    assert row["input_ids"][: len(prompt)] == prompt
    assert row["labels"][: len(prompt)] == [IGNORE_INDEX] * len(prompt)
    answer = row["labels"][len(prompt) :]
    assert IGNORE_INDEX not in answer
    assert answer == row["input_ids"][len(prompt) :]
    im_end = tokenizer.convert_tokens_to_ids(IM_END)
    assert answer[-1] == im_end == tokenizer.eos_token_id == tokenizer.pad_token_id
    assert tokenizer.decode(answer) == pair.target() + IM_END  # not the template's "\n" after


def test_padding_masks_pad_positions_but_keeps_the_eos_sharing_its_id(rendering, tokenizer):
    rows = [example(rendering, tokenizer, p) for p in PAIRS]
    batch = PadCollator(pad_id=tokenizer.pad_token_id)(rows)
    eos = tokenizer.eos_token_id
    for i, row in enumerate(rows):
        n = len(row["input_ids"])
        assert batch["labels"][i, n - 1] == eos  # the closing <|im_end|> is learned
        assert (batch["labels"][i, n:] == IGNORE_INDEX).all()
        assert (batch["input_ids"][i, n:] == tokenizer.pad_token_id).all()
        assert batch["attention_mask"][i, :n].all() and not batch["attention_mask"][i, n:].any()
        assert int((batch["labels"][i] != IGNORE_INDEX).sum()) == sum(
            label != IGNORE_INDEX for label in row["labels"]
        )


# -- the shared prefix -------------------------------------------------------------------------
def test_shared_prefix_gives_the_same_loss_and_gradients(rendering, tokenizer, tmp_path):
    rows = [example(rendering, tokenizer, p) for p in PAIRS]
    batch = PadCollator(pad_id=tokenizer.pad_token_id)(rows)
    split = shared_prefix_length(batch)
    # The system prompt and the few-shot turns: everything before the rows' own requests.
    assert split > 200
    assert (batch["labels"][:, : split + 1] == IGNORE_INDEX).all()

    model = apply_lora(tiny_llama(tokenizer), LoraModelArguments(lora_dropout=0.0))
    for name, param in model.named_parameters():  # LoRA's B starts at 0: make it count
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.05)
    loop = LoraLoopArguments(output_dir=str(tmp_path))
    results = {}
    for share in (False, True):
        trainer = PrefixSharingTrainer(
            model=model,
            args=training_arguments(loop, has_validation=False, use_cpu=True),
            train_dataset=ExampleDataset(rows),
            data_collator=PadCollator(pad_id=tokenizer.pad_token_id),
            share_prefix=share,
        )
        model.zero_grad()
        loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
        results[share] = (loss.detach(), grads, trainer.prefix_tokens_saved)
    torch.testing.assert_close(results[True][0], results[False][0], rtol=1e-5, atol=1e-5)
    for name, grad in results[False][1].items():
        torch.testing.assert_close(results[True][1][name], grad, rtol=1e-4, atol=1e-6)
    assert results[True][2] == split * 3 and results[False][2] == 0


# -- training, merging, serving ----------------------------------------------------------------
def test_loss_falls_and_the_merged_model_serves(base_dir, pairs_file, tmp_path):
    out = tmp_path / "smollm-lora"  # "smollm" in the path: the service uses SmolLM prompts
    result = main(argv(base_dir, pairs_file, out, "--max-steps", "25", "--save-steps", "25"))

    assert result.family == "smollm"
    losses = [loss for _, loss in training_losses(out)]
    assert len(losses) == 25
    assert losses[-1] < losses[0] - 2.0, losses
    summary = json.loads((out / "training_summary.json").read_text())
    assert summary["prefix_tokens_saved"] > 0
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == 8
    # The merged weights load in the model service's generator by path, with SmolLM prompts.
    generator = TransformersGenerator.load(str(out / "merged"))
    try:
        assert generator.family == "smollm"
        assert generator.has_chat_template
        events = list(
            generator.generate(
                PAIRS[0].prompt("smollm"),
                SamplingParams(max_tokens=12, temperature=0),
                threading.Event(),
            )
        )
        assert events[-1].completion_tokens > 0
        assert join_text(events)
    finally:
        generator.close()

    # --merge-only: the saved adapter merged into a fresh copy of the base gives the same weights.
    again = merge_adapter(out / "adapter", tmp_path / "smollm-again")
    a, b = load_file(out / "merged" / "model.safetensors"), load_file(again / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name])
    assert not any("lora" in name for name in a)


def test_family_must_match_what_the_service_will_use(base_dir, pairs_file, tmp_path):
    with pytest.raises(SystemExit, match="Put 'smollm' in the output directory's name"):
        main(argv(base_dir, pairs_file, tmp_path / "run", "--family", "smollm", "--max-steps", "1"))


class StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


def test_an_interrupted_run_resumes_from_its_last_checkpoint(base_dir, pairs_file, tmp_path):
    common = ("--max-steps", "6", "--save-steps", "2", "--no-merge")
    straight = tmp_path / "straight"
    main(argv(base_dir, pairs_file, straight, *common))

    resumed = tmp_path / "resumed"
    parsed = parse_args(
        (LoraModelArguments, DataArguments, LoraLoopArguments),
        argv(base_dir, pairs_file, resumed, *common),
    )
    train(*parsed, callbacks=[StopAt(4)])
    assert (resumed / "checkpoint-4" / "adapter_model.safetensors").is_file()
    assert max(r["step"] for r in read_loss_log(resumed)) == 4

    main(argv(base_dir, pairs_file, resumed, *common))  # picks up checkpoint-4 by itself

    assert [step for step, _ in training_losses(resumed)] == [1, 2, 3, 4, 5, 6]
    assert not (resumed / "merged").exists()  # --no-merge
    a = load_file(straight / "adapter" / "adapter_model.safetensors")
    b = load_file(resumed / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and a
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-6)


# -- the packaged SmolLM2 GGUF -----------------------------------------------------------------
@pytest.mark.slow
def test_the_packaged_gguf_loads_as_plain_trainable_weights(tokenizer, tmp_path):
    """GGUF weights come dequantized and unmarked: the Trainer accepts the model (it refuses
    "GGUF-quantized" ones) and save_pretrained writes a plain checkpoint. ~20 s to load."""
    from train_lora import load_base, save_merged
    from transformers.trainer_utils import validate_quantization_for_training

    model, gguf_tokenizer, model_id = load_base(LoraModelArguments(model="smollm2"))
    assert model_id == "SmolLM2-135M-Instruct.Q4_1"
    assert not getattr(model, "is_quantized", False)
    assert isinstance(model.model.layers[0].mlp.down_proj, torch.nn.Linear)
    model = apply_lora(model, LoraModelArguments(layers="-1", lora_dropout=0.0))
    validate_quantization_for_training(model)  # raises for a quantized base

    merged = save_merged(model, gguf_tokenizer, tmp_path / "smollm2-merged", "auto")

    config = json.loads((merged / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (merged / "model.safetensors").is_file()
    # LoRA's B starts at zero: the merged weights are the base's, saved and reloaded intact.
    generator = TransformersGenerator.load(str(merged))
    try:
        question = [ChatMessage("user", "What is the capital of France? Answer in one word.")]
        events = list(
            generator.generate(
                question, SamplingParams(max_tokens=12, temperature=0), threading.Event()
            )
        )
        assert "paris" in join_text(events).lower()
        assert events[-1].reason == "stop"
    finally:
        generator.close()
