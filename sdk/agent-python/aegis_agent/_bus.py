"""The message bus of the agent API. Subjects are relative to your tenant; AEGIS scopes them.

    from aegis_agent import bus

    bus.publish("orders.created", {"id": 7})          # at most once, to whoever listens now
    with bus.subscribe("orders.*") as sub:            # needs permissions.bus.subscribe
        msg = sub.next(timeout=5)                     # a Message, an Overflow (you were too slow), or None
        if msg and msg.reply_to:
            msg.respond({"ok": True})                 # replies need no grant
    answer = bus.request("prices.quote", {"sku": "x"}, timeout=2)   # the reply's data

Errors raise AegisError: "policy_denied" (not in permissions.bus), "timeout" (no reply in time).
"""
import collections

import aegis_agent as _api


class Message:
    def __init__(self, raw):
        self.subject = raw["subject"]
        self.data = raw.get("data")
        self.reply_to = raw.get("reply_to")
        self.seq = raw.get("seq", 0)

    def respond(self, data=None):
        """Answers a request: publishes `data` on its reply subject."""
        if not self.reply_to:
            raise ValueError("message on %s is not a request: it has no reply subject" % self.subject)
        _api.call("bus.publish", {"subject": self.reply_to, "data": data})

    def __repr__(self):
        return "Message(%r, %r)" % (self.subject, self.data)


class Overflow:
    """`dropped` messages did not fit the subscription's buffer: read faster or ask for a bigger one."""

    def __init__(self, dropped):
        self.dropped = dropped

    def __repr__(self):
        return "Overflow(dropped=%d)" % self.dropped


class Subscription:
    def __init__(self, subject, buffer):
        self.subject = subject
        self.id = _api.call("bus.subscribe", {"subject": subject, "buffer": buffer})["subscription"]
        self._ready = collections.deque()

    def next(self, timeout=1.0):
        """The next Message or Overflow, waiting up to `timeout` seconds; None when nothing came."""
        if not self._ready:
            answer = _api.call("bus.next", {"subscription": self.id, "max": 100, "timeout_ms": int(timeout * 1000)},
                               timeout=timeout + 30)
            for raw in answer["messages"]:
                self._ready.append(Overflow(raw["overflow"]) if "overflow" in raw else Message(raw))
        return self._ready.popleft() if self._ready else None

    def __iter__(self):
        """Every delivery, waiting as long as it takes."""
        while True:
            d = self.next(timeout=30)
            if d is not None:
                yield d

    def close(self):
        _api.call("bus.unsubscribe", {"subscription": self.id})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Bus:
    def publish(self, subject, data=None):
        _api.call("bus.publish", {"subject": subject, "data": data})

    def request(self, subject, data=None, timeout=5):
        """Publishes `data` and returns the data of the first reply, waiting up to `timeout` seconds."""
        body = {"subject": subject, "data": data, "timeout_ms": int(timeout * 1000)}
        return _api.call("bus.request", body, timeout=timeout + 30).get("data")

    def subscribe(self, subject, buffer=256):
        """Subscribes to `subject` (* for one token, > for the rest); keeps up to `buffer` unread messages."""
        return Subscription(subject, buffer)


bus = _Bus()
