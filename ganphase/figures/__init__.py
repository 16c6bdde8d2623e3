"""The paper's figures, one module per figure, each exposing ``make(profile, outdir) -> list of paths``."""
