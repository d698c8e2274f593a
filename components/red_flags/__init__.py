"""The red-flag detector: finds the handout's warning signs in patients' words.

`detector.RedFlagDetector` runs a small spaCy pipeline (tokenizer, spelling normaliser,
concept matcher, ConText) over a message and says which warning signs it describes, and
whether each is present, negated, hypothetical or historical. The Rasa component that
puts it in the NLU pipeline is `components.red_flag_detector`.

Nothing is imported here: the action server reads only `lexicon` (the data file), and
importing spaCy there would load TensorFlow through thinc, for nothing.
"""
