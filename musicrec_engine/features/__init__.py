"""Feature extraction: one shared spectrum per file feeds both pipelines (MFCC-273 and statistical)."""
