"""Which reader answers: the trained artifact on ONNX Runtime where it can run there, else torch.

:func:`load_reader` lives apart from :mod:`qa.reader.model` (the torch reader) because it picks
between that and :class:`qa.runtime.reader.OnnxReader`, which is built on it: the model module
itself never imports the runtime.

>>> load_reader("rules") is None
True
"""

from __future__ import annotations

import logging

from qa.reader.model import PACKAGED_READER, SpanReader, TransformersReader, is_rules


def load_reader(spec: str | None, quantize: bool = False, onnx: bool | None = None) -> SpanReader | None:
    """The reader ``spec`` names, or None for the rules-based cutter. Loading itself is lazy.

    A reader artifact over a local BERT base (the packaged one included) runs on ONNX Runtime
    (:class:`qa.runtime.reader.OnnxReader`, int8 with ``quantize``) unless ``onnx`` is False (None:
    ``QA_ONNX``, default on); other readers (a transformers model by name) run on torch, in fp32:
    torch's dynamic int8 quantises activations per tensor and cost ~4 F1 where ONNX Runtime's
    per-channel int8 costs a fraction."""
    if is_rules(spec):
        return None
    # offline mode for the packaged base is set where its folder is resolved (qa.embed.resolve_model)
    reader = TransformersReader(spec or PACKAGED_READER)
    from qa.runtime import onnx_enabled

    if onnx_enabled() if onnx is None else onnx:
        from qa.runtime.reader import OnnxReader, reader_exportable

        why = reader_exportable(reader)
        if not why:
            return OnnxReader(spec or PACKAGED_READER, quantize=quantize)
        logging.getLogger("qa.reader.model").warning("reader %s takes the slow torch path (transformers, ~4 s to import): %s; "
                                            "reader artifact folders over a local BERT base run on ONNX Runtime", reader.spec, why)
    return reader
