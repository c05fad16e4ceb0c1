"""The conformance suites, one package per API. They run under the conformance pytest plugin."""
