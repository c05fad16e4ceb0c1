"""`conformance load`: the documented sending limit of the Push API checked at its scale, on Locust.

Its parts, one job each:
- `plan`: what is sent (rate, bounds, the request) and how the generators share it; no secret;
- `engine`: Locust's master and worker processes, started, bounded and stopped (Locust never runs in this process);
- `locustfile`: what runs inside them: each worker sends and counts, the master adds the counts up;
- `tally`: the counts, in tenth-of-a-second buckets (bounded whatever the rate);
- `measurement`: rates, refusals, latency and the counting readings, from the counts;
- `judging`: the measurement as records for the one judge (R-RATE-01, R-RATE-02, R-RATE-04);
- `report`: the verdict JSON and the HTML page with its charts.

Nothing here imports Locust or gevent except `locustfile`, which only Locust's own processes load.
"""
