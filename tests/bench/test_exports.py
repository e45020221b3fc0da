from aiflows import bench


def test_all_names_the_public_api_and_nothing_else() -> None:
    public = {name for name in vars(bench) if not name.startswith("_")}
    modules = {
        "attempts",
        "cli_output",
        "config",
        "demo",
        "metrics",
        "model_check",
        "plot",
        "progress",
        "records",
        "report",
        "runner",
        "runs",
    }
    assert set(bench.__all__) == public - modules
    assert bench.__all__ == sorted(bench.__all__)
