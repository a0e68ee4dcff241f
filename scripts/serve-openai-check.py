#!/usr/bin/env python3
"""Checks a running `trident serve` with the official `openai` Python client.

Usage: serve-openai-check.py --base-url http://127.0.0.1:8000/v1 --model NAME [--api-key K] [--chat]

Covers: models, completions (greedy, logprobs, n > 1, stop, echo), streaming with usage,
chat (with --chat: the model has a chat template), and error statuses (400, 404, 401).
Prints one line per check and 'N passed, M failed'; exits non-zero on any failure.
"""
import argparse
import sys

import openai

results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))


def expect_status(name, status, call):
    try:
        call()
        check(name, False, "no error raised")
    except openai.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        check(name, error.status_code == status and "message" in body,
              f"status {error.status_code}, body {error.body}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key", default="none")
    parser.add_argument("--chat", action="store_true")
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=120)
    model = args.model

    ids = [m.id for m in client.models.list().data]
    check("models lists the served model", ids == [model], ids)

    prompt = "Once upon a time"
    greedy = client.completions.create(model=model, prompt=prompt, max_tokens=16, temperature=0)
    text = greedy.choices[0].text
    check("greedy completion", greedy.object == "text_completion" and len(text) > 0
          and greedy.usage.completion_tokens > 0, greedy)
    again = client.completions.create(model=model, prompt=prompt, max_tokens=16, temperature=0)
    check("greedy is deterministic", again.choices[0].text == text)

    stream = client.completions.create(model=model, prompt=prompt, max_tokens=16, temperature=0, stream=True,
                                       stream_options={"include_usage": True})
    chunks = list(stream)
    streamed = "".join(c.choices[0].text for c in chunks if c.choices)
    check("streamed text equals the plain text", streamed == text, (streamed, text))
    check("usage in the last chunk", chunks[-1].usage is not None
          and chunks[-1].usage.completion_tokens == greedy.usage.completion_tokens, chunks[-1])

    lp = client.completions.create(model=model, prompt=prompt, max_tokens=6, temperature=0, logprobs=2)
    logprobs = lp.choices[0].logprobs
    check("logprobs per token", logprobs is not None and len(logprobs.tokens) == len(logprobs.token_logprobs) > 0
          and all(v <= 0 for v in logprobs.token_logprobs) and all(len(t) <= 2 for t in logprobs.top_logprobs),
          logprobs)

    many = client.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=1.0, n=3, seed=11)
    check("n=3 gives three choices", sorted(c.index for c in many.choices) == [0, 1, 2], many)

    if len(text) >= 6:
        stop = text[3:5]
        stopped = client.completions.create(model=model, prompt=prompt, max_tokens=16, temperature=0, stop=[stop])
        check("stop cuts the text", stopped.choices[0].text == text[:text.index(stop)]
              and stopped.choices[0].finish_reason == "stop", stopped.choices[0])

    echoed = client.completions.create(model=model, prompt=prompt, max_tokens=4, temperature=0, echo=True)
    check("echo prepends the prompt", echoed.choices[0].text.startswith(prompt), echoed.choices[0].text)

    if args.chat:
        messages = [{"role": "user", "content": "What is the capital of France?"}]
        chat = client.chat.completions.create(model=model, messages=messages, max_tokens=16, temperature=0,
                                              logprobs=True, top_logprobs=2)
        content = chat.choices[0].message.content
        check("chat completion", chat.object == "chat.completion" and chat.choices[0].message.role == "assistant"
              and len(content) > 0, chat)
        check("chat logprobs", chat.choices[0].logprobs is not None
              and "".join(e.token for e in chat.choices[0].logprobs.content) == content, chat.choices[0].logprobs)
        parts = list(client.chat.completions.create(model=model, messages=messages, max_tokens=16, temperature=0,
                                                    stream=True))
        deltas = "".join(p.choices[0].delta.content or "" for p in parts if p.choices)
        check("streamed chat equals plain chat", deltas == content, (deltas, content))
        expect_status("unknown role -> 400", 400, lambda: client.chat.completions.create(
            model=model, messages=[{"role": "wizard", "content": "hi"}]))

    expect_status("max_tokens 0 -> 400", 400,
                  lambda: client.completions.create(model=model, prompt=prompt, max_tokens=0))
    expect_status("top_p 2 -> 400", 400,
                  lambda: client.completions.create(model=model, prompt=prompt, top_p=2))
    expect_status("empty prompt -> 400", 400, lambda: client.completions.create(model=model, prompt=""))
    expect_status("unknown model -> 404", 404,
                  lambda: client.completions.create(model="no-such-model", prompt=prompt))
    if args.api_key != "none":
        bad = openai.OpenAI(base_url=args.base_url, api_key="wrong", max_retries=0)
        expect_status("wrong key -> 401", 401, lambda: bad.models.list())

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
