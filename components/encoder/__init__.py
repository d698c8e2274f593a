"""The pretrained sentence encoder (all-MiniLM-L6-v2) run with numpy, and its Rasa component."""
