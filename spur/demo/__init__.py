"""The demo company: an apparel trader with 90 days of generated history."""

from spur.demo.fill import DemoSummary, fill_demo

__all__ = ["DemoSummary", "fill_demo"]
