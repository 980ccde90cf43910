"""What only training runs, kept out of the wheel: `python -m qa.training.train_spans` (the span
model), `python -m qa.training.train_reader` (the first stage, and the gate by `train_gate`), and
the fitting they share. Training may import the rest of qa (measuring's baselines included);
nothing else imports it."""
