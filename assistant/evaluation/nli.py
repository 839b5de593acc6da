"""NLI cross-encoders for groundedness, chosen by ``Settings.eval_nli_model``.

``fake`` is a deterministic word-overlap stand-in for tests; anything else is a sentence-transformers
``CrossEncoder`` NLI model (e.g. ``cross-encoder/nli-deberta-v3-xsmall``) loaded from a local path or the
local Hugging Face cache, never downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.errors import BackendUnavailable
from assistant.evaluation.support import Entailment
from assistant.evaluation.text import content_terms

FAKE = "fake"


class OverlapEntailment:
    """Fake NLI: the share of the hypothesis's content terms that the premise contains."""

    id = "fake-overlap"

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        out = []
        for premise, hypothesis in pairs:
            terms = content_terms(hypothesis)
            out.append(len(terms & content_terms(premise)) / len(terms) if terms else 0.0)
        return out


class CrossEncoderEntailment:
    """A sentence-transformers NLI cross-encoder; the entailment column is read from the model config."""

    def __init__(self, model: str) -> None:
        self.id = model
        try:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(model, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(
                f"cannot load NLI model {model!r}: {exc}",
                hint="set ASSISTANT_EVAL_NLI_MODEL to a local cross-encoder NLI model folder, or unset it",
            ) from exc
        labels = {str(v).lower(): int(k) for k, v in self._model.config.id2label.items()}
        column = next((i for name, i in labels.items() if name.startswith("entail")), None)
        if column is None:
            raise BackendUnavailable(
                f"{model!r} has no entailment label (labels: {', '.join(labels)})",
                hint="use an NLI cross-encoder, e.g. cross-encoder/nli-deberta-v3-xsmall",
            )
        self._column = column

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        logits = np.asarray(self._model.predict(list(pairs), apply_softmax=False), dtype=np.float64)
        logits = logits.reshape(len(pairs), -1)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = exp / exp.sum(axis=1, keepdims=True)
        return [float(p) for p in probs[:, self._column]]


def make_nli(name: str) -> Entailment:
    if name == FAKE:
        return OverlapEntailment()
    return CrossEncoderEntailment(name)
