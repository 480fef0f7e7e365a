"""The edge's tests reuse the phone line's fixtures (an in-process line, sipp)."""

from tests.telephony.conftest import sipp_installed

__all__ = ["sipp_installed"]
