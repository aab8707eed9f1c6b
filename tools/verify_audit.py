#!/usr/bin/env python3
"""Verify an AEGIS audit export (JSON Lines) with Python's standard library; the algorithm is docs/audit.md.
Usage: verify_audit.py EXPORT.jsonl [PUBLIC_KEY.pem]. Ed25519 is not in the stdlib: checkpoint signatures are
checked with `openssl pkeyutl` when a key is given and openssl is installed, else use `aegis audit verify`."""
import base64, hashlib, json, shutil, struct, subprocess, sys, tempfile

H = lambda b: hashlib.sha256(b).digest()
def s(x): b = x.encode(); return struct.pack('>I', len(b)) + b

def record_hash(r):  # u64(seq) s(time) ... s(reason) u32(n) n*(s(k) s(v)) prev, details in stored order
    m = struct.pack('>Q', r['seq']) + b''.join(s(r[k]) for k in ('time', 'tenant', 'actor', 'agent', 'task', 'action', 'target', 'decision', 'reason'))
    m += struct.pack('>I', len(r['details'])) + b''.join(s(k) + s(v) for k, v in r['details'].items())
    return H(m + bytes.fromhex(r['prev']))

def merkle_root(leaves):  # RFC 6962: leaf 0x00, node 0x01; pairing with an odd last node promoted
    nodes = [H(b'\0' + h) for h in leaves]
    while len(nodes) > 1:
        nodes = [H(b'\1' + nodes[i] + nodes[i + 1]) if i + 1 < len(nodes) else nodes[i] for i in range(0, len(nodes), 2)]
    return nodes[0]

def signature_ok(c, pem):
    msg = b'AEGIS-AUDIT-CHECKPOINT-v1\n' + struct.pack('>QQ', c['from'], c['to']) + s(c['time']) + bytes.fromhex(c['head']) + bytes.fromhex(c['root'])
    with tempfile.TemporaryDirectory() as d:
        open(d + '/msg', 'wb').write(msg); open(d + '/sig', 'wb').write(base64.b64decode(c['sig']))
        cmd = ['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', pem, '-rawin', '-in', d + '/msg', '-sigfile', d + '/sig']
        return subprocess.run(cmd, capture_output=True).returncode == 0

def verify(path, pem=None):
    sigs = bool(pem and shutil.which('openssl'))
    prev, leaves, expect, checkpoints = None, [], None, 0
    for line in open(path, encoding='utf-8'):
        try: e = json.loads(line)
        except ValueError as err: return broken(expect or 1, f'unreadable line ({err})')
        if e['type'] == 'record':
            if expect is not None and e['seq'] != expect: return broken(expect, f'missing: found seq {e["seq"]} in its place')
            if prev is None: prev = bytes(32) if e['seq'] == 1 else bytes.fromhex(e['prev'])  # later start: prev on trust
            h = record_hash(e)
            if h.hex() != e['hash']: return broken(e['seq'], 'edited: its content does not hash to its hash')
            if bytes.fromhex(e['prev']) != prev: return broken(e['seq'], 'does not chain onto the record before it')
            prev, expect = h, e['seq'] + 1; leaves.append(h)
        else:
            if expect is None or e['to'] != expect - 1 or len(leaves) != e['to'] - e['from'] + 1: return broken(e['from'], 'checkpoint does not fit here')
            if e['head'] != prev.hex() or e['root'] != merkle_root(leaves).hex(): return broken(e['from'], 'records do not match their checkpoint')
            if sigs and not signature_ok(e, pem): return broken(e['from'], 'bad checkpoint signature')
            leaves, checkpoints = [], checkpoints + 1
    print(f'OK: records up to seq {expect - 1 if expect else 0}, {checkpoints} checkpoints; ' + ('signatures verified with openssl' if sigs
          else 'signatures NOT verified (pass the public key PEM with openssl installed, or run `aegis audit verify`)'))
    return 0

def broken(seq, why): print(f'BROKEN at seq {seq}: {why}'); return 1

if __name__ == '__main__': sys.exit(verify(*sys.argv[1:3]))
