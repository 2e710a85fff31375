"""The consent rate limits on their own: windows, waits, and memory that does not grow for ever."""

from edge import ratelimit
from edge.ratelimit import rate_limits_exceeded, rate_parse

START = 1_800_000_000.0  # a window boundary for minutes and hours alike


def test_rates_read_as_count_per_unit():
    assert rate_parse("60/min") == (60, 60)
    assert rate_parse("20000/hour") == (20000, 3600)
    assert rate_parse("5/s") == (5, 1)


def test_the_limit_holds_within_a_window_and_the_wait_is_until_its_end():
    assert rate_limits_exceeded([("ip:a", "2/min")], now=START) is None
    assert rate_limits_exceeded([("ip:a", "2/min")], now=START + 10) is None
    assert rate_limits_exceeded([("ip:a", "2/min")], now=START + 15) == 45
    assert rate_limits_exceeded([("ip:b", "2/min")], now=START + 15) is None  # another key's budget
    assert rate_limits_exceeded([("ip:a", "2/min")], now=START + 60) is None  # a new window


def test_the_longest_wait_of_several_limits_is_given():
    limits = [("ip:a", "1/min"), ("site:1", "1/hour")]
    assert rate_limits_exceeded(limits, now=START) is None
    assert rate_limits_exceeded(limits, now=START + 30) == 3600 - 30


def test_windows_that_ended_are_forgotten_so_many_addresses_cannot_fill_the_memory():
    for n in range(5000):
        rate_limits_exceeded([(f"ip:{n}", "1/min")], now=START + n / 1000)
    assert len(ratelimit._counter.buckets) == 5000
    rate_limits_exceeded([("ip:late", "1/min")], now=START + 61)
    assert list(ratelimit._counter.buckets) == [f"consentry:rl:ip:late:{int(START) + 60}"]
