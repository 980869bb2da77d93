"""Language-model figures: service vs in-process decoding speed, enrichment latency, first token.

Run from the repository root: `python bench/bench_generation.py [--generator llama-cpp:default]`.
Prints (measurements only, nothing is asserted):
- decoding tokens/s through POST /v1/chat/completions (streamed) vs llama-cpp-python called
  in-process on the same prompt and settings, and their ratio (target >= 0.9);
- /v1/enrich latency p50/p95 over the quality set (data/enrichment/quality.jsonl, cache off),
  split into prompt processing and generation, and which dominates (target p50 <= 2.5 s);
- time to the first streamed token for a ~500-token prompt.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.bench_embeddings import free_port, start_service, wait_for_idle_cpu  # noqa: E402
from model_service.config import Settings  # noqa: E402
from model_service.evaluation import load_quality_set  # noqa: E402
from model_service.generators.base import ChatMessage  # noqa: E402

STORY = [
    ChatMessage("system", "You are a film critic."),
    ChatMessage("user", "Describe the plot of a heist movie you would love to see, in detail."),
]
MAX_TOKENS = 128


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_process_tokens_per_second(generator_spec: str, rounds: int) -> tuple[float, int]:
    """Decode speed of llama-cpp-python itself (no service code), on the service's prompt."""
    from llama_cpp import Llama

    from model_service.generators.factory import GeneratorSpec, gguf_file
    from model_service.generators.llama_cpp import LlamaCppGenerator

    settings = Settings(generator=generator_spec, threads=2)  # as the service below runs it
    path, _ = gguf_file(GeneratorSpec.parse(generator_spec), settings)
    llama = Llama(
        model_path=str(path),
        n_ctx=settings.generator_context,
        n_threads=settings.threads,
        n_threads_batch=settings.threads,
        verbose=False,
    )
    # The service's own prompt rendering (the model's chat template), on this same instance.
    prompt = LlamaCppGenerator(llama, model_id="bench", path=path).render_prompt(STORY)
    tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
    speeds, produced = [], 0
    for _ in range(rounds):
        llama.reset()  # no KV reuse: each round processes the prompt, as the service's first does
        wait_for_idle_cpu()
        first = last = None
        count = 0
        for _chunk in llama.create_completion(
            tokens, max_tokens=MAX_TOKENS, temperature=0, stream=True
        ):
            now = time.perf_counter()
            first = first or now
            last = now
            count += 1
        produced = count
        if first and last and count > 1:
            speeds.append((count - 1) / (last - first))
    llama.close()
    return statistics.median(speeds), produced


def stream_chat(base_url: str, messages: list[dict], max_tokens: int) -> dict:
    started = time.perf_counter()
    first = last = None
    chunks = 0
    usage = {}
    with httpx.stream(
        "POST",
        f"{base_url}/v1/chat/completions",
        json={
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        timeout=300,
    ) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                usage = chunk["usage"]
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                now = time.perf_counter()
                first = first or now
                last = now
                chunks += 1
    return {
        "ttft_s": (first or time.perf_counter()) - started,
        "decode_s": (last or 0) - (first or 0),
        "chunks": chunks,
        "completion_tokens": usage.get("completion_tokens", chunks),
        "prompt_tokens": usage.get("prompt_tokens", 0),
    }


def long_prompt(words: int = 380) -> list[dict]:
    cases = load_quality_set()
    text = " ".join(case.message for case in cases)
    body = " ".join(text.split()[:words])
    return [
        {"role": "system", "content": "You summarise movie requests."},
        {"role": "user", "content": f"[{time.time()}] Summarise these requests: {body}"},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", default="llama-cpp:default")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--enrich-cases", type=int, default=0, help="0 = the whole quality set")
    args = parser.parse_args()

    print(f"generator: {args.generator}; 2 threads; greedy; max_tokens {MAX_TOKENS}")
    in_process, produced = in_process_tokens_per_second(args.generator, args.rounds)
    print(f"in-process llama-cpp-python: {in_process:.1f} tokens/s ({produced} tokens)")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = start_service(
            port, 2, [f"MODEL_GENERATOR={args.generator}", "ENRICH_CACHE_SIZE=0"], log
        )
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"model service exited:\n{log.read().decode()[-3000:]}")
                time.sleep(0.3)
            messages = [{"role": m.role, "content": m.content} for m in STORY]
            speeds = []
            for _ in range(args.rounds):
                wait_for_idle_cpu()
                result = stream_chat(base_url, messages, MAX_TOKENS)
                tokens = result["completion_tokens"]
                if result["decode_s"] > 0 and tokens > 1:
                    speeds.append((tokens - 1) / result["decode_s"])
            service = statistics.median(speeds)
            print(f"through the service (SSE):   {service:.1f} tokens/s ({tokens} tokens)")
            print(f"ratio service / in-process:  {service / in_process:.2f}  (target >= 0.9)")

            ttfts = []
            for _ in range(args.rounds):
                wait_for_idle_cpu()
                result = stream_chat(base_url, long_prompt(), 8)
                ttfts.append(result["ttft_s"])
            print(
                f"time to first token, {result['prompt_tokens']}-token prompt (not cached): "
                f"median {statistics.median(ttfts) * 1000:.0f} ms over {len(ttfts)} runs"
            )

            cases = load_quality_set()
            if args.enrich_cases:
                cases = cases[: args.enrich_cases]
            latencies, prompt_ms, generation_ms, fallbacks, completion = [], [], [], 0, []
            with httpx.Client(timeout=120) as client:
                for case in cases:
                    body = client.post(
                        f"{base_url}/v1/enrich",
                        json={
                            "message": case.message,
                            "history": [{"role": r, "content": c} for r, c in case.history],
                        },
                    ).json()
                    latencies.append(body["latency_ms"] / 1000)
                    usage = body.get("usage") or {}
                    prompt_ms.append(usage.get("prompt_ms", 0.0))
                    generation_ms.append(usage.get("generation_ms", 0.0))
                    completion.append(usage.get("completion_tokens", 0))
                    fallbacks += bool(body["fallback"])
            p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
            mean_prompt = statistics.mean(prompt_ms)
            mean_generation = statistics.mean(generation_ms)
            print(
                f"enrichment over {len(cases)} requests: p50 {p50:.2f} s, p95 {p95:.2f} s "
                f"(target p50 <= 2.5 s); fallbacks {fallbacks}"
            )
            dominant = "generation" if mean_generation > mean_prompt else "prompt processing"
            print(
                f"  mean prompt processing {mean_prompt:.0f} ms, mean generation "
                f"{mean_generation:.0f} ms ({statistics.mean(completion):.0f} tokens): "
                f"{dominant} dominates"
            )
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
