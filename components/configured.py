"""Base for the pipeline's components that only read their settings from config.yml.

They train nothing and store nothing: Rasa creates them from the config each time, and
each keeps its defaults merged with what config.yml sets.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


class ConfiguredComponent(GraphComponent):
    """A stateless component: its defaults, overridden by its config.yml settings."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """Nothing to train or load: the component is its settings."""
        return cls(config)
