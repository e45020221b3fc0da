"""Read a package's YAML files (problem.yaml, testdata.yaml, submissions.yaml) the one way the
loaders do, for other packages (the judge's grading and package check) to share."""

from __future__ import annotations

from aiflows.problems._files import read_yaml_mapping

__all__ = ["read_yaml_mapping"]
