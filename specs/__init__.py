"""The OpenAPI documents, shipped in the wheel as conformance.specs (read with importlib.resources)."""
