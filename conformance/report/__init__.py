"""Writers of the run's artefacts: the exchange records, the verdict JSON and the HTML report's extras."""
