"""Measuring: answer quality (`eval`), speed (`bench`), load (`loadtest`), the verification
threshold (`calibrate`), their scores (`metrics`) and the tables they write (`report`)."""
