"""Locks of the agent API: named, FIFO, leased, fenced.

    from aegis_agent import lock

    with lock("user_database") as token:      # waits its turn (30 s at most), renews the lease while held
        db.update(row, fence=token)           # give the token to the resource: it should refuse a lower one

    held = lock("reports/q3", mode="shared")  # or by hand, as in the seed
    ...
    held.release()

Errors raise AegisError: code "lock_timeout" (still busy), "deadlock" (waiting would close a cycle; release
something and retry), "policy_denied" (not in the manifest's permissions.locks).
"""
import threading

import aegis_agent as _api


class Lease:
    """A held lock. `token` is its fencing token; `lost` turns True if a renewal found the lease gone."""

    def __init__(self, answer, heartbeat=True):
        self.name = answer["name"]
        self.mode = answer["mode"]
        self.token = answer["token"]
        self.ttl = answer["ttl_ms"] / 1000
        self.expires_at = answer["expires_at"]
        self.lost = False
        self._stop = threading.Event()
        self._beat = None
        if heartbeat:
            self._beat = threading.Thread(target=self._heartbeat, name="aegis-lock-" + self.name, daemon=True)
            self._beat.start()

    def _heartbeat(self):
        while not self._stop.wait(self.ttl / 3):
            try:
                self.renew()
            except _api.AegisError as e:
                if e.code == "lease_expired":
                    self.lost = True
                    _api.log("lock %s: lease lost (%s)" % (self.name, e.message), level="warn")
                    return
            except OSError:
                pass  # the next beat retries; the lease outlives a few missed ones

    def renew(self, ttl=None):
        """Extends the lease by its ttl (or `ttl` seconds) from now."""
        body = {"name": self.name, "token": self.token}
        if ttl is not None:
            body["ttl_ms"] = int(ttl * 1000)
        answer = _api.call("locks.renew", body)
        self.ttl, self.expires_at = answer["ttl_ms"] / 1000, answer["expires_at"]
        return self

    def release(self):
        """Gives the lock to the next in line. False if the lease had already ended (expired)."""
        self._stop.set()
        return _api.call("locks.release", {"name": self.name, "token": self.token})["released"]

    def __enter__(self):
        return self.token

    def __exit__(self, *exc):
        self.release()
        return False


class _Locks:
    def acquire(self, name, mode="exclusive", ttl=30, timeout=30, heartbeat=True):
        """Waits up to `timeout` seconds for lock `name`; returns a Lease renewed in the background."""
        body = {"name": name, "mode": mode, "ttl_ms": int(ttl * 1000), "timeout_ms": int(timeout * 1000)}
        return Lease(_api.call("locks.acquire", body, timeout=timeout + 30), heartbeat)

    def try_acquire(self, name, timeout=0, **kw):
        """As acquire, but returns None instead of raising when the lock stays busy for `timeout` seconds."""
        try:
            return self.acquire(name, timeout=timeout, **kw)
        except _api.AegisError as e:
            if e.code == "lock_timeout":
                return None
            raise

    def renew(self, name, token, ttl=None):
        body = {"name": name, "token": token}
        if ttl is not None:
            body["ttl_ms"] = int(ttl * 1000)
        return _api.call("locks.renew", body)

    def release(self, name, token):
        return _api.call("locks.release", {"name": name, "token": token})["released"]


locks = _Locks()


def lock(name, mode="exclusive", ttl=30, timeout=30):
    """Takes lock `name` now (see locks.acquire); use it in `with` (yields the fencing token) or call .release()."""
    return locks.acquire(name, mode=mode, ttl=ttl, timeout=timeout)
