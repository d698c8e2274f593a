"""Compare the intent classifier's feature sets on held-out messages: accuracy and cost.

Candidates: TF-IDF n-grams alone (the first version), the sentence encoder alone (static
word-piece average, or the full all-MiniLM-L6-v2 transformer), and TF-IDF plus either.
Each is trained on data/nlu/ and scored on every labelled set given (a YAML file in
Rasa's NLU format). Writes a Markdown table for docs/nlu.md.
Usage: python -m devtools.compare_encoders tests/nlu_holdout.yml --blind tests/blind/set_*.yml
(a blind set's topic counts as right when the predicted intent's answer quotes the
expected handout words; out of scope, when the intent answers honestly.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml
from sklearn.metrics import accuracy_score, f1_score

from components.encoder.minilm import SentenceEncoder, shared_encoder
from components.text_model import TextModel

PROJECT = Path(__file__).resolve().parent.parent


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        (line.strip()[2:].strip(), block["intent"])
        for block in data.get("nlu", [])
        if "intent" in block
        for line in block.get("examples", "").splitlines()
        if line.strip().startswith("- ")
    ]


def fold(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("’", "'").lower().split())


def blind_examples(path: Path) -> List[Tuple[str, Tuple[str, ...]]]:
    """(last turn, intents whose answer quotes the expected words) of a blind set's topics,
    and its out-of-scope items with the intents that answer honestly."""
    from actions.knowledge import load_knowledge

    kb = load_knowledge()
    quoted = {}
    for name, topic in kb.topics.items():
        answers = [topic.answer] if topic.answer else list(topic.phases.values())
        quoted[name] = fold(" ".join(q.text for a in answers for q in a.quotes))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for item in data.get("topics", []):
        want = fold(item["quote"])
        pairs.append((item["turns"][-1], tuple(n for n, text in quoted.items() if want in text)))
    honest = (
        "out_of_scope",
        "nlu_fallback",
        *[
            n
            for n, t in kb.topics.items()
            if any(a.note for a in ([t.answer] if t.answer else t.phases.values()))
        ],
    )
    pairs += [(item["turns"][-1], honest) for item in data.get("out_of_scope", [])]
    return pairs


def training_examples() -> List[Tuple[str, str]]:
    return [pair for path in sorted((PROJECT / "data" / "nlu").glob("*.yml")) for pair in nlu_examples(path)]


CANDIDATES: Dict[str, Tuple[str | None, float, bool]] = {
    # name: (pooling, encoder weight, TF-IDF n-grams)
    "TF-IDF only (first version)": (None, 0.0, True),
    "static word-piece average only": ("static", 1.0, False),
    "MiniLM-L6 only": ("mean", 1.0, False),
    "TF-IDF + static average": ("static", 1.0, True),
    "TF-IDF + MiniLM-L6 (weight 0.5)": ("mean", 0.5, True),
    "TF-IDF + MiniLM-L6 (weight 1)": ("mean", 1.0, True),
    "TF-IDF + MiniLM-L6 (weight 2)": ("mean", 2.0, True),
}


def encode_cost(encoder: SentenceEncoder | None, texts: List[str]) -> float:
    """Median milliseconds to encode one message, uncached."""
    if encoder is None:
        return 0.0
    times = []
    for text in texts[:200]:
        start = time.perf_counter()
        encoder._forward(encoder._ids([text]))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--blind", nargs="*", type=Path, default=[], help="blind sets (tests/blind/ format)")
    args = parser.parse_args()
    train = training_examples()
    texts, labels = [t for t, _ in train], [i for _, i in train]
    sets = {path.name: [(t, (i,)) for t, i in nlu_examples(path)] for path in args.sets}
    sets.update({path.name: blind_examples(path) for path in args.blind})
    header = (
        "| candidate | "
        + " | ".join(f"{name} accuracy | macro-F1" for name in sets)
        + " | encode ms (median) |"
    )
    print(header)
    print("|" + "---|" * (2 + 2 * len(sets)))
    for name, (pooling, weight, ngrams) in CANDIDATES.items():
        encoder = shared_encoder(pooling=pooling) if pooling else None
        model = TextModel(c=0.5, encoder_weight=weight, use_ngrams=ngrams).fit(texts, labels, encoder)
        cells = []
        for examples in sets.values():
            rows = model.confidences([t for t, _ in examples], encoder, 8.0)
            # as in the pipeline: below the FallbackClassifier threshold (0.3) is nlu_fallback
            predicted = [model.classes_[r.argmax()] if r.max() >= 0.3 else "nlu_fallback" for r in rows]
            gold = [p if p in want else (want[0] if want else "no answer quotes it")
                    for (_, want), p in zip(examples, predicted, strict=True)]
            cells.append(
                f"{accuracy_score(gold, predicted):.3f} | {f1_score(gold, predicted, average='macro'):.3f}"
            )
        cost = encode_cost(encoder, [t for examples in sets.values() for t, _ in examples])
        print(f"| {name} | " + " | ".join(cells) + f" | {cost:.1f} |", flush=True)


if __name__ == "__main__":
    main()
