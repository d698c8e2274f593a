"""The sentence encoder as a Rasa model provider, like SpacyNLP for spaCy.

Rasa builds one `provide_SentenceEncoderProvider` node per model and passes what it
returns as `model` to every component registered with
`model_from="SentenceEncoderProvider"`: the intent classifier and the red-flag detector
share one copy of the weights (about 90 MiB) and one cache of vectors.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from components.encoder.minilm import SentenceEncoder, shared_encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MODEL_LOADER, is_trainable=False)
class SentenceEncoderProvider(GraphComponent):
    """Loads all-MiniLM-L6-v2 once per process (components/encoder/minilm.py)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """`pooling`: mean (the model card's) or static; `runtime`: auto, onnx or numpy."""
        return {"pooling": "mean", "runtime": "auto"}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderProvider:
        """Nothing to train: the weights are pretrained and installed with the project."""
        return cls(config)

    def provide(self) -> SentenceEncoder:
        """The process's shared encoder for this configuration."""
        return shared_encoder(pooling=self._config["pooling"], runtime=self._config["runtime"])
