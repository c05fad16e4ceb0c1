"""The pytest-html report: its title, the verdict summary on top, a requirements column, failure extras.

Registered by the plugin for an active run only (pytest-html's hooks carry no config to find it with).
"""

from __future__ import annotations

import html as html_escape
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..run import Run


class HtmlReport:
    def __init__(self, run: Run, config: pytest.Config) -> None:
        self.run, self.config = run, config

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        kind = "client certification" if self.run.client is not None else "conformance"
        report.title = f"{self.run.profile.spec['info']['title']}: {kind} report"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: Any
    ) -> None:
        from ..report import verdict_json
        from ..report.html import summary_html
        from . import VERDICT

        verdict = self.config.stash.get(VERDICT, None)
        if verdict is not None:
            prefix.append(summary_html(verdict_json.build(self.run, verdict)))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="requirements">Requirements</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        ids = dict(getattr(report, "user_properties", [])).get("requirements", "")
        cells.insert(2, f'<td class="col-requirements">{html_escape.escape(ids)}</td>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: Any, data: list[str]) -> None:
        """A failed test's row says what its finding says; the Python traceback stays in the log. Any other row
        keeps pytest-html's text (already HTML-escaped), its control characters made visible."""
        from ..report.html import short_failure, visible

        warning = getattr(report, "conformance_warning", "")  # set where the test ran (this process or a worker)
        if report.passed and warning:  # advice not followed: a warning, never a failure
            data[:] = [short_failure(f"warning (advisory: the run does not fail on it): {warning}")]
            return
        if not report.failed:
            data[:] = [visible(text) for text in data]
            return
        finding = getattr(report, "conformance_finding", "")  # set where the test ran (this process or a worker)
        data[:] = [short_failure(finding or "failed: the log has the details")]

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if not report.failed:
            return
        try:
            from pytest_html import extras
        except ImportError:  # the HTML report is optional when the plugin runs under plain pytest
            return
        from ..report.html import visible

        exchange = self.run.recorder.last_exchange
        added = getattr(report, "extras", [])
        if exchange:  # the JSON extra is written with every control character \u-escaped; the text one is not
            added.append(extras.text(visible(exchange["curl"]), name="curl (reproduce)"))
            added.append(
                extras.json({k: exchange.get(k) for k in ("request", "response", "note")}, name="request and response")
            )
        report.extras = added
