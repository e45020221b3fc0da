"""Generative training: conditional flow matching, MeanFlow and SplitMeanFlow (`aiflows train gen config.yaml`).

config.py   the one flat, typed configuration (a default and a comment per field)
data.py     8 gaussians, two moons, checkerboard, scikit-learn's 8x8 digits
train.py    the loop, top to bottom: data, network, optimizer, loss, EMA, checkpoints, samples
plots.py    PNG sample grids and curves
cli.py      the `gen` subcommand of `aiflows train`
"""

__all__: list[str] = []
