"""The competitive-coding benchmark: run a cc flow over problems, score it, report it.

config      BenchConfig: flow, problems, model, jobs, samples, out (saved as run.json)
runner      run_bench: concurrent, resumable, one JSON line per attempt (records.jsonl)
records     ProblemRecord, RecordFile
metrics     pass_at_k (unbiased), bootstrap_ci, estimate
report      build_report / write_report: report.json, report.md, report.png (plot.py)
model_check check_model_available, check_flow_models: fail before any problem (no model, no key,
            unknown model, prompt longer than the context window)
runs        run_folder, resume_config: one run folder per key (model, flow config, problems, judge)
demo        the main job (`python -m aiflows.bench.demo`)

from aiflows.bench import BenchConfig, run_bench
result = asyncio.run(run_bench(BenchConfig(flow="Code_Debug", problems=["samples"])))
result.report.pass_at_k["1"].value
"""

from .config import BenchConfig, check_resumable, default_flows_dir
from .metrics import Estimate, bootstrap_ci, estimate, mean_pass_at_k, pass_at_k
from .model_check import check_flow_models, check_model_available
from .records import ProblemRecord, RecordError, RecordFile
from .report import Group, Report, build_report, write_report
from .runner import BenchResult, load_cc_flow, run_bench
from .runs import resume_config, run_folder

__all__ = [
    "BenchConfig",
    "BenchResult",
    "Estimate",
    "Group",
    "ProblemRecord",
    "RecordError",
    "RecordFile",
    "Report",
    "bootstrap_ci",
    "build_report",
    "check_flow_models",
    "check_model_available",
    "check_resumable",
    "default_flows_dir",
    "estimate",
    "load_cc_flow",
    "mean_pass_at_k",
    "pass_at_k",
    "resume_config",
    "run_bench",
    "run_folder",
    "write_report",
]
