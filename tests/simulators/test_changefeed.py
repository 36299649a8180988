import pytest

from simulators.changefeed import ChangeFeed, InvalidCursor


def read_all(feed, limit):
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        page, cursor = feed.page(cursor, limit)
        if not page:
            return seen, cursor
        seen.extend(page)


def test_every_change_once_in_order_then_new_ones_after_the_cursor():
    feed = ChangeFeed({"id": n} for n in range(7))
    seen, cursor = read_all(feed, 3)
    assert [c["id"] for c in seen] == list(range(7))
    assert [c["seq"] for c in seen] == sorted(c["seq"] for c in seen)
    feed.append({"id": "later"})
    page, _ = feed.page(cursor, 100)
    assert [c["id"] for c in page] == ["later"]


def test_an_empty_feed_is_up_to_date():
    page, cursor = ChangeFeed().page(None, 10)
    assert page == []
    assert ChangeFeed().page(cursor, 10)[0] == []


@pytest.mark.parametrize("cursor", ["nonsense!", "c2VxOmFi", "b3RoZXI6MQ"])
def test_foreign_cursors_are_refused(cursor):
    with pytest.raises(InvalidCursor):
        ChangeFeed().page(cursor, 10)
