"""Tool flows a worker process serves (`aiflows serve agent_tools:calculator --redis ...`)."""

from __future__ import annotations

from agents.tools import CalculatorTool, RetrieveTool

calculator = CalculatorTool()
retrieve = RetrieveTool(config={"backend": "bm25"})  # the corpus comes from AIFLOWS_AGENT_CORPUS
