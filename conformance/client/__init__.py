"""Client certification: the sandbox judges every request a partner's Push or Imbee client sends.

One direction of flow, as for a service run, with a capture phase in front:

    client ──► sandbox behind `recording.Recording` ──► journal (JSONL, masked) ──► client suite ──► judge ──► reports

- `session`: one certification: the minted credentials, the sandbox behind the recording layer, the journal;
- `requests`: what a request was (operation, credentials, media type, encoding, JSON) in plain values;
- `rules`: the per-request client rules of each API (`x-client-requirements`, `check: request`);
- `recording`: the WSGI layer that records each exchange, judges it, shows it live, and plays the step's stance;
- `scenarios`: the numbered steps of each API's checklist, what completes each, and how the sandbox misbehaves;
- `driver`: walks the steps, running the partner's client (`--client-command`) or waiting for a person.

The suites `conformance.suites.<api>_client` then turn the journal into records (behaviour rules are judged there,
over each step's requests), and the one judge gives the verdict, as for `conformance run`.
"""
