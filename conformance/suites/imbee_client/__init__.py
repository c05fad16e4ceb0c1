"""The Imbee REST API client suite: judges the journal of what a partner's client sent
(`conformance certify-client imbee`)."""
