"""Development tools shared by the tests and the benchmark."""
