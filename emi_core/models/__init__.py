"""Models: the offline EMI prior, expression and the paper's temporal regressors (``paper``), and their serving interface."""
