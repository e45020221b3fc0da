"""aiflows/cc: the competitive-coding flows (see `flow.py`); a hub flow folder."""
