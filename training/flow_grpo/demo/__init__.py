"""The Flow-GRPO reproduction on CPU: a tiny planner, warm-started, trained in the flow on kbqa (`make demo-train`).

task.py        the agent (trained planner, scripted executor/verifier/generator, retrieve/calculator/finish)
policy.py      the tiny model and tokenizer built here, the batched in-process backend, the weak demonstrator
warm_start.py  supervised training on the demonstrator's traces
rollouts.py    concurrent agent runs with the planner's recorder attached
grpo.py        rows, group advantages (broadcast, last-turn, shuffled) and the clipped, KL-penalised step
report.py      95% bootstrap intervals, the table and the learning curves
run.py         the arms and seeds end to end
"""

__all__: list[str] = []
