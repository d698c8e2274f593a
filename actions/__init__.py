"""Custom actions of the spine-clinic assistant (run by the rasa-sdk action server)."""
