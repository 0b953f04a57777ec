"""Models: the offline EMI prior, expression, the paper's regressors (``paper``) and their serving interface."""
