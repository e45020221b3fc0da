"""Training built on aiflows: each trainer is one loop read top to bottom, started by `aiflows train <name>`.

    generative/   flow matching, MeanFlow and SplitMeanFlow on 2-D toys and 8x8 digits (`aiflows train gen`)

A trainer joins the `aiflows train` command through the `aiflows.train` entry-point group in
pyproject.toml (name -> `module:register`), so the library never imports this package.
"""

__all__: list[str] = []
