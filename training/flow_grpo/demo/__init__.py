"""The Flow-GRPO reproduction on CPU: a tiny planner, warm-started, trained in the flow on kbqa (`make demo-train`).

task.py        the agent (trained planner, scripted executor/verifier/generator, retrieve/calculator/finish)
policy.py      the tiny model (aiflows.llm.tiny, each action one token), the batched in-process backend,
               the weak demonstrator (finishes one hop short more often than not)
warm_start.py  supervised training on the demonstrator's traces
rollouts.py    concurrent agent runs in one in-memory runtime without a journal, the planner's recorder attached
grpo.py        the library's trajectories, group advantages (broadcast, last-turn, shuffled) and update
report.py      95% bootstrap intervals, the table and the learning curves
run.py         the arms and seeds end to end
"""

__all__: list[str] = []
