"""Custom Rasa NLU components of the spine-clinic assistant."""
