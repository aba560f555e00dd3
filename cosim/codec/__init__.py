"""SemanticNN codec: soft quantization, split model, FAL training, XAI compensation, checkpoints, service.

Load a trained codec with `cosim.codec.checkpoint.load_codec("builtin:digits")` (imports torch).
"""
