"""The sentence encoder as a Rasa model provider, like SpacyNLP for spaCy.

Rasa builds one `provide_SentenceEncoderProvider` node per model and passes what it
returns as `model` to every component registered with
`model_from="SentenceEncoderProvider"`: the intent classifier and the red-flag detector
share one copy of the weights (about 90 MiB) and one cache of vectors.
"""

from __future__ import annotations

from typing import Any, Dict

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from components.configured import ConfiguredComponent
from components.encoder.minilm import SentenceEncoder, shared_encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MODEL_LOADER, is_trainable=False)
class SentenceEncoderProvider(ConfiguredComponent):
    """Loads all-MiniLM-L6-v2 once per process (components/encoder/minilm.py); nothing to
    train: the weights are pretrained and installed with the project."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """`pooling`: mean (the model card's) or static; `runtime`: auto, onnx or numpy."""
        return {"pooling": "mean", "runtime": "auto"}

    def provide(self) -> SentenceEncoder:
        """The process's shared encoder for this configuration."""
        return shared_encoder(pooling=self._config["pooling"], runtime=self._config["runtime"])
