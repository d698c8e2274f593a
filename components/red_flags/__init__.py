"""The red-flag detector: finds the handout's warning signs in patients' words.

`detector.RedFlagDetector` runs a small spaCy pipeline (tokenizer, spelling normaliser,
concept matcher, ConText) over a message and says which warning signs it describes, and
whether each is present, negated, hypothetical or historical. The Rasa component that
puts it in the NLU pipeline is `components.red_flag_detector`.
"""

from components.red_flags.detector import Finding, Mention, RedFlagDetector, Status
from components.red_flags.lexicon import LEVELS, Lexicon, load_lexicon

__all__ = ["LEVELS", "Finding", "Lexicon", "Mention", "RedFlagDetector", "Status", "load_lexicon"]
