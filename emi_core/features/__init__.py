"""Feature extractors: AUs from the face mesh, voice prosody, and the paper's backbones."""
