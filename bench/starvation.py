#!/usr/bin/env python3
"""While other load runs, hold IDLE keep-alive connections open and measure how long a fresh
client waits for GET /v1/health. Usage: starvation.py PORT IDLE SECONDS. Prints
"probe p50_ms max_ms count failures"."""
import socket, sys, threading, time

port, idle, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
REQUEST = b"GET /v1/health HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n"
stop = time.time() + seconds


def hold_idle():
    # A keep-alive client that asked once and then sits idle; reconnects when the server
    # closes it (after its keep-alive timeout), so it occupies a connection all along.
    while time.time() < stop:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(REQUEST)
            s.recv(4096)
            while time.time() < stop:
                s.settimeout(max(0.1, stop - time.time()))
                try:
                    if not s.recv(4096):
                        break  # closed by the server: reconnect
                except socket.timeout:
                    pass
            s.close()
        except OSError:
            time.sleep(0.05)


threads = [threading.Thread(target=hold_idle, daemon=True) for _ in range(idle)]
for t in threads:
    t.start()
time.sleep(1.0)  # let them connect

latencies, failures = [], 0
while time.time() < stop - 0.5:
    started = time.perf_counter()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        if data.startswith(b"HTTP/1.1 200"):
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            failures += 1
    except OSError:
        failures += 1
    time.sleep(0.2)
latencies.sort()
p50 = latencies[len(latencies) // 2] if latencies else float("nan")
worst = latencies[-1] if latencies else float("nan")
print(f"probe {p50:.1f} {worst:.1f} {len(latencies)} {failures}")
