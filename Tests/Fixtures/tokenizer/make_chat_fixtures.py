#!/usr/bin/env python3
"""Regenerates chat-templates.json: templates rendered by Python jinja2 (not run by tests).

    python3 make_chat_fixtures.py --model ../../../models/SmolLM2-135M-Instruct.Q4_1.gguf

Environment as Hugging Face's apply_chat_template: ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True), raise_exception global, tojson = json.dumps(ensure_ascii=False).
"""
import argparse, json, os
import gguf
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError

LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}"
          "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
          "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
          "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")

# Exercises the rest of the subset: whitespace control, elif, namespace, filters, methods, tests.
KITCHEN_SINK = """{#- a comment -#}
{%- set ns = namespace(count=0, system='') %}
{%- if messages and messages[0].role == 'system' %}
    {%- set ns.system = messages[0]['content'].strip() %}
    {%- set rest = messages[1:] %}
{%- else %}
    {%- set rest = messages %}
{%- endif %}
<sys>{{ ns.system | default('none given', true) | upper }}</sys>
{% for m in rest %}
  {% if m.role not in ['user', 'assistant'] %}
    {{ raise_exception('Unknown role: ' ~ m.role) }}
  {% elif m.role == 'user' %}
    {% set ns.count = ns.count + 1 %}
[{{ loop.index }}/{{ loop.length }}{{ '*' if loop.first }}{{ '$' if loop.last else '' }}] USER{{ ns.count }}: {{ m.content | trim }}
  {% else %}
[{{ loop.index0 }}] BOT({{ m.content | length }}): {{ m['content'].lower() ~ '!' }}{% if m.content.startswith('Sure') %} (sure){% endif %}

  {% endif %}
{% endfor %}
{%- if add_generation_prompt -%}
    {{- '>>' + ' ' -}}
{% endif %}
{{ rest | length > 2 and 'long' or 'short' }} {{ 3 * 2 + 1 }} {{ 7 // 2 }} {{ 'x' in 'xyz' }} {{ none is none }} {{ [1, 2, 3] | join('-') }} {{ 'a,b'.split(',') }} {{ {'k': 'v'} | tojson }} {{ messages | first is mapping }} {{ ((messages or [{'role': 'nobody'}]) | last).role | capitalize }} {{ undefined_var is defined }} {{ range(3) | list }} {{ -5 | abs }} {{ 'Hi  ' | trim | replace('H', 'h') }}
"""

CONVERSATIONS = {
    "single_user": [{"role": "user", "content": "Hello!"}],
    "with_system": [
        {"role": "system", "content": "  Be terse.  "},
        {"role": "user", "content": "What is 2+2?\n"},
        {"role": "assistant", "content": "Sure: 4"},
        {"role": "user", "content": "  And 3+3? \u2764\ufe0f "},
    ],
    "assistant_first": [
        {"role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": "Tell me a joke about \"quotes\" and 'apostrophes'."},
    ],
    "empty": [],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "chat-templates.json"))
    a = ap.parse_args()
    r = gguf.GGUFReader(a.model)
    templates = {"smollm2": r.fields["tokenizer.chat_template"].contents(), "llama3": LLAMA3,
                 "kitchen_sink": KITCHEN_SINK}

    def raise_exception(msg):
        raise TemplateError(msg)

    renders = []
    for trim in (True, False):
        env = ImmutableSandboxedEnvironment(trim_blocks=trim, lstrip_blocks=trim)
        env.globals["raise_exception"] = raise_exception
        env.filters["tojson"] = lambda x, indent=None: json.dumps(x, ensure_ascii=False, indent=indent)
        for tname, src in templates.items():
            if not trim and tname != "kitchen_sink":
                continue
            t = env.from_string(src)
            for cname, msgs in CONVERSATIONS.items():
                for agp in (True, False):
                    out = t.render(messages=msgs, add_generation_prompt=agp, bos_token="<BOS>", eos_token="<EOS>")
                    renders.append({"template": tname, "conversation": cname, "addGenerationPrompt": agp,
                                    "trimBlocks": trim, "output": out})
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    try:
        env.from_string(KITCHEN_SINK).render(messages=[{"role": "tool", "content": "x"}], add_generation_prompt=False)
        raised = None
    except TemplateError as e:
        raised = str(e)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"templates": templates, "conversations": CONVERSATIONS, "renders": renders,
                   "raised": {"template": "kitchen_sink", "messages": [{"role": "tool", "content": "x"}],
                              "message": raised}}, f, ensure_ascii=True, indent=1)
    print("wrote", len(renders), "renders")


if __name__ == "__main__":
    main()
