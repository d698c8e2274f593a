"""Speed and memory benchmark of the assistant (`make bench`)."""
