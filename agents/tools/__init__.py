"""Tools as flows: each servable on another machine, each describing itself to the planner.

calculator    CalculatorTool   exact arithmetic with a real parser
retrieve      RetrieveTool     dense retrieval (all-MiniLM-L6-v2), BM25 without the model
web_search    WebSearchTool    a search API behind `SearchBackend` (Brave's shape)
generalist    GeneralistTool   a chat model answering a sub-question
python_coder  PythonCoderTool  a model writes Python; the judge's sandbox runs it
"""

from .base import DESCRIBE, ToolFlow, ToolResult, metadata_of
from .calculator import CalculationError, CalculatorTool, evaluate, format_fraction
from .model_tools import GeneralistTool, PythonCoderTool, extract_code
from .retrieve import BM25, DenseIndex, RetrieveConfig, RetrieveTool, load_corpus, minilm_path
from .web_search import BraveSearch, SearchBackend, SearchError, SearchHit, WebSearchConfig, WebSearchTool

__all__ = [
    "BM25",
    "BraveSearch",
    "CalculationError",
    "CalculatorTool",
    "DESCRIBE",
    "DenseIndex",
    "GeneralistTool",
    "PythonCoderTool",
    "RetrieveConfig",
    "RetrieveTool",
    "SearchBackend",
    "SearchError",
    "SearchHit",
    "ToolFlow",
    "ToolResult",
    "WebSearchConfig",
    "WebSearchTool",
    "evaluate",
    "extract_code",
    "format_fraction",
    "load_corpus",
    "metadata_of",
    "minilm_path",
]
