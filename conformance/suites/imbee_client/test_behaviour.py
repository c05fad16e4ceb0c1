"""How the client reacts to the sandbox's refusal of a chat (the refused step)."""

import pytest

from ..client_journal import resent_unchanged
from ..support import Run


@pytest.mark.requirement("C-IMB-09")
def test_no_unchanged_resend_after_refusal(run: Run) -> None:
    resent_unchanged(run, "refused", ("createChat",))
