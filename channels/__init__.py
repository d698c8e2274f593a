"""Input channels of the spine-clinic assistant."""
